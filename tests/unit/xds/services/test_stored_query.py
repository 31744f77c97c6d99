"""ITI-18 through XdsService on a real database: every stored query, ObjectRef vs LeafClass, the
single-patient rule, Danish negative consent inside the SQL, a citizen's scope and parameter errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import ForbiddenError
from hub.storage import BlockRow, Database, insert_new_txn, replace_blocks_txn
from tests import xds_builders as b
from tests.unit.xds.services.conftest import xds_settings
from tests.xds_calls import APPROVED, BOTH_STATUSES, patient_param, query, quoted
from xds import AssociationType, XdsStoredQueryError
from xds.services import Caller, XdsService, document_entries_by_uuid, find_documents
from xds.stored_queries import StoredQueryId, adhoc_query_request_element, parse_adhoc_query_request

Q = StoredQueryId
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"


@dataclass(frozen=True, slots=True)
class Loaded:
    ids: dict[str, str]  # symbolic id -> entryUUID of patient 1's first submission
    unique_ids: dict[str, str]
    appendix: str  # entryUUID of an APND document
    other: str  # entryUUID of patient 2's document


@pytest.fixture
async def loaded(service: XdsService, system: Caller) -> Loaded:
    first = b.document_entry(content=b"1", creation_time="20240101120000")
    second = dataclasses.replace(
        b.document_entry("Document02", content=b"2", class_code=b.CLASS_002, creation_time="20240301120000"),
        reference_ids=("R1^^^&1.2.3&ISO",),
    )
    folder = b.folder()
    result = await service.register(
        system,
        b.submission(
            first, second, folders=(folder,), extra=(b.has_member("Folder01", "Document01", "FD01"),)
        ),
    )
    apnd = await service.register(
        system,
        b.submission(
            b.document_entry("Appendix", content=b"3"),
            extra=(b.relation(AssociationType.APND, "Appendix", result.mapping["Document01"], "Apnd01"),),
        ),
    )
    other = await service.register(
        system, b.submission(b.document_entry(cpr=b.OTHER_PATIENT, content=b"4"), cpr=b.OTHER_PATIENT)
    )
    uids = {e.entry_uuid: e.unique_id or "" for e in result.objects.document_entries}
    return Loaded(
        ids=result.mapping,
        unique_ids={k: uids[v] for k, v in result.mapping.items() if v in uids},
        appendix=apnd.mapping["Appendix"],
        other=other.mapping["Document01"],
    )


def refs(element: etree._Element) -> list[str]:
    return [r.get("id", "") for r in element.iter(f"{{{RIM}}}ObjectRef")]


async def test_find_documents(service: XdsService, physician: Caller, loaded: Loaded) -> None:
    base = {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]}
    all_docs = await query(service, physician, Q.FIND_DOCUMENTS, base)
    assert set(refs(all_docs.response)) == {
        loaded.ids["Document01"],
        loaded.ids["Document02"],
        loaded.appendix,
    }
    by_class = await query(
        service,
        physician,
        Q.FIND_DOCUMENTS,
        {
            **base,
            "$XDSDocumentEntryClassCode": ["('001^^1.2.208.184.100.9')"],
            "$XDSDocumentEntryCreationTimeFrom": ["20240101"],
            "$XDSDocumentEntryCreationTimeTo": ["20240201"],
        },
        leaf=True,
    )
    assert [e.entry_uuid for e in by_class.result.entries] == [loaded.ids["Document01"]]
    leaf = by_class.response.find(f"{{{RIM}}}RegistryObjectList")
    assert (
        leaf is not None
        and leaf[0].get("id") == loaded.ids["Document01"]
        and leaf[0].tag == f"{{{RIM}}}ExtrinsicObject"
    )
    authored = await query(
        service, physician, Q.FIND_DOCUMENTS, {**base, "$XDSDocumentEntryAuthorPerson": ["'%jensen%'"]}
    )
    assert refs(authored.response) == []
    by_reference = await query(
        service,
        physician,
        Q.FIND_DOCUMENTS_BY_REFERENCE_ID,
        {
            "$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)],
            "$XDSDocumentEntryStatus": [APPROVED],
            "$XDSDocumentEntryReferenceIdList": ["('R1^^^&1.2.3&ISO')"],
        },
    )
    assert refs(by_reference.response) == [loaded.ids["Document02"]]


async def test_find_submission_sets_and_folders(
    service: XdsService, physician: Caller, loaded: Loaded
) -> None:
    sets = await query(
        service,
        physician,
        Q.FIND_SUBMISSION_SETS,
        {"$XDSSubmissionSetPatientId": [patient_param(b.PATIENT)], "$XDSSubmissionSetStatus": [APPROVED]},
    )
    assert len(refs(sets.response)) == 2
    folders = await query(
        service,
        physician,
        Q.FIND_FOLDERS,
        {
            "$XDSFolderPatientId": [patient_param(b.PATIENT)],
            "$XDSFolderStatus": [APPROVED],
            "$XDSFolderCodeList": ["('ALAL21^^1.2.208.176.2.4')"],
        },
    )
    assert refs(folders.response) == [loaded.ids["Folder01"]]


async def test_get_all_and_get_documents(service: XdsService, physician: Caller, loaded: Loaded) -> None:
    everything = await query(
        service,
        physician,
        Q.GET_ALL,
        {
            "$patientId": [patient_param(b.PATIENT)],
            "$XDSDocumentEntryStatus": [BOTH_STATUSES],
            "$XDSSubmissionSetStatus": [APPROVED],
            "$XDSFolderStatus": [APPROVED],
        },
        leaf=True,
    )
    result = everything.result
    assert (len(result.entries), len(result.submission_sets), len(result.folders)) == (3, 2, 1)
    # first set: HasMember to 2 documents and the folder, plus the folder's HasMember; then HasMember + APND
    assert len(result.associations) == 6
    docs = await query(
        service,
        physician,
        Q.GET_DOCUMENTS_AND_ASSOCIATIONS,
        {"$XDSDocumentEntryUniqueId": [f"('{loaded.unique_ids['Document01']}')"]},
        leaf=True,
    )
    assert [e.entry_uuid for e in docs.result.entries] == [loaded.ids["Document01"]]
    assert {a.association_type for a in docs.result.associations} == {
        AssociationType.HAS_MEMBER.value,
        AssociationType.APND.value,
    }


async def test_package_contents_and_relations(service: XdsService, physician: Caller, loaded: Loaded) -> None:
    ss_uuid, folder_uuid, doc1 = (
        loaded.ids["SubmissionSet01"],
        loaded.ids["Folder01"],
        loaded.ids["Document01"],
    )
    contents = await query(
        service,
        physician,
        Q.GET_SUBMISSION_SET_AND_CONTENTS,
        {"$XDSSubmissionSetEntryUUID": [quoted(ss_uuid)]},
    )
    r = contents.result
    assert (len(r.submission_sets), len(r.entries), len(r.folders), len(r.associations)) == (1, 2, 1, 3)
    folder = await query(
        service, physician, Q.GET_FOLDER_AND_CONTENTS, {"$XDSFolderEntryUUID": [quoted(folder_uuid)]}
    )
    assert [e.entry_uuid for e in folder.result.entries] == [doc1] and len(folder.result.associations) == 1
    holders = await query(
        service, physician, Q.GET_FOLDERS_FOR_DOCUMENT, {"$XDSDocumentEntryEntryUUID": [quoted(doc1)]}
    )
    assert refs(holders.response) == [folder_uuid]
    sets = await query(service, physician, Q.GET_SUBMISSION_SETS, {"$uuid": [f"('{doc1}')"]})
    assert refs(sets.response)[0] == ss_uuid
    links = await query(service, physician, Q.GET_ASSOCIATIONS, {"$uuid": [f"('{doc1}')"]})
    assert len(refs(links.response)) == 3  # SS HasMember, Folder HasMember, APND
    related = await query(
        service,
        physician,
        Q.GET_RELATED_DOCUMENTS,
        {
            "$XDSDocumentEntryEntryUUID": [quoted(doc1)],
            "$AssociationTypes": [f"('{AssociationType.APND.value}')"],
        },
    )
    assert set(refs(related.response)) >= {doc1, loaded.appendix}
    unrelated = await query(
        service,
        physician,
        Q.GET_RELATED_DOCUMENTS,
        {
            "$XDSDocumentEntryEntryUUID": [quoted(loaded.other)],
            "$AssociationTypes": [f"('{AssociationType.RPLC.value}')"],
        },
    )
    assert refs(unrelated.response) == []


async def test_result_not_single_patient(service: XdsService, physician: Caller, loaded: Loaded) -> None:
    both = {"$XDSDocumentEntryEntryUUID": [f"('{loaded.ids['Document01']}','{loaded.other}')"]}
    as_refs = await query(service, physician, Q.GET_DOCUMENTS, both)
    assert len(refs(as_refs.response)) == 2
    with pytest.raises(XdsStoredQueryError) as caught:
        await query(service, physician, Q.GET_DOCUMENTS, both, leaf=True)
    assert caught.value.errors[0].error_code.value == "XDSResultNotSinglePatient"


async def test_parameter_errors_are_collected() -> None:
    element = adhoc_query_request_element(Q.FIND_DOCUMENTS, {"$XDSDocumentEntryClassCode": ["('bad')"]})
    with pytest.raises(XdsStoredQueryError) as caught:
        parse_adhoc_query_request(element)
    codes = {e.error_code.value for e in caught.value.errors}
    assert "XDSStoredQueryMissingParam" in codes and len(caught.value.errors) >= 2


async def _block_everyone(service: XdsService, cpr: str) -> None:
    async def txn(conn: AsyncConnection) -> None:
        rid = await insert_new_txn(
            conn,
            res_type="Consent",
            res_id="c1",
            last_updated=1,
            patient_key=cpr,
            data=b"{}",
            method="POST",
            index=(),
        )
        await replace_blocks_txn(conn, rid, [BlockRow(cpr, "everyone", "*", None, None)])

    await service.db.run_write("block", txn)


async def test_consent_withholds_inside_the_query(
    service: XdsService, physician: Caller, citizen: Caller, loaded: Loaded
) -> None:
    await _block_everyone(service, b.PATIENT)
    base = {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]}
    answer = await query(service, physician, Q.FIND_DOCUMENTS, base)
    assert refs(answer.response) == []
    assert [w.code_context for w in answer.warnings] == [
        "some content was withheld according to the patient's consent directives"
    ]
    assert b"withheld" in etree.tostring(answer.response)
    assert b.PATIENT not in etree.tostring(answer.response).decode()
    own = await query(service, citizen, Q.FIND_DOCUMENTS, base)  # the citizen's own data is never blocked
    assert len(refs(own.response)) == 3
    consent = service.runtime.consent(physician)
    assert consent is not None
    hidden = await document_entries_by_uuid(service.db, [loaded.ids["Document01"]], consent=consent)
    assert hidden == []


async def test_citizen_scope(service: XdsService, citizen: Caller, loaded: Loaded) -> None:
    other = {
        "$XDSDocumentEntryPatientId": [patient_param(b.OTHER_PATIENT)],
        "$XDSDocumentEntryStatus": [APPROVED],
    }
    with pytest.raises(ForbiddenError):
        await query(service, citizen, Q.FIND_DOCUMENTS, other)
    # a Get* query naming another patient's object returns nothing for the citizen
    mine_and_theirs = {"$XDSDocumentEntryEntryUUID": [f"('{loaded.ids['Document01']}','{loaded.other}')"]}
    answer = await query(service, citizen, Q.GET_DOCUMENTS, mine_and_theirs)
    assert refs(answer.response) == [loaded.ids["Document01"]]


async def test_find_documents_view(service: XdsService, loaded: Loaded) -> None:
    request = parse_adhoc_query_request(
        adhoc_query_request_element(
            Q.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]},
        )
    )
    from xds.stored_queries import FindDocumentsQuery

    assert isinstance(request.query, FindDocumentsQuery)
    entries = await find_documents(service.db, request.query, limit=2)
    assert [e.entry_uuid for e in entries] == [loaded.ids["Document01"], loaded.ids["Document02"]]
    assert entries[1].reference_ids == ("R1^^^&1.2.3&ISO",)


async def test_too_many_results_is_a_clear_failure(
    database_url: str, tmp_path: Path, physician: Caller, loaded: Loaded
) -> None:
    """More objects of one kind than ``xds.max_query_results``: XDSTooManyResults, not an unbounded answer."""
    documents = {
        "$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)],
        "$XDSDocumentEntryStatus": [APPROVED],
    }
    sets = {"$XDSSubmissionSetPatientId": [patient_param(b.PATIENT)], "$XDSSubmissionSetStatus": [APPROVED]}
    for limit, documents_fit, sets_fit in ((3, True, True), (2, False, True), (1, False, False)):
        db = Database(database_url)
        limited = XdsService(xds_settings(tmp_path, max_query_results=limit), db)
        try:
            for parameters, fits, query_id in (
                (documents, documents_fit, Q.FIND_DOCUMENTS),
                (sets, sets_fit, Q.FIND_SUBMISSION_SETS),
            ):
                if fits:
                    answer = await query(limited, physician, query_id, parameters, leaf=True)
                    assert 0 < len(answer.result.objects()) <= limit
                    continue
                with pytest.raises(XdsStoredQueryError) as caught:
                    await query(limited, physician, query_id, parameters, leaf=True)
                error = caught.value.errors[0]
                assert (
                    error.error_code.value == "XDSTooManyResults"
                    and f"more than {limit}" in error.code_context
                )
        finally:
            await limited.close()
            await db.close()
