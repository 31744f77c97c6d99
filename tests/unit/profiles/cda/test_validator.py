"""CdaValidator end to end: safe parse, XSD pack, DK PHMR rules, schematron packs (profiles.cda.validator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from hub.core.errors import InvalidInputError, UnsafeXmlError
from hub.core.issues import IssueSeverity, IssueType
from hub.core.xml_safety import parse_xml
from profiles.cda import NO_PACK_MESSAGE, CdaDocumentType, CdaValidator, install_pack
from profiles.cda.schematron_pack import svrl_issues
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import build_phmr, first, mutate

PHMR_DIR = ("dk", "medcom-cda", "test", "resources", "PHMR")


def test_no_pack_gives_a_warning_never_a_silent_pass(tmp_path: Path, phmr: bytes) -> None:
    report = CdaValidator(tmp_path).validate(phmr)
    assert report.is_valid
    assert not report.schema_validated
    assert [(i.severity, i.code, i.diagnostics) for i in report.issues] == [
        (IssueSeverity.WARNING, IssueType.INCOMPLETE, NO_PACK_MESSAGE)
    ]
    assert NO_PACK_MESSAGE == "schema validation not performed (no cda-r2 schema pack installed)"


def test_valid_phmr_against_the_schema(cda_packs: Path, phmr: bytes) -> None:
    validator = CdaValidator(cda_packs)
    report = validator.validate(phmr)
    assert validator.schema_installed
    assert report.schema_validated and report.is_valid and report.issues == ()
    assert report.document_type is CdaDocumentType.PHMR_DK_V1_3
    assert report.root.tag == "{urn:hl7-org:v3}ClinicalDocument"
    assert report.raw == phmr
    assert report.phmr is not None and len(report.phmr.measurements) == 20


def test_sample_ccd_is_schema_valid(cda_packs: Path) -> None:
    report = CdaValidator(cda_packs).validate(
        testdata_path("cda", "hl7-samples", "sampleCCD.xml").read_bytes()
    )
    assert report.document_type is CdaDocumentType.UNKNOWN_CDA
    assert report.issues == ()


def test_hl7_sample_cda_fails_the_schema_at_line_15(cda_packs: Path) -> None:
    report = CdaValidator(cda_packs).validate(testdata_path("cda", "hl7-samples", "cda.xml").read_bytes())
    assert not report.is_valid
    first_error = report.errors[0]
    assert first_error.message_id == "CDA-XSD"
    assert first_error.line == 15
    assert "line 15" in first_error.diagnostics
    assert first_error.to_fhir()["location"][-1].startswith("line 15")


def test_schema_errors_come_with_all_other_findings(cda_packs: Path, phmr: bytes) -> None:
    def break_both(root: etree._Element) -> None:
        first(root, "h:languageCode").set("code", "en")
        first(root, "h:title").addprevious(etree.Element("{urn:hl7-org:v3}bogus"))

    report = CdaValidator(cda_packs).validate(mutate(phmr, break_both))
    ids = {issue.message_id for issue in report.issues}
    assert {"CDA-XSD", "TH-PHMR-HDR-7"} <= ids
    severities = [issue.severity for issue in report.issues]
    assert severities == sorted(severities, key=lambda s: -s.rank)  # most severe first


@pytest.mark.parametrize("name", ["Ex1-Weight_measurement_with_additional_addr.xml"])
def test_valid_medcom_example_passes_everything(full_packs: Path, name: str) -> None:
    report = CdaValidator(full_packs).validate(testdata_path(*PHMR_DIR, name).read_bytes())
    assert report.schematrons == ("medcom-phmr",)
    assert report.errors == ()


@pytest.mark.parametrize(
    "name", ["POST_transform-from-PHMR.request.PHMR.xml", "POST_transform-to-PHMR.response.PHMR.xml"]
)
def test_fut_examples_pass_everything(full_packs: Path, name: str) -> None:
    report = CdaValidator(full_packs).validate(
        testdata_path("dk", "fut", "decoded-examples", name).read_bytes()
    )
    assert report.errors == ()
    assert report.schema_validated and report.schematrons == ("medcom-phmr",)


def test_broken_medcom_example_fails_the_medcom_schematron(full_packs: Path) -> None:
    document = testdata_path(*PHMR_DIR, "Ex1-Weight_measurement.invalid.replacement.ssn.xml").read_bytes()
    report = CdaValidator(full_packs).validate(document)
    schematron = [i for i in report.issues if "[schematron medcom-phmr]" in i.diagnostics]
    assert {i.message_id for i in schematron} == {"CONF-PHMR-DK-2", "CONF-PHMR-DK-5"}
    assert all(i.severity is IssueSeverity.ERROR for i in schematron)
    by_rule = {i.message_id: i for i in schematron}
    # libxml2 gives an element the line where its start tag ends
    assert by_rule["CONF-PHMR-DK-2"].line == 5  # <ClinicalDocument ...> spans lines 3-5
    assert by_rule["CONF-PHMR-DK-5"].line == 21  # recordTarget/patientRole/id spans lines 20-21
    assert "ClinicalDocument" in by_rule["CONF-PHMR-DK-5"].location[0]


def test_generated_phmr_passes_the_medcom_schematron(full_packs: Path, phmr: bytes) -> None:
    report = CdaValidator(full_packs).validate(phmr)
    assert report.issues == ()


def test_schematron_only_runs_for_its_family(full_packs: Path) -> None:
    document = testdata_path("dk", "medcom-cda", "test", "resources", "Appointment", "DK-APD_Example_1.xml")
    report = CdaValidator(full_packs).validate(document.read_bytes())
    assert report.document_type is CdaDocumentType.APD
    assert report.schematrons == ()
    assert report.phmr is None  # QRD/QFDD/APD are recognised, not deeply checked


def test_schematrons_can_be_switched_off(full_packs: Path, phmr: bytes) -> None:
    validator = CdaValidator(full_packs, run_schematrons=False)
    assert validator.schematron_names == ()
    assert validator.validate(phmr).schematrons == ()


def test_qrd_is_recognised_and_schema_checked(cda_packs: Path) -> None:
    document = testdata_path(
        "dk", "medcom-cda", "test", "resources", "QRD", "QRD_KOL_Example_1_MaTIS_with_external_references.xml"
    ).read_bytes()
    report = CdaValidator(cda_packs).validate(document)
    assert report.document_type is CdaDocumentType.QRD
    assert report.detected.format_code == "urn:ad:dk:medcom:qrd-v1.3:full"
    assert all(i.message_id == "CDA-XSD" for i in report.issues)


def test_not_a_clinical_document(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not an HL7 CDA document") as info:
        CdaValidator(tmp_path).validate(b'<Bundle xmlns="http://hl7.org/fhir"/>')
    assert info.value.issues[0].message_id == "CDA-NOT-CLINICAL-DOCUMENT"


def test_unsafe_and_malformed_documents_raise(tmp_path: Path) -> None:
    validator = CdaValidator(tmp_path, max_bytes=100_000)
    with pytest.raises(UnsafeXmlError):
        validator.validate(
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument>&e;</ClinicalDocument>'
        )
    with pytest.raises(UnsafeXmlError, match="exceeds the limit"):
        validator.validate(build_phmr(200))
    with pytest.raises(InvalidInputError) as info:
        validator.validate(b'<ClinicalDocument xmlns="urn:hl7-org:v3">\n<id>\n</ClinicalDocument>')
    assert info.value.issues[0].line == 3


def test_validate_tree_reuses_a_parsed_document(cda_packs: Path, phmr: bytes) -> None:
    report = CdaValidator(cda_packs).validate_tree(parse_xml(phmr), phmr)
    assert report.is_valid


# ------------------------------------------------------------------ SVRL reading


B_2 = "/*[local-name()='a' and namespace-uri()='']/*[local-name()='b' and namespace-uri()=''][2]"
A_K = "/*[local-name()='a' and namespace-uri()='']/@k"
SVRL = f"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <svrl:fired-rule context="/" id="RULE-A"/>
  <svrl:failed-assert test="x" location="{B_2}">
    <svrl:text>  plain   failure </svrl:text></svrl:failed-assert>
  <svrl:failed-assert test="x" flag="warning" location="/nowhere">
    <svrl:text>flagged</svrl:text></svrl:failed-assert>
  <svrl:successful-report test="x" role="info" location="//(">
    <svrl:text>noted</svrl:text></svrl:successful-report>
  <svrl:successful-report test="x" location="/">
    <svrl:text>Warning: CONF-X-7: from the text</svrl:text></svrl:successful-report>
  <svrl:fired-rule context="/"/>
  <svrl:failed-assert test="x" id="ASSERT-9" role="fatal" location="{A_K}">
    <svrl:text>on an attribute</svrl:text></svrl:failed-assert>
  <svrl:successful-report test="x" location="/">
    <svrl:text>report without flag</svrl:text></svrl:successful-report>
</svrl:schematron-output>""".encode()


