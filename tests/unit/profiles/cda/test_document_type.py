"""Document-type detection by templateId, code, version marker and title (profiles.cda.document_type)."""

from __future__ import annotations

import pytest

from hub.core.xml_safety import parse_xml
from profiles.cda import CdaDocumentType, DocumentFamily, detect_document_type
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import NS, build_phmr, first, mutate


def _detect(document: bytes) -> tuple[CdaDocumentType, str | None, str]:
    detected = detect_document_type(parse_xml(document))
    return detected.document_type, detected.format_code, detected.version_source


def _doc(templates: str, code: str = "x", title: str = "t") -> bytes:
    return (
        f'<ClinicalDocument xmlns="urn:hl7-org:v3">{templates}<code code="{code}"/><title>{title}</title>'
        "</ClinicalDocument>"
    ).encode()


def test_generated_phmr_is_1_3_by_marker(phmr: bytes) -> None:
    assert _detect(phmr) == (CdaDocumentType.PHMR_DK_V1_3, "urn:ad:dk:medcom:phmr-v1.3:full", "marker")


def test_marker_with_version_2_gives_2_1(phmr: bytes) -> None:
    def bump(root: object) -> None:
        first(root, "h:documentationOf/h:serviceEvent/h:id[@root='1.2.208.184.100.3']").set(  # type: ignore[arg-type]
            "extension", "phmr-v2.1"
        )

    assert _detect(mutate(phmr, bump)) == (
        CdaDocumentType.PHMR_DK_V2_1,
        "urn:ad:dk:medcom:phmr-v2.1:full",
        "marker",
    )


def test_title_hjemmemaalinger_without_marker_gives_2_1() -> None:
    document = _doc(
        '<templateId root="2.16.840.1.113883.10.20.9"/><templateId root="1.2.208.184.11.1"/>',
        "53576-5",
        "Hjemmemålinger",
    )
    assert _detect(document) == (CdaDocumentType.PHMR_DK_V2_1, "urn:ad:dk:medcom:phmr-v2.1:full", "title")


def test_dk_template_without_marker_defaults_to_1_3() -> None:
    document = _doc('<templateId root="1.2.208.184.11.1"/>', "53576-5", "Hjemmemonitorering for 2512484916")
    assert _detect(document) == (CdaDocumentType.PHMR_DK_V1_3, "urn:ad:dk:medcom:phmr-v1.3:full", "default")


@pytest.mark.parametrize(
    ("templates", "code", "expected"),
    [
        ('<templateId root="2.16.840.1.113883.10.20.9"/>', "53576-5", CdaDocumentType.PHMR_OTHER),
        ('<templateId root="2.16.840.1.113883.3.4208.11.1"/>', "53576-5", CdaDocumentType.PHMR_OTHER),
        ("", "53576-5", CdaDocumentType.PHMR_OTHER),
        ('<templateId root="1.2.208.184.13.1"/>', "74465-6", CdaDocumentType.QRD),
        ('<templateId root="2.16.840.1.113883.10.20.33"/>', "x.x.x.x", CdaDocumentType.QRD),
        ('<templateId root="1.2.208.184.12.1"/>', "74468-0", CdaDocumentType.QFDD),
        ("", "74468-0", CdaDocumentType.QFDD),
        ('<templateId root="1.2.208.184.14.1"/>', "39289-4", CdaDocumentType.APD),
        ("", "56446-8", CdaDocumentType.APD),
        ('<templateId root="2.16.840.1.113883.10.20.22.1.1"/>', "34133-9", CdaDocumentType.UNKNOWN_CDA),
    ],
)
def test_document_families(templates: str, code: str, expected: CdaDocumentType) -> None:
    assert _detect(_doc(templates, code))[0] is expected


def test_unknown_cda_has_no_format_code() -> None:
    detected = detect_document_type(parse_xml(_doc("", "11488-4")))
    assert detected.document_type.family is DocumentFamily.OTHER
    assert detected.format_code is None


def test_qrd_marker_sets_the_format_code() -> None:
    document = _doc(
        '<templateId root="1.2.208.184.13.1"/><documentationOf><serviceEvent>'
        '<templateId root="1.2.208.184.200.1.10"/><id root="1.2.208.184.100.3" extension="qrd-v1.2"/>'
        "</serviceEvent></documentationOf>",
        "74465-6",
    )
    assert _detect(document) == (CdaDocumentType.QRD, "urn:ad:dk:medcom:qrd-v1.2:full", "marker")


def test_garbage_marker_is_ignored() -> None:
    document = build_phmr(1).replace(b'extension="phmr-v1.3"', b'extension="not a version"')
    assert _detect(document)[0] is CdaDocumentType.PHMR_DK_V1_3
    assert _detect(document)[2] == "default"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            ("dk", "fut", "decoded-examples", "POST_transform-from-PHMR.request.PHMR.xml"),
            CdaDocumentType.PHMR_DK_V1_3,
        ),
        (
            ("dk", "fut", "decoded-examples", "POST_transform-to-PHMR.response.PHMR.xml"),
            CdaDocumentType.PHMR_DK_V1_3,
        ),
        (("dk", "medcom-cda", "test", "resources", "PHMR", "PHMR_Nancy.xml"), CdaDocumentType.PHMR_OTHER),
        (
            (
                "dk",
                "medcom-cda",
                "test",
                "resources",
                "QRD",
                "QRD_KOL_Example_1_MaTIS_with_external_references.xml",
            ),
            CdaDocumentType.QRD,
        ),
        (
            ("dk", "medcom-cda", "test", "resources", "QFDD", "QFD_Example_1_Numeric_Question.xml"),
            CdaDocumentType.QFDD,
        ),
        (
            ("dk", "medcom-cda", "test", "resources", "Appointment", "DK-APD_Example_1.xml"),
            CdaDocumentType.APD,
        ),
        (("cda", "hl7-samples", "sampleCCD.xml"), CdaDocumentType.UNKNOWN_CDA),
    ],
)
def test_real_documents(parts: tuple[str, ...], expected: CdaDocumentType) -> None:
    assert _detect(testdata_path(*parts).read_bytes())[0] is expected


def test_namespace_prefix_map_is_the_hl7_namespace() -> None:
    assert NS["h"] == "urn:hl7-org:v3"
