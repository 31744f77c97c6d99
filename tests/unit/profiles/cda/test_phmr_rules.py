"""The DK PHMR rule set: a valid document passes; each deliberate defect trips the expected rule."""

from __future__ import annotations

import codecs
from collections.abc import Callable

import pytest
from lxml import etree

from hub.core.issues import Issue, IssueSeverity
from hub.core.xml_safety import parse_xml
from profiles.cda import PHMR_RULES, run_phmr_rules
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import all_of, build_phmr, first, mutate

Change = Callable[[etree._Element], object]


def _issues(document: bytes) -> list[Issue]:
    return run_phmr_rules(parse_xml(document), document)


def _ids(issues: list[Issue]) -> set[str]:
    return {issue.message_id or "" for issue in issues}


def _remove(xpath: str) -> Change:
    def change(root: etree._Element) -> None:
        element = first(root, xpath)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


def _remove_all(xpath: str) -> Change:
    def change(root: etree._Element) -> None:
        for element in all_of(root, xpath):
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)

    return change


def _device_code_ni_without_translation(root: etree._Element) -> None:
    first(root, f"{DEVICE}/h:playingDevice/h:code").set("code", "NI")
    _remove(f"{DEVICE}/h:playingDevice/h:code/h:translation")(root)


def _replace_body_by_non_xml(root: etree._Element) -> None:
    body = first(root, "h:component/h:structuredBody")
    parent = body.getparent()
    assert parent is not None
    parent.replace(body, etree.fromstring('<nonXMLBody xmlns="urn:hl7-org:v3"><text>x</text></nonXMLBody>'))


def _repeat_measurement_id(root: etree._Element) -> None:
    last_id = first(root, "(//h:observation)[last()]/h:id").get("extension", "")
    first(root, f"({OBS})/h:id").set("extension", last_id)


def _set(xpath: str, attribute: str, value: str | None) -> Change:
    def change(root: etree._Element) -> None:
        element = first(root, xpath)
        if value is None:
            del element.attrib[attribute]
        else:
            element.set(attribute, value)

    return change


def _text(xpath: str, value: str) -> Change:
    def change(root: etree._Element) -> None:
        first(root, xpath).text = value

    return change


def _append(xpath: str, xml: str) -> Change:
    def change(root: etree._Element) -> None:
        parent = first(root, xpath)
        parent.extend(list(etree.fromstring(f'<wrap xmlns="urn:hl7-org:v3">{xml}</wrap>')))

    return change


def _duplicate(xpath: str) -> Change:
    def change(root: etree._Element) -> None:
        element = first(root, xpath)
        element.addnext(etree.fromstring(etree.tostring(element)))

    return change


OBS = "//h:section[h:code/@code='8716-3']/h:entry[1]/h:organizer/h:component/h:observation"
ORG = "//h:section[h:code/@code='8716-3']/h:entry[1]/h:organizer"
RANGE = "(//h:observationRange)[1]"
PATIENT = "h:recordTarget/h:patientRole"
DEVICE = "//h:participantRole"
PERIOD = "h:documentationOf/h:serviceEvent/h:effectiveTime"

