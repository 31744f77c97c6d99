"""Submissions through XdsService on a real database: ITI-41/42 rules and effects, RPLC lifecycle, ITI-57
updates, ITI-62 deletes, all-or-nothing, authorisation and audit."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hub.core.errors import ForbiddenError
from hub.storage import audit_rows_txn, repository_documents_txn
from tests import xds_builders as b
from tests.xds_calls import BOTH_STATUSES, patient_param, provide, query, quoted
from xds import (
    Association,
    AssociationType,
    AvailabilityStatus,
    InternationalString,
    RegistryObjectList,
    RemoveObjectsRequest,
    SubmitObjectsRequest,
    XdsError,
)
from xds.services import Caller, XdsService, document_entries_by_unique_id
from xds.services.submission import lock_keys
from xds.stored_queries import StoredQueryId

FIND = StoredQueryId.FIND_DOCUMENTS


def codes_of(error: XdsError) -> set[str]:
    return {e.error_code.value for e in error.errors if e.is_error}


async def test_provide_and_register_stores_registers_and_audits(service: XdsService, system: Caller) -> None:
    content = b.cda_document()
    request = b.submission()
    result = await provide(service, system, request, {"Document01": content})
    entry = result.objects.document_entries[0]
    assert entry.entry_uuid.startswith("urn:uuid:") and entry.logical_id == entry.entry_uuid
    assert (
        entry.size == len(content) and entry.repository_unique_id == service.settings.xds.repository_unique_id
    )
    stored = await service.db.run("r", repository_documents_txn, [entry.unique_id or ""])
    assert stored[entry.unique_id or ""].sha1 == entry.hash
    assert service.runtime.blobs.exists(stored[entry.unique_id or ""].sha256)
    rows = await service.db.run("a", audit_rows_txn, 0, 100)
    assert [r.action for r in rows] == ["ITI-41"] and rows[0].patient_key == b.PATIENT
    assert b"municipality-system" in rows[0].record and (entry.unique_id or "").encode() in rows[0].record


async def test_repository_rules_reject_everything(service: XdsService, system: Caller) -> None:
    request = b.submission(b.document_entry(content=b"other bytes"))
    with pytest.raises(XdsError) as caught:
        await provide(service, system, request, {"Document01": b"these bytes", "Extra": b"x"})
    assert codes_of(caught.value) >= {"XDSRepositoryMetadataError", "XDSMissingDocumentMetadata"}
    with pytest.raises(XdsError) as missing:
        await provide(service, system, b.submission(), {})
    assert "XDSMissingDocument" in codes_of(missing.value)
    uid = request.objects.document_entries[0].unique_id or ""
    assert await document_entries_by_unique_id(service.db, [uid]) == []


async def test_register_rules_and_duplicates(service: XdsService, system: Caller) -> None:
    content = b.cda_document()
    entry = b.document_entry(content=content)
    await service.register(system, b.submission(entry))
    again = await service.register(system, b.submission(dataclasses.replace(entry)))  # identical: allowed
    assert again.objects.document_entries[0].unique_id == entry.unique_id
    changed = dataclasses.replace(entry, hash="0" * 40)
    with pytest.raises(XdsError) as duplicate:
        await service.register(system, b.submission(changed))
    assert "XDSDuplicateUniqueIdInRegistry" in codes_of(duplicate.value) or "XDSNonIdenticalHash" in codes_of(
        duplicate.value
    )
    mixed = b.submission(b.document_entry(cpr=b.OTHER_PATIENT, content=content))
    with pytest.raises(XdsError) as mismatch:
        await service.register(system, mixed)
    assert "XDSPatientIdDoesNotMatch" in codes_of(mismatch.value)


async def test_replacement_deprecates_original_and_joins_its_folders(
    service: XdsService, system: Caller, physician: Caller
) -> None:
    folder = b.folder()
    original = b.document_entry(content=b"v1")
    first = await service.register(
        system,
        b.submission(original, folders=(folder,), extra=(b.has_member("Folder01", "Document01", "FD01"),)),
    )
    original_uuid = first.mapping["Document01"]
    folder_uuid = first.mapping["Folder01"]
    replacement = b.document_entry("Document02", content=b"v2")
    rplc = b.relation(AssociationType.RPLC, "Document02", original_uuid, "Rplc01")
    second = await service.register(system, b.submission(replacement, extra=(rplc,)))
    assert second.changes.deprecated == (original_uuid,)
    answer = await query(
        service,
        physician,
        FIND,
        {
            "$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)],
            "$XDSDocumentEntryStatus": [BOTH_STATUSES],
        },
        leaf=True,
    )
    statuses = {e.header.entry_uuid: e.header.status for e in answer.result.entries}
    assert statuses == {original_uuid: "Deprecated", second.mapping["Document02"]: "Approved"}
    contents = await query(
        service,
        physician,
        StoredQueryId.GET_FOLDER_AND_CONTENTS,
        {"$XDSFolderEntryUUID": [quoted(folder_uuid)]},
    )
    assert second.mapping["Document02"] in {e.entry_uuid for e in contents.result.entries}
    folders = await query(
        service,
        physician,
        StoredQueryId.GET_FOLDERS,
        {"$XDSFolderEntryUUID": [quoted(folder_uuid)]},
        leaf=True,
    )
    assert b"lastUpdateTime" in folders.result.folders[0].header.ebrim
    with pytest.raises(XdsError) as again:  # a deprecated document cannot be replaced again
        await service.register(system, b.submission(b.document_entry("Document03"), extra=(rplc,)))
    assert codes_of(again.value)


async def test_metadata_update_versions_and_status(service: XdsService, system: Caller) -> None:
    first = await service.register(system, b.submission(b.document_entry(content=b"x")))
    uuid = first.mapping["Document01"]
    original = first.objects.document_entries[0]
    new_version = dataclasses.replace(
        original,
        entry_uuid="Document02",
        logical_id=uuid,
        version=None,
        comments=InternationalString.of("fixed"),
    )
    sset = b.submission_set()
    membership = dataclasses.replace(
        b.has_member(sset.entry_uuid, "Document02", "HM01"), previous_version="1"
    )
    update = SubmitObjectsRequest(
        RegistryObjectList(
            document_entries=(new_version,), submission_sets=(sset,), associations=(membership,)
        )
    )
    result = await service.update(system, update)
    assert result.objects.document_entries[0].version == "2"
    versions = await document_entries_by_unique_id(service.db, [original.unique_id or ""])
    assert {(e.version, e.availability_status) for e in versions} == {
        ("1", AvailabilityStatus.DEPRECATED),
        ("2", AvailabilityStatus.APPROVED),
    }
    stale = b.status_update(uuid, AvailabilityStatus.APPROVED, original=AvailabilityStatus.DEPRECATED)
    with pytest.raises(XdsError) as caught:
        await service.update(system, stale)
    assert "XDSMetadataVersionError" in codes_of(caught.value)


async def test_metadata_level_1_hides_earlier_versions_and_deprecated_links(
    service: XdsService, system: Caller, physician: Caller
) -> None:
    """$MetadataLevel 1 (the default) shows a consumer without the Metadata Update option only the latest
    version of each DocumentEntry and no Deprecated association; level 2 shows everything asked for."""
    first = await service.register(system, b.submission(b.document_entry(content=b"x")))
    uuid = first.mapping["Document01"]
    new_version = dataclasses.replace(
        first.objects.document_entries[0], entry_uuid="Document02", logical_id=uuid, version=None
    )
    sset = b.submission_set()
    membership = dataclasses.replace(
        b.has_member(sset.entry_uuid, "Document02", "HM01"), previous_version="1"
    )
    updated = await service.update(
        system,
        SubmitObjectsRequest(
            RegistryObjectList(
                document_entries=(new_version,), submission_sets=(sset,), associations=(membership,)
            )
        ),
    )
    latest = updated.objects.document_entries[0].entry_uuid
    for level, expected in (("1", {latest}), ("2", {uuid, latest})):
        found = await query(
            service,
            physician,
            StoredQueryId.GET_DOCUMENTS,
            {"$XDSDocumentEntryLogicalID": [quoted(uuid)], "$MetadataLevel": [level]},
        )
        assert {e.header.entry_uuid for e in found.result.entries} == expected, level
    default = await query(
        service, physician, StoredQueryId.GET_DOCUMENTS, {"$XDSDocumentEntryLogicalID": [quoted(uuid)]}
    )
    assert {e.header.entry_uuid for e in default.result.entries} == {latest}
    deprecated = {
        "$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)],
        "$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"],
    }
    hidden = await query(service, physician, FIND, deprecated)
    assert hidden.result.entries == []  # version 1 is Deprecated, and not the latest
    shown = await query(service, physician, FIND, {**deprecated, "$MetadataLevel": ["2"]})
    assert [e.header.entry_uuid for e in shown.result.entries] == [uuid]
    assocs = {
        "$XDSDocumentEntryEntryUUID": [quoted(uuid)],
        "$XDSAssociationStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"],
    }
    gone = await query(
        service, physician, StoredQueryId.GET_DOCUMENTS_AND_ASSOCIATIONS, {**assocs, "$MetadataLevel": ["1"]}
    )
    assert gone.result.associations == [] and gone.result.entries == []


async def test_metadata_update_links_two_registered_documents(
    service: XdsService, system: Caller, physician: Caller
) -> None:
    """ITI-57 Submit Association: APND between two registered, Approved documents (NIST MU 21004)."""
    first = await service.register(system, b.submission(b.document_entry(content=b"x")))
    second = await service.register(system, b.submission(b.document_entry(content=b"y")))
    source, target = first.mapping["Document01"], second.mapping["Document01"]

    def link_update() -> SubmitObjectsRequest:
        sset = b.submission_set()
        link = b.relation(AssociationType.APND, source, target, "Link01")
        member = Association(
            entry_uuid="HM01",
            association_type=AssociationType.HAS_MEMBER,
            source=sset.entry_uuid,
            target="Link01",
        )
        return SubmitObjectsRequest(RegistryObjectList(submission_sets=(sset,), associations=(member, link)))

    linked = await service.update(system, link_update())
    related = await query(
        service,
        physician,
        StoredQueryId.GET_RELATED_DOCUMENTS,
        {
            "$XDSDocumentEntryEntryUUID": [quoted(source)],
            "$AssociationTypes": [quoted(AssociationType.APND.value)],
        },
        leaf=True,
    )
    objects = related.result
    assert {e.header.entry_uuid for e in objects.entries} == {source, target}
    assert [(a.source, a.target) for a in objects.associations] == [(source, target)]
    await service.update(system, b.status_update(linked.mapping["Link01"]))  # the link is retired
    deprecated_links = {
        "$XDSDocumentEntryEntryUUID": [quoted(source)],
        "$XDSAssociationStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"],
    }
    for level, count in (("1", 0), ("2", 1)):  # $MetadataLevel 1 hides Deprecated associations
        found = await query(
            service,
            physician,
            StoredQueryId.GET_DOCUMENTS_AND_ASSOCIATIONS,
            {**deprecated_links, "$MetadataLevel": [level]},
        )
        assert len(found.result.associations) == count, level
    await service.update(system, b.status_update(source))  # the source document is deprecated
    with pytest.raises(XdsError) as caught:
        await service.update(system, link_update())
    assert "XDSRegistryDeprecatedDocumentError" in codes_of(caught.value)  # (and the duplicate link)


async def test_delete_rules_and_effect(service: XdsService, system: Caller, admin: Caller) -> None:
    result = await service.register(system, b.submission(b.document_entry(content=b"x")))
    doc, ss, hm = (result.mapping[k] for k in ("Document01", "SubmissionSet01", "SSMember01"))
    with pytest.raises(ForbiddenError):
        await service.delete(system, RemoveObjectsRequest((doc,)))
    with pytest.raises(XdsError) as refs:
        await service.delete(admin, RemoveObjectsRequest((doc,)))
    assert "ReferencesExistException" in codes_of(refs.value)
    with pytest.raises(XdsError) as empty:
        await service.delete(admin, RemoveObjectsRequest((doc, hm)))
    assert "XDSUnreferencedObjectException" in codes_of(empty.value)
    with pytest.raises(XdsError) as unknown:
        await service.delete(admin, RemoveObjectsRequest(("urn:uuid:00000000-0000-4000-8000-000000000000",)))
    assert "UnresolvedReferenceException" in codes_of(unknown.value)
    deleted = await service.delete(admin, RemoveObjectsRequest((doc, hm, ss)))
    assert set(deleted.deleted) == {doc, hm, ss} and deleted.patient_keys == (b.PATIENT,)
    assert (
        await document_entries_by_unique_id(service.db, [result.objects.document_entries[0].unique_id or ""])
        == []
    )


async def test_authorisation(service: XdsService, physician: Caller, citizen: Caller) -> None:
    with pytest.raises(ForbiddenError):
        await service.register(physician, b.submission())
    with pytest.raises(ForbiddenError):
        await service.register(citizen, b.submission())
    # refusals are queued for the batching writer (they change nothing), not written in a transaction
    await service.runtime.audit.close()  # waits for a flush in flight, then flushes
    refused = await service.db.run("a", audit_rows_txn, 0, 100)
    assert [(r.action, r.outcome) for r in refused] == [("ITI-42", "4"), ("ITI-42", "4")]


async def test_unknown_patient_with_a_patient_registry(
    database_url: str, tmp_path: object, system: Caller
) -> None:
    from pathlib import Path

    from hub.storage import Database
    from tests.unit.xds.services.conftest import xds_settings

    db = Database(database_url)
    svc = XdsService(xds_settings(Path(str(tmp_path)), patient_registry=True), db)
    try:
        with pytest.raises(XdsError) as caught:
            await svc.register(system, b.submission())
        assert "XDSUnknownPatientId" in codes_of(caught.value)
    finally:
        await svc.close()
        await db.close()


async def test_update_refuses_an_association_that_exists(service: XdsService, system: Caller) -> None:
    folder = b.folder()
    first = await service.register(
        system,
        b.submission(
            b.document_entry(content=b"x"),
            folders=(folder,),
            extra=(b.has_member("Folder01", "Document01", "FD01"),),
        ),
    )
    again = b.has_member(first.mapping["Folder01"], first.mapping["Document01"], "FD02")
    sset = b.submission_set()
    submit_link = Association(
        entry_uuid="SA01",
        association_type=AssociationType.SUBMIT_ASSOCIATION,
        source=sset.entry_uuid,
        target="FD02",
    )
    update = SubmitObjectsRequest(
        RegistryObjectList(submission_sets=(sset,), associations=(submit_link, again))
    )
    with pytest.raises(XdsError) as caught:
        await service.update(system, update)
    assert "XDSMetadataUpdateError" in codes_of(caught.value)


async def test_two_replacements_of_one_document_at_once(service: XdsService, system: Caller) -> None:
    # PostgreSQL runs both in parallel: the second must see the first's deprecation and fail, as in sequence
    first = await service.register(system, b.submission(b.document_entry(content=b"v1")))
    original_uuid = first.mapping["Document01"]

    async def replace(content: bytes) -> object:
        rplc = b.relation(AssociationType.RPLC, "Document02", original_uuid, "Rplc01")
        request = b.submission(b.document_entry("Document02", content=content), extra=(rplc,))
        try:
            return await service.register(system, request)
        except XdsError as exc:
            return exc

    outcomes = await asyncio.gather(replace(b"v2"), replace(b"v3"))
    failures = [o for o in outcomes if isinstance(o, XdsError)]
    assert len(failures) == 1 and codes_of(failures[0]) == {"XDSRegistryDeprecatedDocumentError"}


def test_lock_keys_name_unique_ids_and_existing_targets_not_symbolic_ids() -> None:
    existing = "urn:uuid:6a0b3ac5-4a3e-4b5c-9d43-0c56f1b8a001"
    request = b.submission(
        b.document_entry("Document02", content=b"v2"),
        extra=(b.relation(AssociationType.RPLC, "Document02", existing, "Rplc01"),),
    )
    objects = request.objects
    keys = lock_keys(objects)
    entry, sset = objects.document_entries[0], objects.submission_sets[0]
    assert keys == {
        f"uid:DocumentEntry:{entry.unique_id}",
        f"uid:SubmissionSet:{sset.unique_id}",
        f"obj:{existing}",
    }
