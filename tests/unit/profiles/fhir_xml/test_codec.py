"""FHIR XML reading and writing on hand-written documents (https://hl7.org/fhir/R4/xml.html)."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from hub.core.errors import InvalidInputError
from hub.core.issues import IssueSeverity
from profiles.fhir_xml import FHIR_NS, XHTML_NS, FhirXmlCodec, LexicalDecimal, dump_json, load_json

pytestmark = pytest.mark.needs_testdata


def xml(body: str, root: str = "Patient") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{FHIR_NS}">{body}</{root}>'.encode()


def test_primitives_become_typed_json_values(codec: FhirXmlCodec) -> None:
    patient = codec.parse(
        xml(
            '<id value="p1"/><active value="true"/><name><family value="Hansen"/><given value="Ane"/>'
            '<given value="Marie"/></name><birthDate value="1948-12-25"/><multipleBirthInteger value="2"/>'
        )
    )
    assert patient == {
        "resourceType": "Patient",
        "id": "p1",
        "active": True,
        "name": [{"family": "Hansen", "given": ["Ane", "Marie"]}],
        "birthDate": "1948-12-25",
        "multipleBirthInteger": 2,
    }


def test_primitive_id_and_extensions_go_to_the_underscore_property(codec: FhirXmlCodec) -> None:
    patient = codec.parse(
        xml(
            '<birthDate id="bd" value="1970-03-30"><extension url="http://hl7.org/fhir/StructureDefinition/'
            'patient-birthTime"><valueDateTime value="1970-03-30T14:35:45-05:00"/></extension></birthDate>'
        )
    )
    assert patient["birthDate"] == "1970-03-30"
    assert patient["_birthDate"] == {
        "id": "bd",
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                "valueDateTime": "1970-03-30T14:35:45-05:00",
            }
        ],
    }


def test_repeating_primitives_keep_null_holes_aligned(codec: FhirXmlCodec) -> None:
    ext = '<extension url="http://example.org/x"><valueString value="q"/></extension>'
    patient = codec.parse(xml(f'<name><given value="A"/><given>{ext}</given><given value="C"/></name>'))
    name = patient["name"][0]
    assert name["given"] == ["A", None, "C"]
    assert name["_given"] == [
        None,
        {"extension": [{"url": "http://example.org/x", "valueString": "q"}]},
        None,
    ]
    assert codec.parse(codec.serialise(patient)) == patient


def test_decimals_keep_their_lexical_form(codec: FhirXmlCodec) -> None:
    observation = codec.parse(
        xml(
            '<status value="final"/><code><text value="w"/></code>'
            '<valueQuantity><value value="1.50"/><unit value="kg"/></valueQuantity>'
            '<referenceRange><low><value value="0.0000001"/></low>'
            '<high><value value="1e3"/></high></referenceRange>',
            "Observation",
        )
    )
    value = observation["valueQuantity"]["value"]
    assert isinstance(value, LexicalDecimal) and str(value) == "1.50"
    assert str(observation["referenceRange"][0]["low"]["value"]) == "0.0000001"
    assert str(observation["referenceRange"][0]["high"]["value"]) == "1e3"
    assert b'"value":1.50' in dump_json(observation)
    again = codec.serialise(load_json(dump_json(observation)))
    assert b'value="1.50"' in again and b'value="0.0000001"' in again and b'value="1e3"' in again


def test_plain_json_numbers_are_written_as_fhir_decimals(codec: FhirXmlCodec) -> None:
    out = codec.serialise(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "t"},
            "valueQuantity": {"value": 1e16},
            "referenceRange": [{"low": {"value": 72}, "high": {"value": 0.5}}],
        }
    )
    assert b'value="1e16"' in out and b'value="72"' in out and b'value="0.5"' in out


def test_narrative_div_is_kept_as_an_xhtml_string(codec: FhirXmlCodec) -> None:
    patient = codec.parse(
        xml(
            f'<text><status value="generated"/>'
            f'<div xmlns="{XHTML_NS}"><p>Ane &amp; <b>Hansen</b></p></div></text>'
        )
    )
    div = patient["text"]["div"]
    assert div == f'<div xmlns="{XHTML_NS}"><p>Ane &amp; <b>Hansen</b></p></div>'
    written = etree.fromstring(codec.serialise(patient))
    assert written.find(f"{{{FHIR_NS}}}text/{{{XHTML_NS}}}div/{{{XHTML_NS}}}p") is not None


def test_element_id_and_extension_url_are_attributes(codec: FhirXmlCodec) -> None:
    resource = {
        "resourceType": "Patient",
        "extension": [{"url": "http://example.org/e", "valueBoolean": False}],
        "identifier": [{"id": "i1", "system": "urn:oid:1.2.208.176.1.2", "value": "2512489996"}],
    }
    root = etree.fromstring(codec.serialise(resource))
    extension, identifier = root.findall(f"{{{FHIR_NS}}}extension") + root.findall(f"{{{FHIR_NS}}}identifier")
    assert extension.get("url") == "http://example.org/e"
    assert extension[0].tag == f"{{{FHIR_NS}}}valueBoolean" and extension[0].get("value") == "false"
    assert identifier.get("id") == "i1"
    assert [etree.QName(c).localname for c in identifier] == ["system", "value"]


def test_output_follows_snapshot_order_not_json_order(codec: FhirXmlCodec) -> None:
    resource = {
        "gender": "female",
        "name": [{"given": ["A"], "family": "B"}],
        "id": "x",
        "resourceType": "Patient",
    }
    root = etree.fromstring(codec.serialise(resource))
    assert [etree.QName(c).localname for c in root] == ["id", "name", "gender"]
    assert [etree.QName(c).localname for c in root[1]] == ["family", "given"]


def test_contained_and_entry_resources_are_wrapped(codec: FhirXmlCodec) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "x"},
                    "contained": [{"resourceType": "Device", "id": "d", "serialNumber": "SN1"}],
                    "device": {"reference": "#d"},
                },
            }
        ],
    }
    data = codec.serialise(bundle)
    root = etree.fromstring(data)
    ns = {"f": FHIR_NS}
    assert root.xpath(
        "f:entry/f:resource/f:Observation/f:contained/f:Device/f:serialNumber/@value", namespaces=ns
    ) == ["SN1"]
    assert codec.parse(data) == bundle


def test_parameters_resource_parameter(codec: FhirXmlCodec) -> None:
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "active": True}},
            {"name": "mode", "valueCode": "create"},
        ],
    }
    assert codec.parse(codec.serialise(params)) == params


def test_choice_types_use_the_typed_name(codec: FhirXmlCodec) -> None:
    observation = codec.parse(
        xml(
            '<status value="final"/><code><text value="x"/></code>'
            '<effectiveDateTime value="2024-05-01T08:30:00+02:00"/>'
            '<valueQuantity><value value="72"/><system value="http://unitsofmeasure.org"/><code value="kg"/>'
            "</valueQuantity>",
            "Observation",
        )
    )
    assert observation["effectiveDateTime"] == "2024-05-01T08:30:00+02:00"
    assert observation["valueQuantity"]["code"] == "kg"


def test_every_structural_problem_is_collected(codec: FhirXmlCodec) -> None:
    result = codec.read(
        xml(
            '<active value="yes"/><name foo="bar"><family value="A"/></name>stray text'
            '<gender value="female"/><gender value="male"/><birthDate value=""/>'
            '<deceasedBoolean value="false"/><deceasedDateTime value="2020"/>'
            '<bogus value="1"/><multipleBirthInteger value="1.5"/><telecom><value value="1"/></telecom>'
        )
    )
    ids = sorted(i.message_id or "" for i in result.issues)
    assert ids == sorted(
        [
            "FHIR_XML_BAD_VALUE",
            "FHIR_XML_REPEATED",
            "FHIR_XML_UNKNOWN_ELEMENT",
            "FHIR_XML_UNKNOWN_ATTRIBUTE",
            "FHIR_XML_TEXT",
            "FHIR_XML_BAD_VALUE",
            "FHIR_XML_ORDER",
            "FHIR_XML_CHOICE",
            "FHIR_XML_EMPTY_VALUE",
        ]
    )
    assert all(i.severity is IssueSeverity.ERROR and i.line == 1 for i in result.issues)
    assert not result.ok and result.resource is not None
    with pytest.raises(InvalidInputError) as caught:
        codec.parse(xml('<active value="yes"/><bogus/>'))
    assert len(caught.value.issues) == 2


def test_issue_expressions_point_at_the_element(codec: FhirXmlCodec) -> None:
    result = codec.read(xml('<name><family value="A"/></name><name><given value="B"/><zzz/></name>'))
    assert [i.expression for i in result.issues] == [("Patient.name[1]",)]


def test_wrong_roots_are_reported(codec: FhirXmlCodec) -> None:
    assert codec.read(b"<Patient/>").resource is None
    assert codec.read(xml("", "Nonsense")).issues[0].message_id == "FHIR_XML_UNKNOWN_RESOURCE"
    assert codec.read(xml("", "DomainResource")).resource is None  # abstract types are not resources
    bundle = codec.read(xml('<type value="collection"/><entry><resource/></entry>', "Bundle"))
    assert [i.message_id for i in bundle.issues] == ["FHIR_XML_RESOURCE_COUNT"]


def test_comments_and_xsi_attributes_are_ignored(codec: FhirXmlCodec) -> None:
    data = (
        f'<Patient xmlns="{FHIR_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://hl7.org/fhir ../patient.xsd">'
        '<!-- c --><active value="true"/><?pi x?></Patient>'
    ).encode()
    assert codec.parse(data) == {"resourceType": "Patient", "active": True}


@pytest.mark.parametrize(
    ("resource", "message_id"),
    [
        ({"resourceType": "Patient", "bogus": 1}, "FHIR_XML_UNKNOWN_PROPERTY"),
        ({"resourceType": "Patient", "active": "true"}, "FHIR_XML_BAD_TYPE"),
        ({"resourceType": "Patient", "multipleBirthInteger": True}, "FHIR_XML_BAD_TYPE"),
        ({"resourceType": "Patient", "multipleBirthInteger": 1.5}, "FHIR_XML_BAD_TYPE"),
        ({"resourceType": "Patient", "name": {"family": "A"}}, "FHIR_XML_NOT_ARRAY"),
        ({"resourceType": "Patient", "gender": ["female"]}, "FHIR_XML_ARRAY"),
        ({"resourceType": "Patient", "name": ["A"]}, "FHIR_XML_NOT_OBJECT"),
        ({"resourceType": "Patient", "gender": "fe\x00male"}, "FHIR_XML_BAD_CHARS"),
        ({"resourceType": "Patient", "gender": "\ud800"}, "FHIR_XML_BAD_CHARS"),
        (
            {"resourceType": "Patient", "text": {"status": "generated", "div": "<p>x</p>"}},
            "FHIR_XML_BAD_XHTML",
        ),
        ({"resourceType": "Patient", "text": {"status": "generated", "div": "<div"}}, "FHIR_XML_BAD_XHTML"),
        ({"resourceType": "Patient", "name": [{"given": ["A"], "_given": [None, None]}]}, "FHIR_XML_ALIGN"),
        ({"resourceType": "Patient", "name": [{"given": [None]}]}, "FHIR_XML_EMPTY"),
        ({"resourceType": "Patient", "_gender": {"foo": 1}}, "FHIR_XML_UNKNOWN_PROPERTY"),
        ({"resourceType": "Patient", "_name": {}}, "FHIR_XML_UNKNOWN_PROPERTY"),
        ({"resourceType": "Nonsense"}, "FHIR_XML_UNKNOWN_RESOURCE"),
        ({"resourceType": "Bundle", "entry": [{"resource": "Patient"}]}, "FHIR_XML_NOT_OBJECT"),
        ({"resourceType": "Observation", "valueQuantity": {"value": float("nan")}}, "FHIR_XML_BAD_VALUE"),
        ({"resourceType": "Patient", "extension": [{"url": 7}]}, "FHIR_XML_BAD_TYPE"),
    ],
)
def test_unwritable_resources_are_refused(
    codec: FhirXmlCodec, resource: dict[str, Any], message_id: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        codec.serialise(resource)
    assert message_id in {i.message_id for i in caught.value.issues}


def test_writer_collects_all_problems_at_once(codec: FhirXmlCodec) -> None:
    with pytest.raises(InvalidInputError) as caught:
        codec.serialise({"resourceType": "Patient", "bogus": 1, "active": "no", "name": [{"zzz": 1}]})
    assert len(caught.value.issues) == 3
    assert {e for i in caught.value.issues for e in i.expression} == {
        "Patient.bogus",
        "Patient.active",
        "Patient.name[0].zzz",
    }


def test_pretty_output_parses_back(codec: FhirXmlCodec) -> None:
    patient = {"resourceType": "Patient", "id": "a", "name": [{"family": "Ø"}]}
    pretty = codec.serialise(patient, pretty=True)
    assert pretty.startswith(b"<?xml version='1.0' encoding='UTF-8'?>") and b"\n  <name>" in pretty
    assert codec.parse(pretty) == patient