CASES: list[tuple[str, Change, str]] = [
    # header
    ("no DK templateId", _remove("h:templateId[@root='1.2.208.184.11.1']"), "CONF-PHMR-DK-2"),
    ("no HL7 PHMR templateId", _remove("h:templateId[@root='2.16.840.1.113883.10.20.9']"), "TH-PHMR-HDR-1"),
    ("wrong document code", _set("h:code", "code", "11488-4"), "CONF-PHMR-DK-3"),
    ("no codeSystemName", _set("h:code", "codeSystemName", None), "CONF-PHMR-DK-3"),
    ("wrong displayName", _set("h:code", "displayName", "PHMR"), "CONF-PHMR-DK-3"),
    ("missing code", _remove("h:code"), "CONF-PHMR-DK-3"),
    ("wrong typeId", _set("h:typeId", "extension", "POCD_HD000041"), "TH-PHMR-HDR-2"),
    ("id without extension", _set("h:id", "extension", None), "TH-PHMR-HDR-3"),
    ("empty title", _text("h:title", "  "), "TH-PHMR-HDR-4"),
    ("effectiveTime without TZ", _set("h:effectiveTime", "value", "20240301100000"), "TH-PHMR-HDR-5"),
    ("effectiveTime date only", _set("h:effectiveTime", "value", "20240301"), "TH-PHMR-HDR-5"),
    ("confidentiality R", _set("h:confidentialityCode", "code", "R"), "TH-PHMR-HDR-6"),
    ("language da", _set("h:languageCode", "code", "da"), "TH-PHMR-HDR-7"),
    ("no languageCode", _remove("h:languageCode"), "TH-PHMR-HDR-7"),
    # recordTarget, names, addresses
    ("second recordTarget", _duplicate("h:recordTarget"), "TH-PHMR-RT-1"),
    ("CPR root wrong", _set(f"{PATIENT}/h:id", "root", "2.16.840.1.113883.3.4208.100.2"), "CONF-PHMR-DK-5"),
    ("CPR with hyphen", _set(f"{PATIENT}/h:id", "extension", "251248-4916"), "CONF-PHMR-DK-4"),
    ("CPR bad date", _set(f"{PATIENT}/h:id", "extension", "3213484916"), "CONF-PHMR-DK-4"),
    ("CPR fails modulus 11", _set(f"{PATIENT}/h:id", "extension", "2512484917"), "TH-PHMR-RT-2"),
    ("no gender", _remove(f"{PATIENT}/h:patient/h:administrativeGenderCode"), "TH-PHMR-RT-3"),
    ("birthTime disagrees", _set(f"{PATIENT}/h:patient/h:birthTime", "value", "19481226"), "TH-PHMR-RT-4"),
    ("two family names", _append(f"{PATIENT}/h:patient/h:name", "<family>Jensen</family>"), "CONF-PHMR-DK-6"),
    ("no given name", _remove_all(f"{PATIENT}/h:patient/h:name/h:given"), "CONF-PHMR-DK-7"),
    (
        "two prefixes",
        _append(f"{PATIENT}/h:patient/h:name", "<prefix>Dr</prefix><prefix>Prof</prefix>"),
        "CONF-PHMR-DK-8",
    ),
    (
        "qualifier on family",
        _set(f"{PATIENT}/h:patient/h:name/h:family", "qualifier", "BR"),
        "TH-PHMR-NAME-1",
    ),
    (
        "author name without family",
        _remove("h:author/h:assignedAuthor/h:assignedPerson/h:name/h:family"),
        "CONF-PHMR-DK-6",
    ),
    ("addr without use", _set(f"{PATIENT}/h:addr", "use", None), "TH-PHMR-ADDR-1"),
    ("addr use HP", _set(f"{PATIENT}/h:addr", "use", "HP"), "CONF-PHMR-DK-9"),
    ("addr without lines", _remove(f"{PATIENT}/h:addr/h:streetAddressLine"), "CONF-PHMR-DK-10"),
    (
        "addr with five lines",
        _append(f"{PATIENT}/h:addr", "<streetAddressLine>a</streetAddressLine>" * 4),
        "CONF-PHMR-DK-10",
    ),
    # participants
    (
        "author not SOR",
        _set("h:author/h:assignedAuthor/h:id", "root", "2.16.840.1.113883.3.4208.100.4"),
        "TH-PHMR-AUT-1",
    ),
    (
        "author legacy SOR root",
        _set("h:author/h:assignedAuthor/h:id", "root", "1.2.208.176.1"),
        "TH-PHMR-AUT-1",
    ),
    (
        "citizen author without SELF",
        _set("h:author/h:assignedAuthor/h:id", "root", "1.2.208.176.1.2"),
        "TH-PHMR-AUT-1",
    ),
    ("author time without TZ", _set("h:author/h:time", "value", "20240301100000"), "TH-PHMR-AUT-2"),
    (
        "custodian not SOR",
        _set("h:custodian//h:representedCustodianOrganization/h:id", "root", "1.2.3"),
        "TH-PHMR-CUS-1",
    ),
    ("no legalAuthenticator", _remove("h:legalAuthenticator"), "TH-PHMR-LA-1"),
    (
        "legalAuthenticator not SOR",
        _set("h:legalAuthenticator/h:assignedEntity/h:id", "root", "1.2.3"),
        "TH-PHMR-LA-2",
    ),
    (
        "SOR code not numeric",
        _set("h:custodian//h:representedCustodianOrganization/h:id", "extension", "ABC"),
        "TH-PHMR-SOR-1",
    ),
    # service event
    ("no service period", _remove(PERIOD), "TH-PHMR-SE-1"),
    (
        "service event not MPROT",
        _set("h:documentationOf[1]/h:serviceEvent", "classCode", "PCPR"),
        "TH-PHMR-SE-1",
    ),
    ("service low without TZ", _set(f"{PERIOD}/h:low", "value", "20240301080000"), "TH-PHMR-SE-2"),
    ("service low after high", _set(f"{PERIOD}/h:low", "value", "20250301080000+0200"), "TH-PHMR-SE-2"),
    (
        "measured code not in header",
        _remove("h:documentationOf[h:serviceEvent/h:code/@code='NPU03804']"),
        "CONF-PHMR-DK-35",
    ),
    (
        "header code not NPU/MCS/MDC",
        _set(
            "h:documentationOf/h:serviceEvent/h:code[@code='NPU03804']", "codeSystem", "2.16.840.1.113883.6.1"
        ),
        "CONF-PHMR-DK-35",
    ),
    (
        "bad version marker",
        _set("h:documentationOf/h:serviceEvent/h:id[@root='1.2.208.184.100.3']", "extension", "1.3"),
        "TH-PHMR-SE-3",
    ),
    # sections
    ("no Results section", _remove("//h:component[h:section/h:code/@code='30954-2']"), "TH-PHMR-SEC-2"),
    (
        "two Medical Equipment sections",
        _duplicate("//h:component[h:section/h:code/@code='46264-8']"),
        "TH-PHMR-SEC-2",
    ),
    ("no Vital Signs", _remove("//h:component[h:section/h:code/@code='8716-3']"), "TH-PHMR-SEC-3"),
    (
        "section lacks DK template",
        _remove("//h:section[h:code/@code='30954-2']/h:templateId[3]"),
        "TH-PHMR-SEC-4",
    ),
    (
        "section code system wrong",
        _set("//h:section[h:code/@code='30954-2']/h:code", "codeSystem", "1.2.3"),
        "TH-PHMR-SEC-5",
    ),
    (
        "unknown section",
        _append(
            "//h:structuredBody",
            "<component><section><code code='11450-4' "
            "codeSystem='2.16.840.1.113883.6.1'/></section></component>",
        ),
        "TH-PHMR-SEC-6",
    ),
    ("nonXMLBody", _replace_body_by_non_xml, "TH-PHMR-SEC-1"),
    ("section without text", _remove("//h:section[h:code/@code='46264-8']/h:text"), "TH-PHMR-SEC-7"),
    (
        "measurement in Medical Equipment",
        _append(
            "//h:section[h:code/@code='46264-8']",
            "<entry><observation classCode='OBS' moodCode='EVN'/></entry>",
        ),
        "TH-PHMR-SEC-8",
    ),
    # measurements
    ("organizer not CLUSTER", _set(ORG, "classCode", "BATTERY"), "TH-PHMR-MEAS-1"),
    ("organizer status active", _set(f"{ORG}/h:statusCode", "code", "active"), "TH-PHMR-MEAS-2"),
    ("observation lacks PHMR template", _remove(f"{OBS}/h:templateId[2]"), "TH-PHMR-MEAS-3"),
    ("observation without id", _remove(f"{OBS}/h:id"), "TH-PHMR-MEAS-4"),
    (
        "observation coded in LOINC only",
        _set(f"{OBS}/h:code/h:translation", "codeSystem", "2.16.840.1.113883.6.1"),
        "TH-PHMR-MEAS-5",
    ),
    (
        "observation with withdrawn NPU OID",
        _set(f"{OBS}/h:code/h:translation", "codeSystem", "2.16.840.1.113883.3.4208.100.1"),
        "TH-PHMR-MEAS-5",
    ),
    (
        "value not PQ",
        _set(f"{OBS}/h:value", "{http://www.w3.org/2001/XMLSchema-instance}type", "ST"),
        "TH-PHMR-MEAS-6",
    ),
    ("value not decimal", _set(f"{OBS}/h:value", "value", "NaN"), "TH-PHMR-MEAS-6"),
    ("value without unit", _set(f"{OBS}/h:value", "unit", None), "TH-PHMR-MEAS-6"),
    ("unit not UCUM syntax", _set(f"{OBS}/h:value", "unit", "mm Hg"), "TH-PHMR-MEAS-7"),
    ("unit unknown atom", _set(f"{OBS}/h:value", "unit", "NA"), "TH-PHMR-MEAS-8"),
    ("one methodCode", _remove(f"{OBS}/h:methodCode[2]"), "TH-PHMR-MEAS-9"),
    ("two performer codes", _set(f"{OBS}/h:methodCode[2]", "code", "PNT"), "TH-PHMR-MEAS-9"),
    (
        "withdrawn context OID",
        _set(f"{OBS}/h:methodCode[1]", "codeSystem", "2.16.840.1.113883.3.4208.100.6"),
        "TH-PHMR-MEAS-9",
    ),
    ("unverified provision code", _set(f"{OBS}/h:methodCode[2]", "code", "TPH"), "TH-PHMR-MEAS-10"),
    (
        "measurement time without TZ",
        _set(f"{ORG}/h:effectiveTime", "value", "20240301080000"),
        "TH-PHMR-MEAS-11",
    ),
    (
        "measurement before the period",
        _set(f"{ORG}/h:effectiveTime", "value", "20240229080000+0200"),
        "TH-PHMR-MEAS-12",
    ),
    ("repeated measurement id", _repeat_measurement_id, "TH-PHMR-MEAS-13"),
    # devices
    ("no device", _remove("//h:section[h:code/@code='46264-8']/h:entry"), "TH-PHMR-DEV-1"),
    ("device participant not SBJ", _set("//h:organizer/h:participant", "typeCode", "DEV"), "TH-PHMR-DEV-2"),
    ("device role lacks template", _remove(f"{DEVICE}/h:templateId[1]"), "TH-PHMR-DEV-3"),
    (
        "device code not MDC",
        _set(f"{DEVICE}/h:playingDevice/h:code", "codeSystem", "1.2.208.184.100.2"),
        "TH-PHMR-DEV-4",
    ),
    ("device NI without translation", _device_code_ni_without_translation, "TH-PHMR-DEV-4"),
    (
        "model text free form",
        _text(f"{DEVICE}/h:playingDevice/h:manufacturerModelName", "Onyx"),
        "TH-PHMR-DEV-5",
    ),
    ("device without id", _remove(f"{DEVICE}/h:id"), "TH-PHMR-DEV-6"),
    # red/yellow thresholds
    ("threshold without template", _remove(f"{RANGE}/h:templateId"), "CONF-PHMR-DK-36"),
    ("threshold mood EVN", _set(RANGE, "moodCode", "EVN"), "CONF-PHMR-DK-36"),
    ("threshold code unknown", _set(f"{RANGE}/h:code", "code", "BLA"), "TH-PHMR-REF-1"),
    (
        "threshold value IVL_INT",
        _set(f"{RANGE}/h:value", "{http://www.w3.org/2001/XMLSchema-instance}type", "IVL_INT"),
        "TH-PHMR-REF-2",
    ),
    ("threshold low not decimal", _set(f"{RANGE}/h:value/h:low", "value", "low"), "TH-PHMR-REF-2"),
    ("threshold low above high", _set(f"{RANGE}/h:value/h:low", "value", "500"), "TH-PHMR-REF-2"),
    ("two red thresholds", _duplicate("(//h:referenceRange)[1]"), "TH-PHMR-REF-3"),
    ("threshold unit differs", _set(f"{RANGE}/h:value/h:low", "unit", "kPa"), "TH-PHMR-REF-4"),
]


