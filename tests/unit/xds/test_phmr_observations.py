"""PHMR measurements as FHIR Observations and Devices (xds.phmr_observations)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree

from hub.core.issues import IssueSeverity
from hub.core.xml_safety import parse_xml
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import build_phmr, first, mutate
from xds.phmr_observations import (
    DK_DEVICE_PROFILE,
    DK_HOME_MEASUREMENT_PROFILE,
    MEASUREMENT_IDENTIFIER_SYSTEM,
    PhmrExtraction,
    extract_observations,
    mark_entered_in_error,
    measurement_identifier,
)

PATIENT = {"reference": "Patient/p1"}
UNIQUE_ID = "1.2.208.184^5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
FHIR_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _extract(document: bytes, **kwargs: Any) -> PhmrExtraction:
    options: dict[str, Any] = {
        "document_reference_id": "dr1",
        "uniqueid": UNIQUE_ID,
        "patient_reference": PATIENT,
    }
    options.update(kwargs)
    return extract_observations(parse_xml(document), **options)


@pytest.fixture(scope="module")
def extraction() -> PhmrExtraction:
    return _extract(build_phmr(20))


def _by_code(extraction: PhmrExtraction, code: str) -> dict[str, Any]:
    return next(o for o in extraction.observations if o["code"]["coding"][0]["code"] == code)


def test_every_measurement_becomes_an_observation(extraction: PhmrExtraction) -> None:
    assert len(extraction.observations) == 20
    assert extraction.issues == ()
    for observation in extraction.observations:
        assert observation["resourceType"] == "Observation"
        assert observation["meta"] == {"profile": [DK_HOME_MEASUREMENT_PROFILE]}
        assert observation["status"] == "final"
        assert observation["subject"] == PATIENT
        assert observation["derivedFrom"] == [{"reference": "DocumentReference/dr1"}]
        assert FHIR_ID.match(observation["id"])
        assert FHIR_DATETIME.match(observation["effectiveDateTime"])


def test_profile_url_constant() -> None:
    assert DK_HOME_MEASUREMENT_PROFILE == "http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"


def test_weight_observation(extraction: PhmrExtraction) -> None:
    weight = _by_code(extraction, "NPU03804")
    assert weight["code"] == {
        "coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804", "display": "Legeme masse;Pt"}],
        "text": "Legeme masse;Pt",
    }
    assert weight["valueQuantity"] == {
        "value": 70.0,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }
    assert weight["effectiveDateTime"] == "2024-03-01T08:00:00+02:00"
    assert weight["method"] == {
        "coding": [
            {"system": "urn:oid:1.2.208.184.100.1", "code": "POT", "display": "Målt af borger"},
            {"system": "urn:oid:1.2.208.184.100.1", "code": "AUT", "display": "Måling overført automatisk"},
        ]
    }
    assert weight["performer"] == [PATIENT]  # measured by the citizen
    assert "category" not in weight  # weight sits in the Results section
    assert weight["identifier"] == [
        {
            "system": MEASUREMENT_IDENTIFIER_SYSTEM,
            "value": "urn:telehub:phmr:1.2.208.184%5E5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11"
            "/1.2.208.184%5Eobs-0000-5c1e",
        }
    ]


def test_vital_sign_with_thresholds(extraction: PhmrExtraction) -> None:
    systolic = _by_code(extraction, "DNK05472")
    assert systolic["category"][0]["coding"][0]["code"] == "vital-signs"
    assert systolic["valueQuantity"]["code"] == "mm[Hg]"
    assert isinstance(systolic["valueQuantity"]["value"], int)
    assert systolic["referenceRange"] == [
        {
            "low": {"value": 90, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
            "high": {"value": 160, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
            "type": {
                "coding": [
                    {
                        "system": "urn:oid:1.2.208.184.100.1",
                        "code": "RAL",
                        "display": "Terapeutiske grænseværdier for RØD alarm",
                    }
                ],
                "text": "Terapeutiske grænseværdier for RØD alarm",
            },
        },
        {
            "low": {"value": 90, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
            "high": {"value": 160, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
            "type": {
                "coding": [
                    {
                        "system": "urn:oid:1.2.208.184.100.1",
                        "code": "GAL",
                        "display": "Terapeutiske grænseværdier for GUL alarm",
                    }
                ],
                "text": "Terapeutiske grænseværdier for GUL alarm",
            },
        },
    ]


def test_open_ended_threshold_keeps_only_its_bound(extraction: PhmrExtraction) -> None:
    saturation = _by_code(extraction, "NPU03011")
    assert [("low" in r, "high" in r) for r in saturation["referenceRange"]] == [(True, False), (True, False)]


def test_device(extraction: PhmrExtraction) -> None:
    assert len(extraction.devices) == 1
    device = extraction.devices[0]
    assert device["meta"] == {"profile": [DK_DEVICE_PROFILE]}
    assert device["serialNumber"] == "6121ABT1-987"
    assert device["manufacturer"] == "A&D Medical"
    assert device["modelNumber"] == "UA-767PlusBT-C"
    assert device["version"] == [{"value": "2.1"}]
    assert device["identifier"] == [{"system": "urn:oid:1.2.208.184.100.3", "value": "MCI00005"}]
    assert device["type"]["coding"][0] == {
        "system": "urn:iso:std:iso:11073:10101",
        "code": "528399",
        "display": "MDC_DEV_SPEC_PROFILE_SCALE",
    }
    assert all(o["device"] == {"reference": f"Device/{device['id']}"} for o in extraction.observations)


def test_extraction_is_idempotent() -> None:
    first_run, second_run = _extract(build_phmr(20)), _extract(build_phmr(20))
    assert first_run.observations == second_run.observations
    assert first_run.devices == second_run.devices
    identifiers = [o["identifier"][0]["value"] for o in first_run.observations]
    assert len(set(identifiers)) == 20
    assert len({o["id"] for o in first_run.observations}) == 20


def test_same_device_in_another_document_is_the_same_resource(extraction: PhmrExtraction) -> None:
    other = _extract(build_phmr(3, document_id="another"), uniqueid="1.2.208.184^another")
    assert other.devices[0]["id"] == extraction.devices[0]["id"]
    assert {o["id"] for o in other.observations}.isdisjoint({o["id"] for o in extraction.observations})


def test_nullified_organizer_gives_entered_in_error() -> None:
    def nullify(root: etree._Element) -> None:
        first(root, "(//h:organizer[h:templateId/@root='2.16.840.1.113883.10.20.1.35'])[1]/h:statusCode").set(
            "code", "nullified"
        )

    statuses = [o["status"] for o in _extract(mutate(build_phmr(3), nullify)).observations]
    assert sorted(statuses) == ["entered-in-error", "final", "final"]


def test_performer_for_professional_measurement_is_the_author_organisation() -> None:
    def professional(root: etree._Element) -> None:
        for method in root.iter("{urn:hl7-org:v3}methodCode"):
            if method.get("code") == "POT":
                method.set("code", "PNT")

    observation = _extract(mutate(build_phmr(1), professional)).observations[0]
    assert observation["performer"] == [
        {"identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": "368061000016003"}}
    ]


def test_explicit_performer_overrides(extraction: PhmrExtraction) -> None:
    performer = {"reference": "Organization/o1"}
    assert _extract(build_phmr(1), performer_reference=performer).observations[0]["performer"] == [performer]


def test_fut_example_without_observation_id_and_with_na_unit() -> None:
    document = testdata_path("dk", "fut", "decoded-examples", "POST_transform-from-PHMR.request.PHMR.xml")
    result = _extract(document.read_bytes(), uniqueid="1.2.208.184^f9562ad0-2e3f-11e6-bdf4-0800200c9a66")
    assert len(result.observations) == 3
    last = result.observations[-1]
    assert last["identifier"][0]["value"].endswith("/entry-3")  # no id: position in the document
    assert last["valueQuantity"] == {
        "value": 0.95,
        "unit": "NA",
        "system": "http://unitsofmeasure.org",
        "code": "1",
    }
    assert last["effectiveDateTime"] == "2019-04-09T12:30:10+02:00"
    device = result.devices[0]
    assert "serialNumber" not in device  # "SerialNr: N/A" and only an instrument-type id
    assert device["type"]["coding"] == [
        {"system": "urn:oid:1.2.208.184.100.3", "code": "MCI00005", "display": "MedCom Instrument Codes"}
    ]


def test_fut_example_with_comment_nullified_and_thresholds() -> None:
    document = testdata_path("dk", "fut", "decoded-examples", "POST_transform-to-PHMR.response.PHMR.xml")
    result = _extract(document.read_bytes())
    height, saturation = result.observations
    assert height["status"] == "final" and saturation["status"] == "entered-in-error"
    assert "note" not in height  # the comment "N/A" carries no information
    assert saturation["effectiveDateTime"] == "2024-02-07T17:10:00Z"
    assert [r["type"]["coding"][0]["code"] for r in saturation["referenceRange"]] == ["GAL", "RAL"]
    assert saturation["referenceRange"][1]["low"]["value"] == 0.88
    assert result.devices[0]["serialNumber"] == "123456789"


def test_comment_becomes_a_note() -> None:
    def comment(root: etree._Element) -> None:
        first(root, "(//h:observation)[1]").append(
            etree.fromstring(
                '<entryRelationship xmlns="urn:hl7-org:v3" typeCode="COMP">'
                '<act classCode="ACT" moodCode="EVN">'
                '<code code="48767-8" codeSystem="2.16.840.1.113883.6.1"/><text>Målt efter  løb</text></act>'
                "</entryRelationship>"
            )
        )

    observations = _extract(mutate(build_phmr(2), comment)).observations
    assert [o.get("note") for o in observations].count([{"text": "Målt efter løb"}]) == 1


def test_unmappable_measurement_is_reported_not_dropped_silently() -> None:
    def break_value(root: etree._Element) -> None:
        first(root, "(//h:observation)[1]/h:value").set("value", "high")

    result = _extract(mutate(build_phmr(3), break_value))
    assert len(result.observations) == 2
    assert [(i.severity, i.message_id) for i in result.issues] == [(IssueSeverity.WARNING, "TH-PHMR-EXTRACT")]
    assert "not a number" in result.issues[0].diagnostics and result.issues[0].line is not None


def test_several_devices_are_not_guessed() -> None:
    def second_device(root: etree._Element) -> None:
        entry = first(root, "//h:section[h:code/@code='46264-8']/h:entry")
        clone = etree.fromstring(etree.tostring(entry))
        for software in clone.iter("{urn:hl7-org:v3}softwareName"):
            software.text = "SerialNr: 42 / SW Rev. 1"
        entry.addnext(clone)

    result = _extract(mutate(build_phmr(2), second_device))
    assert len(result.devices) == 2
    assert all("device" not in o for o in result.observations)


def test_measurement_identifier_escapes_unsafe_characters() -> None:
    assert measurement_identifier("1.2^a b", "x/y") == {
        "system": "urn:ietf:rfc:3986",
        "value": "urn:telehub:phmr:1.2%5Ea%20b/x%2Fy",
    }


def test_mark_entered_in_error_copies(extraction: PhmrExtraction) -> None:
    original = extraction.observations[0]
    retired = mark_entered_in_error(original)
    assert retired["status"] == "entered-in-error" and original["status"] == "final"
    assert {k: v for k, v in retired.items() if k != "status"} == {
        k: v for k, v in original.items() if k != "status"
    }


def test_returned_dicts_are_independent() -> None:
    observations = _extract(build_phmr(3)).observations  # the first two are vital signs
    observations[0]["subject"]["reference"] = "Patient/changed"
    observations[0]["category"][0]["coding"][0]["code"] = "changed"
    assert observations[1]["subject"] == PATIENT
    assert observations[1]["category"][0]["coding"][0]["code"] == "vital-signs"
    assert PATIENT == {"reference": "Patient/p1"}
