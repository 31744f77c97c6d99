"""ITI-18 AdhocQueryRequest parsing into stored-query specs (ITI TF-2a 3.18.4.1.2.3.7, 3.18.4.1.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pytest
from lxml import etree

from tests.conftest import testdata_path
from xds.codes import AssociationType, AvailabilityStatus, DocumentEntryType
from xds.errors import XdsErrorCode, XdsStoredQueryError
from xds.stored_queries import (
    FindDocumentsQuery,
    FindFoldersQuery,
    FindSubmissionSetsQuery,
    GetAllQuery,
    GetAssociationsQuery,
    GetDocumentsQuery,
    GetFolderAndContentsQuery,
    GetFoldersForDocumentQuery,
    GetFoldersQuery,
    GetRelatedDocumentsQuery,
    GetSubmissionSetAndContentsQuery,
    GetSubmissionSetsQuery,
    QueryCode,
    ReturnType,
    StoredQueryId,
    StoredQueryRequest,
    adhoc_query_request_element,
    parse_adhoc_query_request,
)

PATIENT = "'2512489996^^^&1.2.208.176.1.2&ISO'"
APPROVED = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"


def _parse(
    query_id: StoredQueryId,
    params: Mapping[str, Sequence[str]],
    return_type: ReturnType = ReturnType.OBJECT_REF,
) -> StoredQueryRequest:
    element = adhoc_query_request_element(query_id, params, return_type=return_type)
    return parse_adhoc_query_request(etree.fromstring(etree.tostring(element)))


def _codes(query_id: StoredQueryId, params: Mapping[str, Sequence[str]]) -> list[XdsErrorCode]:
    with pytest.raises(XdsStoredQueryError) as caught:
        _parse(query_id, params)
    return [e.error_code for e in caught.value.errors]


def test_find_documents_full() -> None:
    request = _parse(
        StoredQueryId.FIND_DOCUMENTS,
        {
            "$XDSDocumentEntryPatientId": [PATIENT],
            "$XDSDocumentEntryStatus": [
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',"
                "'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"
            ],
            "$XDSDocumentEntryClassCode": ["('001^^1.2.208.184.100.9')", "('002^^1.2.208.184.100.9')"],
            "$XDSDocumentEntryCreationTimeFrom": ["20240101"],
            "$XDSDocumentEntryCreationTimeTo": ["20250101"],
            "$XDSDocumentEntryAuthorPerson": ["('%Jensen%')"],
            "$XDSDocumentEntryType": ["('urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')"],
            "$XDSDocumentEntryIgnoredUnknownParameter": ["'x'"],
        },
        ReturnType.LEAF_CLASS,
    )
    assert request.return_type is ReturnType.LEAF_CLASS
    query = request.query
    assert isinstance(query, FindDocumentsQuery)
    assert query.patient_id.id == "2512489996"
    assert query.statuses == {AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED}
    assert query.class_codes is not None
    # two Value elements in ONE slot: OR
    assert query.class_codes.groups == (
        (QueryCode("001", "1.2.208.184.100.9"), QueryCode("002", "1.2.208.184.100.9")),
    )
    assert query.creation_time is not None and (query.creation_time.from_, query.creation_time.to) == (
        "20240101",
        "20250101",
    )
    assert query.author_persons is not None and query.author_persons.patterns == ("%Jensen%",)
    assert query.object_types == {DocumentEntryType.ON_DEMAND}
    assert query.reference_ids is None


def _slots_xml(slots: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f'<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>'
        for name, value in slots
    )
    return (
        '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        '<query:ResponseOption returnType="ObjectRef"/>'
        f'<rim:AdhocQuery id="{StoredQueryId.FIND_DOCUMENTS.value}">{body}</rim:AdhocQuery>'
        "</query:AdhocQueryRequest>"
    ).encode()


def test_repeated_code_slots_are_and() -> None:
    xml = _slots_xml(
        [
            ("$XDSDocumentEntryPatientId", "'p^^^&amp;1.2&amp;ISO'"),
            ("$XDSDocumentEntryStatus", APPROVED),
            ("$XDSDocumentEntryEventCodeList", "('a^^s')"),
            ("$XDSDocumentEntryEventCodeList", "('b^^s','c^^s')"),
        ]
    )
    query = parse_adhoc_query_request(etree.fromstring(xml)).query
    assert isinstance(query, FindDocumentsQuery) and query.event_codes is not None
    assert query.event_codes.groups == ((QueryCode("a", "s"),), (QueryCode("b", "s"), QueryCode("c", "s")))
    assert query.object_types == {DocumentEntryType.STABLE}  # default


def test_find_documents_by_reference_id() -> None:
    request = _parse(
        StoredQueryId.FIND_DOCUMENTS_BY_REFERENCE_ID,
        {
            "$XDSDocumentEntryPatientId": [PATIENT],
            "$XDSDocumentEntryStatus": [APPROVED],
            "$XDSDocumentEntryReferenceIdList": ["('ref1^^^&1.2&ISO^urn:ihe:iti:xds:2013:uniqueId')"],
        },
    )
    assert isinstance(request.query, FindDocumentsQuery)
    assert request.query.reference_ids is not None
    assert request.query.reference_ids.groups == (("ref1^^^&1.2&ISO^urn:ihe:iti:xds:2013:uniqueId",),)
    assert XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM in _codes(
        StoredQueryId.FIND_DOCUMENTS_BY_REFERENCE_ID,
        {"$XDSDocumentEntryPatientId": [PATIENT], "$XDSDocumentEntryStatus": [APPROVED]},
    )


def test_every_query_id_builds_its_spec() -> None:
    uuid_list = "('urn:uuid:11111111-1111-1111-1111-111111111111')"
    cases: list[tuple[StoredQueryId, dict[str, list[str]], type]] = [
        (
            StoredQueryId.FIND_SUBMISSION_SETS,
            {
                "$XDSSubmissionSetPatientId": [PATIENT],
                "$XDSSubmissionSetStatus": [APPROVED],
                "$XDSSubmissionSetAuthorPerson": ["'%X%'"],
                "$XDSSubmissionSetSourceId": ["('1.2')"],
            },
            FindSubmissionSetsQuery,
        ),
        (
            StoredQueryId.FIND_FOLDERS,
            {
                "$XDSFolderPatientId": [PATIENT],
                "$XDSFolderStatus": [APPROVED],
                "$XDSFolderLastUpdateTimeFrom": ["2024"],
            },
            FindFoldersQuery,
        ),
        (
            StoredQueryId.GET_ALL,
            {
                "$patientId": [PATIENT],
                "$XDSDocumentEntryStatus": [APPROVED],
                "$XDSSubmissionSetStatus": [APPROVED],
                "$XDSFolderStatus": [APPROVED],
            },
            GetAllQuery,
        ),
        (
            StoredQueryId.GET_DOCUMENTS,
            {"$XDSDocumentEntryUniqueId": ["('1.2^a','1.2^b')"], "$MetadataLevel": ["2"]},
            GetDocumentsQuery,
        ),
        (
            StoredQueryId.GET_DOCUMENTS_AND_ASSOCIATIONS,
            {"$XDSDocumentEntryEntryUUID": [uuid_list]},
            GetDocumentsQuery,
        ),
        (StoredQueryId.GET_FOLDERS, {"$XDSFolderLogicalID": [uuid_list]}, GetFoldersQuery),
        (
            StoredQueryId.GET_ASSOCIATIONS,
            {"$uuid": [uuid_list], "$XDSAssociationStatus": [APPROVED]},
            GetAssociationsQuery,
        ),
        (StoredQueryId.GET_SUBMISSION_SETS, {"$uuid": [uuid_list]}, GetSubmissionSetsQuery),
        (
            StoredQueryId.GET_SUBMISSION_SET_AND_CONTENTS,
            {"$XDSSubmissionSetUniqueId": ["'1.2.3'"], "$XDSDocumentEntryFormatCode": ["('f^^s')"]},
            GetSubmissionSetAndContentsQuery,
        ),
        (
            StoredQueryId.GET_FOLDER_AND_CONTENTS,
            {"$XDSFolderEntryUUID": ["'urn:uuid:1'"]},
            GetFolderAndContentsQuery,
        ),
        (
            StoredQueryId.GET_FOLDERS_FOR_DOCUMENT,
            {"$XDSDocumentEntryUniqueId": ["'1.2^a'"], "$homeCommunityId": ["'urn:oid:1.2'"]},
            GetFoldersForDocumentQuery,
        ),
        (
            StoredQueryId.GET_RELATED_DOCUMENTS,
            {
                "$XDSDocumentEntryEntryUUID": ["'urn:uuid:1'"],
                "$AssociationTypes": [
                    "('urn:ihe:iti:2007:AssociationType:RPLC','urn:ihe:iti:2007:AssociationType:APND')"
                ],
            },
            GetRelatedDocumentsQuery,
        ),
    ]
    for query_id, params, kind in cases:
        request = _parse(query_id, params)
        assert isinstance(request.query, kind), query_id
    documents = _parse(StoredQueryId.GET_DOCUMENTS, cases[3][1])
    assert isinstance(documents.query, GetDocumentsQuery)
    assert documents.query.selector.unique_ids == ("1.2^a", "1.2^b") and documents.metadata_level == 2
    related = _parse(cases[-1][0], cases[-1][1]).query
    assert isinstance(related, GetRelatedDocumentsQuery)
    assert related.association_types == {AssociationType.RPLC, AssociationType.APND}
    folders = _parse(cases[-2][0], cases[-2][1])
    assert folders.home_community_id == "urn:oid:1.2"
    contents = _parse(cases[8][0], cases[8][1]).query
    assert isinstance(contents, GetSubmissionSetAndContentsQuery)
    assert contents.documents.format_codes is not None and contents.selector.unique_ids == ("1.2.3",)
    assert {q for q, _, _ in cases} | {
        StoredQueryId.FIND_DOCUMENTS,
        StoredQueryId.FIND_DOCUMENTS_BY_REFERENCE_ID,
    } == set(StoredQueryId)


@pytest.mark.parametrize(
    ("query_id", "params", "code"),
    [
        (
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryStatus": [APPROVED]},
            XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": [PATIENT]},
            XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": ["('a^^^&1.2&ISO','b^^^&1.2&ISO')"],
                "$XDSDocumentEntryStatus": [APPROVED],
            },
            XdsErrorCode.XDS_STORED_QUERY_PARAM_NUMBER,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": ["'no-authority'"], "$XDSDocumentEntryStatus": [APPROVED]},
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": [PATIENT], "$XDSDocumentEntryStatus": ["('Approved')"]},
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": [PATIENT],
                "$XDSDocumentEntryStatus": [APPROVED],
                "$XDSDocumentEntryPracticeSettingCode": ["('Dialysis')"],
            },
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": [PATIENT],
                "$XDSDocumentEntryStatus": [APPROVED],
                "$XDSDocumentEntryClassCode": ["('a^^1.2', 'b^^')"],
            },
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": [PATIENT],
                "$XDSDocumentEntryStatus": [APPROVED],
                "$XDSDocumentEntryCreationTimeFrom": ["2024-01-01"],
            },
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": [PATIENT],
                "$XDSDocumentEntryStatus": [APPROVED],
                "$XDSDocumentEntryType": ["('urn:uuid:nope')"],
            },
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": [PATIENT], "$XDSDocumentEntryStatus": ["('unbalanced'"]},
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
        (StoredQueryId.GET_DOCUMENTS, {}, XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM),
        (
            StoredQueryId.GET_DOCUMENTS,
            {"$XDSDocumentEntryUniqueId": ["('a')"], "$XDSDocumentEntryEntryUUID": ["('b')"]},
            XdsErrorCode.XDS_STORED_QUERY_PARAM_NUMBER,
        ),
        (
            StoredQueryId.GET_SUBMISSION_SET_AND_CONTENTS,
            {"$XDSSubmissionSetUniqueId": ["('a','b')"]},
            XdsErrorCode.XDS_STORED_QUERY_PARAM_NUMBER,
        ),
        (
            StoredQueryId.GET_DOCUMENTS,
            {"$XDSDocumentEntryUniqueId": ["('a')"], "$MetadataLevel": ["3"]},
            XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
        ),
        (
            StoredQueryId.GET_RELATED_DOCUMENTS,
            {"$XDSDocumentEntryEntryUUID": ["'u'"]},
            XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM,
        ),
        (
            StoredQueryId.GET_RELATED_DOCUMENTS,
            {"$XDSDocumentEntryEntryUUID": ["'u'"], "$AssociationTypes": ["('HasMember')"]},
            XdsErrorCode.XDS_REGISTRY_ERROR,
        ),
    ],
)
def test_parameter_errors(
    query_id: StoredQueryId, params: Mapping[str, Sequence[str]], code: XdsErrorCode
) -> None:
    assert code in _codes(query_id, params)


def test_repeated_non_and_parameter_and_all_errors_at_once() -> None:
    xml = _slots_xml(
        [
            ("$XDSDocumentEntryStatus", APPROVED),
            ("$XDSDocumentEntryStatus", APPROVED),
            ("$XDSDocumentEntryCreationTimeFrom", "x"),
        ]
    )
    with pytest.raises(XdsStoredQueryError) as caught:
        parse_adhoc_query_request(etree.fromstring(xml))
    codes = [e.error_code for e in caught.value.errors]
    assert codes.count(XdsErrorCode.XDS_STORED_QUERY_PARAM_NUMBER) == 1
    assert XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM in codes
    assert XdsErrorCode.XDS_REGISTRY_ERROR in codes
    assert {e.location for e in caught.value.errors} >= {
        "$XDSDocumentEntryStatus",
        "$XDSDocumentEntryPatientId",
    }


def test_unknown_query_and_return_type() -> None:
    unknown = (
        b'<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        b'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        b'<rim:AdhocQuery id="urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f"/></query:AdhocQueryRequest>'
    )
    with pytest.raises(XdsStoredQueryError) as caught:
        parse_adhoc_query_request(etree.fromstring(unknown))
    assert caught.value.errors[0].error_code is XdsErrorCode.XDS_UNKNOWN_STORED_QUERY
    no_query = b'<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>'
    with pytest.raises(XdsStoredQueryError) as caught:
        parse_adhoc_query_request(etree.fromstring(no_query))
    assert caught.value.errors[0].error_code is XdsErrorCode.XDS_UNKNOWN_STORED_QUERY
    with pytest.raises(XdsStoredQueryError):
        parse_adhoc_query_request(etree.Element("other"))
    element = adhoc_query_request_element(
        StoredQueryId.GET_DOCUMENTS, {"$XDSDocumentEntryUniqueId": ["('a')"]}
    )
    element[0].set("returnType", "LeafClassWithRepositoryItem")
    with pytest.raises(XdsStoredQueryError) as caught:
        parse_adhoc_query_request(element)
    assert caught.value.errors[0].location == "returnType"


@pytest.mark.needs_testdata
def test_nist_testkit_queries_parse() -> None:
    """Every NIST query whose placeholders are filled parses; those that fail are templates or deliberate."""
    root = testdata_path("xds", "nist-testkit", "tests")
    parsed = 0
    for path in sorted(root.rglob("*.xml")):
        data = path.read_bytes()
        if b"AdhocQueryRequest" not in data or b"$" in re.sub(
            rb"\$(XDS|uuid|patientId|homeCommunityId|MetadataLevel|AssociationTypes)", b"", data
        ):
            continue
        element = etree.fromstring(data)
        if not element.tag.endswith("AdhocQueryRequest"):
            continue
        try:
            parse_adhoc_query_request(element)
        except XdsStoredQueryError as exc:
            assert {e.error_code for e in exc.errors} <= {
                XdsErrorCode.XDS_UNKNOWN_STORED_QUERY,
                XdsErrorCode.XDS_REGISTRY_ERROR,
                XdsErrorCode.XDS_STORED_QUERY_PARAM_NUMBER,
            }, path
        else:
            parsed += 1
    assert parsed > 10