def test_generated_phmr_passes_every_rule(phmr: bytes) -> None:
    assert _issues(phmr) == []


@pytest.mark.parametrize(("name", "change", "rule_id"), CASES, ids=[case[0] for case in CASES])
def test_defect_trips_its_rule(name: str, change: Change, rule_id: str, phmr: bytes) -> None:
    issues = _issues(mutate(phmr, change))
    tripped = [issue for issue in issues if issue.message_id == rule_id]
    assert tripped, f"{name}: expected {rule_id}, got {sorted(_ids(issues))}"
    issue = tripped[0]
    rule = next(r for r in PHMR_RULES if r.rule_id == rule_id)
    assert issue.severity is rule.severity
    assert issue.diagnostics.startswith(f"{rule_id}: ")
    assert issue.line is not None and issue.line > 0
    assert issue.location and issue.location[0].startswith("/ClinicalDocument")


def test_every_rule_has_a_failing_case() -> None:
    covered = {rule_id for _, _, rule_id in CASES} | {"CONF-PHMR-DK-1"}
    assert {rule.rule_id for rule in PHMR_RULES} - covered == set()


def test_rule_catalogue_is_well_formed() -> None:
    ids = [rule.rule_id for rule in PHMR_RULES]
    assert len(ids) == len(set(ids))
    for rule in PHMR_RULES:
        assert rule.rule_id.startswith(("CONF-PHMR-DK-", "TH-PHMR-"))
        assert rule.summary.endswith(".")
        assert rule.severity in (IssueSeverity.ERROR, IssueSeverity.WARNING)


