"""ITI-41 / ITI-43 / ITI-62 request bodies (ITI TF-2b 3.41.4.1.2, 3.43.4.1.2, 3.62.4.1.2)."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from xds.ebrim_write import to_bytes
from xds.errors import MtomError, XdsError, XdsErrorCode
from xds.messages import (
    DocumentRequest,
    RemoveObjectsRequest,
    parse_provide_and_register,
    parse_remove_objects_request,
    parse_retrieve_request,
    provide_and_register_element,
    remove_objects_request_element,
    retrieve_request_element,
)
from xds.model import SubmitObjectsRequest
from xds.mtom import read_mtom
from xds.mtom_write import Attachment, mtom_response
from xds.soap import Action, build_envelope, envelope_bytes, parse_envelope

XDSB = "urn:ihe:iti:xds-b:2007"
DOCUMENT = b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>"


def test_provide_and_register_over_mtom(dk_request: SubmitObjectsRequest) -> None:
    body = provide_and_register_element(dk_request, {"Document01": "doc1@telehub"})
    envelope = build_envelope(Action.ITI_41, body)
    wire = mtom_response(
        envelope_bytes(envelope), [Attachment.from_bytes("doc1@telehub", DOCUMENT, "text/xml")]
    )
    with read_mtom(wire.content_type, wire.body(), max_part_bytes=100_000) as message:
        parsed = parse_envelope(message.root.read_bytes())
        request = parse_provide_and_register(parsed.body, message)
        assert request.submit == dk_request
        assert request.documents["Document01"].read_bytes() == DOCUMENT


def _inline(doc_xml: str, submit: SubmitObjectsRequest) -> etree._Element:
    root = provide_and_register_element(submit, {})
    root.append(etree.fromstring(doc_xml))
    return root


def test_inline_base64_document(dk_request: SubmitObjectsRequest) -> None:
    encoded = base64.b64encode(DOCUMENT).decode()
    body = _inline(
        f'<xdsb:Document xmlns:xdsb="{XDSB}" id="Document01">{encoded[:10]}\n{encoded[10:]}</xdsb:Document>',
        dk_request,
    )
    request = parse_provide_and_register(body, None)
    with request.documents["Document01"] as part:
        assert part.read_bytes() == DOCUMENT
        assert part.size == len(DOCUMENT)


def test_bad_base64_and_include_without_mtom(dk_request: SubmitObjectsRequest) -> None:
    with pytest.raises(MtomError) as caught:
        parse_provide_and_register(
            _inline(f'<xdsb:Document xmlns:xdsb="{XDSB}" id="D">@@@</xdsb:Document>', dk_request), None
        )
    assert caught.value.issues[0].message_id == "MTOM-BAD-BASE64"
    with pytest.raises(MtomError) as caught:
        parse_provide_and_register(provide_and_register_element(dk_request, {"Document01": "x@y"}), None)
    assert caught.value.issues[0].message_id == "MTOM-NOT-MTOM"


def test_duplicate_and_anonymous_documents(dk_request: SubmitObjectsRequest) -> None:
    body = provide_and_register_element(dk_request, {})
    for doc_id in ("A", "A", ""):
        element = etree.SubElement(body, f"{{{XDSB}}}Document", id=doc_id)
        element.text = base64.b64encode(b"x").decode()
    with pytest.raises(XdsError) as caught:
        parse_provide_and_register(body, None)
    codes = {e.error_code for e in caught.value.errors}
    assert codes == {XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR}
    assert len(caught.value.errors) == 2


def test_wrong_provide_and_register_bodies(dk_request: SubmitObjectsRequest) -> None:
    with pytest.raises(XdsError):
        parse_provide_and_register(etree.Element("other"), None)
    with pytest.raises(XdsError):
        parse_provide_and_register(etree.Element(f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest"), None)


def test_retrieve_request_round_trip() -> None:
    requests = (
        DocumentRequest("1.2.3", "1.2.3.4^abc", "urn:oid:1.2.208.176.8.1"),
        DocumentRequest("1.2.3", "1.2.3.5"),
    )
    element = retrieve_request_element(requests)
    assert parse_retrieve_request(etree.fromstring(to_bytes(element))) == requests


def test_retrieve_request_errors() -> None:
    with pytest.raises(XdsError) as caught:
        parse_retrieve_request(etree.fromstring(f'<x:RetrieveDocumentSetRequest xmlns:x="{XDSB}"/>'))
    assert caught.value.errors[0].error_code is XdsErrorCode.XDS_REPOSITORY_ERROR
    incomplete = (
        f'<x:RetrieveDocumentSetRequest xmlns:x="{XDSB}"><x:DocumentRequest>'
        "<x:DocumentUniqueId>1</x:DocumentUniqueId></x:DocumentRequest></x:RetrieveDocumentSetRequest>"
    )
    with pytest.raises(XdsError) as caught:
        parse_retrieve_request(etree.fromstring(incomplete))
    assert caught.value.errors[0].location == "DocumentRequest[1]"
    with pytest.raises(XdsError):
        parse_retrieve_request(etree.Element("other"))


def test_remove_objects_request() -> None:
    request = RemoveObjectsRequest(
        ("urn:uuid:1", "urn:uuid:2"), "urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteAll"
    )
    element = remove_objects_request_element(request)
    assert parse_remove_objects_request(etree.fromstring(to_bytes(element))) == request
    empty = remove_objects_request_element(RemoveObjectsRequest(()))
    with pytest.raises(XdsError):
        parse_remove_objects_request(empty)
    with pytest.raises(XdsError):
        parse_remove_objects_request(etree.Element("other"))
