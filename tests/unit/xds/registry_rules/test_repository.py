"""ITI-41 repository rules (ITI TF-2b 3.41.4.1.3)."""

from __future__ import annotations

import dataclasses

from tests.unit.xds.registry_rules.conftest import OPTIONS
from xds.errors import XdsErrorCode
from xds.model import RegistryObjectList
from xds.registry_rules import SubmittedDocument, check_provide_and_register, with_repository_attributes

EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
E = XdsErrorCode


def test_matching_document_passes(dk_objects: RegistryObjectList) -> None:
    documents = {"Document01": SubmittedDocument(0, EMPTY_SHA1)}
    assert check_provide_and_register(dk_objects, documents, OPTIONS) == []


def test_missing_document_and_missing_metadata_nist_11983(dk_objects: RegistryObjectList) -> None:
    findings = check_provide_and_register(dk_objects, {}, OPTIONS)
    assert [f.error_code for f in findings] == [E.XDS_MISSING_DOCUMENT]
    extra = {"Document01": SubmittedDocument(0, EMPTY_SHA1), "Stray": SubmittedDocument(1, "0" * 40)}
    findings = check_provide_and_register(dk_objects, extra, OPTIONS)
    assert [(f.error_code, f.location) for f in findings] == [(E.XDS_MISSING_DOCUMENT_METADATA, "Stray")]


def test_bad_hash_and_size_nist_11981(dk_objects: RegistryObjectList) -> None:
    findings = check_provide_and_register(dk_objects, {"Document01": SubmittedDocument(3, "1" * 40)}, OPTIONS)
    assert [f.error_code for f in findings] == [E.XDS_REPOSITORY_METADATA_ERROR] * 2


def test_foreign_repository_too_large_and_duplicate_unique_id(dk_objects: RegistryObjectList) -> None:
    entry = dataclasses.replace(
        dk_objects.document_entries[0], repository_unique_id="9.9.9", hash=None, size=None
    )
    twin = dataclasses.replace(entry, entry_uuid="Document02")
    objects = dataclasses.replace(dk_objects, document_entries=(entry, twin))
    big = SubmittedDocument(OPTIONS.max_document_bytes + 1, "2" * 40)
    findings = check_provide_and_register(objects, {"Document01": big, "Document02": big}, OPTIONS)
    codes = [f.error_code for f in findings]
    assert codes.count(E.XDS_REPOSITORY_METADATA_ERROR) == 2
    assert codes.count(E.XDS_REPOSITORY_ERROR) == 2
    assert codes.count(E.XDS_REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE) == 1


def test_repository_completes_hash_size_and_repository_id(dk_objects: RegistryObjectList) -> None:
    entry = dataclasses.replace(
        dk_objects.document_entries[0], hash=None, size=None, repository_unique_id=None
    )
    objects = dataclasses.replace(dk_objects, document_entries=(entry,))
    completed = with_repository_attributes(
        objects, {"Document01": SubmittedDocument(42, "3" * 40)}, repository_unique_id="1.2.3"
    )
    done = completed.document_entries[0]
    assert (done.hash, done.size, done.repository_unique_id) == ("3" * 40, 42, "1.2.3")
    untouched = with_repository_attributes(objects, {}, repository_unique_id="1.2.3")
    assert untouched.document_entries[0] == entry