@pytest.mark.parametrize(
    ("prefix", "declaration", "expected"),
    [
        (b"", b'<?xml version="1.0" encoding="UTF-8"?>', None),
        (codecs.BOM_UTF8, b'<?xml version="1.0" encoding="utf-8"?>', None),
        (b"", b"", None),
        (b"", b"<?xml version='1.0' encoding='ISO-8859-1'?>", "ISO-8859-1"),
        (b"", b'<?xml version="1.0" encoding="windows-1252" ?>', "windows-1252"),
    ],
)
def test_encoding_rule(prefix: bytes, declaration: bytes, expected: str | None) -> None:
    body = build_phmr(2).split(b"?>", 1)[1]
    issues = [i for i in _issues(prefix + declaration + body) if i.message_id == "CONF-PHMR-DK-1"]
    if expected is None:
        assert issues == []
    else:
        assert len(issues) == 1 and expected in issues[0].diagnostics


def test_utf16_document_breaks_the_encoding_rule() -> None:
    document = build_phmr(2).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    issues = [i for i in _issues(document) if i.message_id == "CONF-PHMR-DK-1"]
    assert len(issues) == 1 and "UTF-16" in issues[0].diagnostics


def test_cpr_never_appears_in_diagnostics(phmr: bytes) -> None:
    broken = mutate(phmr, _set(f"{PATIENT}/h:id", "extension", "2512484917"))
    assert all("2512484917" not in issue.diagnostics for issue in _issues(broken))


