"""The SOAP doors over HTTP: every transaction's happy path, the action picks the transaction, wrong doors and
malformed envelopes are SOAP Faults, XDS errors are Failure responses with their codes, status pages."""

from __future__ import annotations

import dataclasses

import httpx
from lxml import etree

from conformance.suites.xds_client import SOAP_XML, XdsClient, read_reply
from tests import xds_builders as b
from tests.xds_calls import APPROVED, patient_param, quoted
from xds import Action, AssociationType, DocumentRequest
from xds.stored_queries import ReturnType, StoredQueryId, adhoc_query_request_element

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


async def _submit_one(xds: XdsClient, content: bytes) -> tuple[str, str]:
    request = b.submission()
    reply = await xds.provide_and_register(request, {"Document01": (content, "text/xml")})
    assert reply.status == "Success", reply.fault or reply.response
    return request.objects.document_entries[0].unique_id or "", request.objects.submission_sets[
        0
    ].unique_id or ""


async def test_every_transaction_through_the_doors(xds: XdsClient) -> None:
    content = b.cda_document()
    uid, ss_uid = await _submit_one(xds, content)
    found = await xds.query(
        adhoc_query_request_element(
            StoredQueryId.GET_SUBMISSION_SET_AND_CONTENTS,
            {"$XDSSubmissionSetUniqueId": [quoted(ss_uid)]},
            return_type=ReturnType.LEAF_CLASS,
        )
    )
    assert found.status == "Success" and found.response is not None and found.response.objects is not None
    objects = found.response.objects
    doc_uuid = objects.document_entries[0].entry_uuid
    assert objects.document_entries[0].unique_id == uid and objects.document_entries[0].hash is not None
    retrieved = await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])
    assert retrieved.documents() == {uid: content}
    registered = await xds.register(
        b.submission(
            b.document_entry("Document02", content=b"x"),
            extra=(b.relation(AssociationType.APND, "Document02", doc_uuid, "Apnd01"),),
        )
    )
    assert registered.status == "Success"
    assert registered.response is not None and registered.response.errors == ()


async def test_failure_response_carries_codes_and_stores_nothing(xds: XdsClient) -> None:
    request = b.submission()
    uid = request.objects.document_entries[0].unique_id or ""
    reply = await xds.provide_and_register(request, {})  # metadata pointing at a missing document
    assert reply.status_code == 200 and reply.status == "Failure"
    assert "XDSMissingDocument" in reply.error_codes
    query = await xds.query(
        adhoc_query_request_element(
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]},
        )
    )
    assert query.payload is not None and not list(query.payload.iter("{*}ObjectRef"))
    retrieved = await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])
    assert retrieved.status == "Failure" and retrieved.error_codes == ("XDSDocumentUniqueIdError",)


async def test_retrieve_partial_success_and_unknown_repository(xds: XdsClient) -> None:
    uid, _ = await _submit_one(xds, b.cda_document())
    reply = await xds.retrieve(
        [
            DocumentRequest(b.REPOSITORY_ID, uid),
            DocumentRequest(b.REPOSITORY_ID, "2.25.1"),
            DocumentRequest("1.2.3.4", uid),
        ]
    )
    assert reply.status == "PartialSuccess"
    assert sorted(reply.error_codes) == ["XDSDocumentUniqueIdError", "XDSUnknownRepositoryId"]
    assert list(reply.documents()) == [uid]


async def test_stored_query_errors(xds: XdsClient) -> None:
    missing = await xds.query(adhoc_query_request_element(StoredQueryId.FIND_DOCUMENTS, {}))
    assert missing.status == "Failure" and "XDSStoredQueryMissingParam" in missing.error_codes
    element = adhoc_query_request_element(StoredQueryId.FIND_DOCUMENTS, {})
    element.find("{*}AdhocQuery").set("id", "urn:uuid:00000000-0000-0000-0000-000000000000")  # type: ignore[union-attr]
    unknown = await xds.query(element)
    assert unknown.status == "Failure" and unknown.error_codes == ("XDSUnknownStoredQuery",)
    assert unknown.payload is not None and etree.QName(unknown.payload).localname == "AdhocQueryResponse"


