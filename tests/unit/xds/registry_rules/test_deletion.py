"""ITI-62 Delete Document Set rules (ITI TF-2b 3.62.4.1.3)."""

from __future__ import annotations

import asyncio

from tests.unit.xds.registry_rules.conftest import InMemoryRegistry, registered
from xds.errors import RegistryError, XdsErrorCode
from xds.model import RegistryObjectList
from xds.registry_rules import check_delete, gather_delete_state

E = XdsErrorCode


def _check(ids: list[str], registry: InMemoryRegistry) -> list[RegistryError]:
    return check_delete(ids, asyncio.run(gather_delete_state(ids, registry)))


def test_deleting_a_whole_submission_is_allowed(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects())
    assert _check([o.entry_uuid for o in stored.objects()], registry) == []


def test_unknown_object_nist_30000(dk_objects: RegistryObjectList) -> None:
    findings = _check(["urn:uuid:00000000-0000-4000-8000-000000000000"], InMemoryRegistry())
    assert [f.error_code for f in findings] == [E.UNRESOLVED_REFERENCE_EXCEPTION]


def test_remaining_associations_block_the_delete_nist_30001(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects())
    findings = _check([stored.document_entries[0].entry_uuid], registry)
    assert {f.error_code for f in findings} == {E.REFERENCES_EXIST_EXCEPTION}
    assert len(findings) == 2  # the SubmissionSet and the Folder membership still point at it


def test_removing_the_only_submission_set_membership_nist_30001(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects())
    membership = stored.associations[0]  # SubmissionSet HasMember Document
    findings = _check([membership.entry_uuid], registry)
    assert [(f.error_code, f.location) for f in findings] == [
        (E.XDS_UNREFERENCED_OBJECT_EXCEPTION, stored.document_entries[0].entry_uuid)
    ]
    folder_link = stored.associations[2]  # Folder HasMember Document: not a SubmissionSet membership
    assert {f.error_code for f in _check([folder_link.entry_uuid], registry)} == {
        E.REFERENCES_EXIST_EXCEPTION
    }