def test_citizen_author_with_self_is_allowed(phmr: bytes) -> None:
    def citizen(root: etree._Element) -> None:
        author_id = first(root, "h:author/h:assignedAuthor/h:id")
        author_id.set("root", "1.2.208.176.1.2")
        author_id.set("extension", "2512484916")
        author_id.addnext(
            etree.fromstring(
                '<code xmlns="urn:hl7-org:v3" code="SELF" codeSystem="2.16.840.1.113883.5.111"/>'
            )
        )

    assert _issues(mutate(phmr, citizen)) == []


def test_nullified_measurement_is_accepted(phmr: bytes) -> None:
    assert _issues(mutate(phmr, _set(f"{ORG}/h:statusCode", "code", "nullified"))) == []


def test_measurement_times_on_the_period_bounds_are_inside(phmr: bytes) -> None:
    document = build_phmr(3)
    assert "TH-PHMR-MEAS-12" not in _ids(_issues(document))


def test_rules_collect_all_failures(phmr: bytes) -> None:
    def many(root: etree._Element) -> None:
        _set("h:languageCode", "code", "en-US")(root)
        _set(f"{PATIENT}/h:id", "root", "1.2.3")(root)
        _remove_all("//h:methodCode")(root)

    ids = _ids(_issues(mutate(phmr, many)))
    assert {"TH-PHMR-HDR-7", "CONF-PHMR-DK-5", "TH-PHMR-MEAS-9"} <= ids
    assert sum(1 for i in _issues(mutate(phmr, many)) if i.message_id == "TH-PHMR-MEAS-9") == 20


VALID_EXAMPLES = [
    ("dk", "fut", "decoded-examples", "POST_transform-from-PHMR.request.PHMR.xml"),
    ("dk", "fut", "decoded-examples", "POST_transform-to-PHMR.response.PHMR.xml"),
    ("dk", "medcom-cda", "test", "resources", "PHMR", "Ex1-Weight_measurement_with_additional_addr.xml"),
]


@pytest.mark.parametrize("parts", VALID_EXAMPLES, ids=[p[-1] for p in VALID_EXAMPLES])
def test_valid_examples_have_no_errors(parts: tuple[str, ...]) -> None:
    document = testdata_path(*parts).read_bytes()
    errors = [i for i in _issues(document) if i.is_error]
    assert errors == []


def test_broken_medcom_example_fails_the_expected_rules() -> None:
    document = testdata_path(
        "dk", "medcom-cda", "test", "resources", "PHMR", "Ex1-Weight_measurement.invalid.replacement.ssn.xml"
    ).read_bytes()
    issues = _issues(document)
    errors = {i.message_id for i in issues if i.is_error}
    # the old (pre-2016) template root and the replacement-CPR root are what makes this example invalid
    assert {"CONF-PHMR-DK-2", "CONF-PHMR-DK-5"} <= errors
    dk2 = next(i for i in issues if i.message_id == "CONF-PHMR-DK-2")
    assert "pre-2016" in dk2.diagnostics and dk2.line == 5


def test_international_hl7_phmr_is_not_a_danish_phmr() -> None:
    document = testdata_path("dk", "medcom-cda", "test", "resources", "PHMR", "PHMR_Nancy.xml").read_bytes()
    errors = {i.message_id for i in _issues(document) if i.is_error}
    assert {"CONF-PHMR-DK-2", "CONF-PHMR-DK-5", "TH-PHMR-HDR-5"} <= errors