async def test_wrong_door_and_unknown_action_are_faults(xds: XdsClient) -> None:
    query = adhoc_query_request_element(StoredQueryId.FIND_DOCUMENTS, {})
    wrong_door = await xds.call(Action.ITI_18, query, url="/xds/repository")
    assert (
        wrong_door.fault is not None and "/xds/registry" in wrong_door.fault and wrong_door.status_code == 400
    )
    unknown = await xds.call("urn:example:NotAnAction", query)
    assert unknown.fault is not None and unknown.status_code == 400
    assert unknown.payload is not None
    subcode = unknown.payload.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    assert subcode == "wsa:ActionNotSupported"


async def test_malformed_envelopes(http: httpx.AsyncClient) -> None:
    cases = {
        b"<not-xml": 400,
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>': 400,
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x/></e:Body>'
        b"</e:Envelope>": 400,
        b"": 400,
    }
    for body, status in cases.items():
        answer = await http.post("/xds/registry", content=body, headers={"content-type": SOAP_XML})
        reply = read_reply(answer.status_code, answer.headers["content-type"], answer.content)
        assert answer.status_code == status and reply.fault, body


async def test_mtom_request_gets_mtom_response(xds: XdsClient) -> None:
    request = b.submission(b.document_entry(content=b"x"))
    from xds import submit_objects_request_element

    reply = await xds.call(Action.ITI_42, submit_objects_request_element(request), mtom=True)
    assert reply.status == "Success"


async def test_status_pages(http: httpx.AsyncClient) -> None:
    for door in ("/xds/registry", "/xds/repository"):
        answer = await http.get(door)
        assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
        assert "urn:ihe:iti:2007" in answer.text
    registry = await http.get("/xds/registry")
    assert "RegistryStoredQuery" in registry.text and "ProvideAndRegister" not in registry.text


async def test_inline_base64_document(xds: XdsClient) -> None:
    import base64

    from xds import provide_and_register_element

    content = b.cda_document()
    request = b.submission()
    body = provide_and_register_element(request, {})
    document = etree.SubElement(body, "{urn:ihe:iti:xds-b:2007}Document", id="Document01")
    document.text = base64.b64encode(content).decode()
    reply = await xds.call(Action.ITI_41, body)
    assert reply.status == "Success", reply.fault or reply.response
    uid = request.objects.document_entries[0].unique_id or ""
    assert (await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])).documents() == {uid: content}


async def test_resubmission_of_identical_document(xds: XdsClient) -> None:
    content = b.cda_document()
    entry = b.document_entry(content=content)
    first = await xds.provide_and_register(b.submission(entry), {"Document01": (content, "text/xml")})
    again = await xds.provide_and_register(
        b.submission(dataclasses.replace(entry)), {"Document01": (content, "text/xml")}
    )
    assert first.status == again.status == "Success"
    other = await xds.provide_and_register(
        b.submission(dataclasses.replace(entry, hash=None, size=None)),
        {"Document01": (b"changed", "text/xml")},
    )
    assert other.status == "Failure" and other.error_codes


async def test_retrieve_reports_missing_bytes(
    xds: XdsClient, app_client: tuple[object, httpx.AsyncClient]
) -> None:
    uid, _ = await _submit_one(xds, b.cda_document())
    blob_dir = app_client[0].state.services.settings.blob_dir  # type: ignore[attr-defined]
    for blob in blob_dir.glob("??/??/*"):
        blob.unlink()  # damage: the file behind a committed row is gone
    reply = await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])
    assert reply.status == "Failure" and reply.error_codes == ("XDSRepositoryError",)
