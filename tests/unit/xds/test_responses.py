"""RegistryResponse, AdhocQueryResponse and RetrieveDocumentSetResponse (ITI TF-3 4.2.4, ITI TF-2a 3.18.4.2,
ITI TF-2b 3.43.4.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import testdata_path
from tests.unit.xds.conftest import GOLDEN
from xds.errors import RegistryError, RegistryErrorSeverity, XdsErrorCode
from xds.model import ObjectRef, SubmitObjectsRequest
from xds.mtom import read_mtom
from xds.mtom_write import Attachment
from xds.responses import (
    ResponseStatus,
    RetrievedDocument,
    adhoc_query_response_element,
    parse_response,
    registry_response_element,
    retrieve_response,
    status_for,
)
from xds.soap import parse_envelope

ERROR = RegistryError(XdsErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH, "patient differs", "Document01")
WARNING = RegistryError(
    XdsErrorCode.XDS_REGISTRY_METADATA_ERROR, "not Danish", "Document01", RegistryErrorSeverity.WARNING
)


def _golden(name: str, element: etree._Element) -> None:
    written = etree.tostring(element, pretty_print=True)
    assert written == (GOLDEN / name).read_bytes()


def test_status_rules() -> None:
    assert status_for([]) is ResponseStatus.SUCCESS
    assert status_for([WARNING]) is ResponseStatus.SUCCESS
    assert status_for([ERROR, WARNING]) is ResponseStatus.FAILURE
    assert status_for([ERROR], succeeded_any=True) is ResponseStatus.PARTIAL_SUCCESS


def test_registry_response_failure_golden() -> None:
    _golden(
        "registry_response_failure.xml", registry_response_element(ResponseStatus.FAILURE, [ERROR, WARNING])
    )


def test_registry_response_success_has_no_error_list() -> None:
    element = registry_response_element(ResponseStatus.SUCCESS)
    assert len(element) == 0
    assert parse_response(element).status == ResponseStatus.SUCCESS.value


def test_registry_response_is_schema_valid() -> None:
    schema = etree.XMLSchema(
        etree.parse(str(testdata_path("xds", "schemas", "gematik-api-telematik", "ext", "ebRS", "rs.xsd")))
    )
    assert schema.validate(registry_response_element(ResponseStatus.FAILURE, [ERROR, WARNING])), (
        schema.error_log
    )


def test_parse_response_reads_errors() -> None:
    parsed = parse_response(registry_response_element(ResponseStatus.FAILURE, [ERROR, WARNING]))
    assert parsed.status == ResponseStatus.FAILURE.value
    assert [(e.error_code, e.location) for e in parsed.errors] == [
        ("XDSPatientIdDoesNotMatch", "Document01"),
        ("XDSRegistryMetadataError", "Document01"),
    ]
    assert parsed.errors[1].severity == RegistryErrorSeverity.WARNING.value


def test_adhoc_query_response_object_refs_golden() -> None:
    refs = [
        ObjectRef("urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"),
        ObjectRef("urn:uuid:b", "urn:oid:1.2"),
    ]
    _golden(
        "adhoc_query_response_refs.xml",
        adhoc_query_response_element(ResponseStatus.SUCCESS, object_refs=refs),
    )


def test_adhoc_query_response_leaf_class_round_trip(dk_request: SubmitObjectsRequest) -> None:
    element = adhoc_query_response_element(ResponseStatus.SUCCESS, objects=dk_request.objects)
    parsed = parse_response(etree.fromstring(etree.tostring(element)))
    assert parsed.objects == dk_request.objects


def test_adhoc_query_response_with_errors_is_schema_valid() -> None:
    schema = etree.XMLSchema(
        etree.parse(str(testdata_path("xds", "schemas", "gematik-api-telematik", "ext", "ebRS", "query.xsd")))
    )
    element = adhoc_query_response_element(ResponseStatus.FAILURE, errors=[ERROR])
    assert schema.validate(element), schema.error_log


def test_retrieve_response_mtom(tmp_path: Path) -> None:
    stored = tmp_path / "blob"
    stored.write_bytes(b"<ClinicalDocument/>")
    documents = [
        RetrievedDocument(
            "1.2.208.176.43210.8.10.1",
            "1.2.208.184^doc",
            "text/xml",
            Attachment.from_file("doc1@telehub", stored, "text/xml"),
            "urn:oid:1.2.208.176.43210.8.10",
        )
    ]
    missing = RegistryError(XdsErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, "unknown document", "1.2.3^x")
    response = retrieve_response(documents, [missing], relates_to="urn:uuid:req")
    with read_mtom(response.content_type, response.body(), max_part_bytes=100_000) as message:
        envelope = parse_envelope(message.root.read_bytes())
        assert envelope.relates_to == "urn:uuid:req"
        parsed = parse_response(envelope.body)
        assert parsed.status == ResponseStatus.PARTIAL_SUCCESS.value
        assert parsed.errors[0].error_code == "XDSDocumentUniqueIdError"
        ns = {"x": "urn:ihe:iti:xds-b:2007", "xop": "http://www.w3.org/2004/08/xop/include"}
        include = "string(x:DocumentResponse/x:Document/xop:Include/@href)"
        href = str(envelope.body.xpath(include, namespaces=ns))
        assert message.part(href).read_bytes() == b"<ClinicalDocument/>"
        assert envelope.body.xpath("string(x:DocumentResponse/x:mimeType)", namespaces=ns) == "text/xml"


@pytest.mark.parametrize("found", [0, 1])
def test_retrieve_status(found: int, tmp_path: Path) -> None:
    missing = RegistryError(XdsErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, "unknown", "x")
    docs = [RetrievedDocument("1.2", "3.4", "text/plain", Attachment.from_bytes("d@x", b"d", "text/plain"))][
        :found
    ]
    response = retrieve_response(docs, [missing])
    with read_mtom(response.content_type, response.body(), max_part_bytes=100_000) as message:
        status = parse_response(parse_envelope(message.root.read_bytes()).body).status
    expected = ResponseStatus.PARTIAL_SUCCESS if found else ResponseStatus.FAILURE
    assert status == expected.value