def test_svrl_to_issues() -> None:
    root = parse_xml(b'<a k="1">\n<b/>\n<b/>\n</a>')
    issues = svrl_issues(SVRL, root, "demo")
    summary = [(i.message_id, i.severity.value, i.line, i.diagnostics) for i in issues]
    assert summary == [
        ("RULE-A", "error", 3, "RULE-A: plain failure [schematron demo]"),
        ("RULE-A", "warning", None, "RULE-A: flagged [schematron demo]"),
        ("RULE-A", "information", None, "RULE-A: noted [schematron demo]"),
        ("RULE-A", "warning", None, "RULE-A: Warning: CONF-X-7: from the text [schematron demo]"),
        ("ASSERT-9", "error", 1, "ASSERT-9: on an attribute [schematron demo]"),
        ("SCH-demo", "warning", None, "SCH-demo: report without flag [schematron demo]"),
    ]


def test_schematron_run_time_error_becomes_an_issue(tmp_path: Path, phmr: bytes) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "dyn.sch").write_text(
        '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">'
        '<ns prefix="xs" uri="http://www.w3.org/2001/XMLSchema"/>'
        '<pattern><rule context="/*"><assert test="xs:integer(string(@classCode)) gt 0">boom</assert>'
        "</rule></pattern></schema>"
    )
    install_pack("schematron", folder / "dyn.sch", tmp_path / "packs", "dyn")
    report = CdaValidator(tmp_path / "packs").validate(phmr)
    failures = [i for i in report.issues if i.message_id == "SCH-dyn"]
    assert len(failures) == 1
    assert failures[0].code is IssueType.EXCEPTION and failures[0].is_error
    assert "could not be evaluated" in failures[0].diagnostics
