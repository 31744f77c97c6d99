"""Index extraction on official R4 examples, with values derived by reading each example."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.core.errors import InvalidInputError, ValidationFailedError
from hub.core.search import (
    DateIndex,
    IndexEntry,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    SearchParamType,
    StringIndex,
    TokenIndex,
    UriIndex,
    param_hash,
)
from hub.fhir.search import IndexExtractor, SearchParameterDef, SearchParameterRegistry, default_registry
from hub.fhir.search.dates import MAX_US
from tests.conftest import testdata_path

Loader = Callable[[str], dict[str, Any]]
D = Decimal
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def utc_us(
    year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> int:
    moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000 + moment.microsecond


@pytest.fixture(scope="module")
def extractor() -> IndexExtractor:
    return IndexExtractor(default_registry())


def test_observation_example(extractor: IndexExtractor, example: Loader) -> None:
    obs = example("Observation-example.json")
    assert extractor.values(obs, "code") == (
        TokenIndex(LOINC, "29463-7", "body weight"),
        TokenIndex(LOINC, "3141-9", "body weight measured"),
        TokenIndex("http://snomed.info/sct", "27113001", "body weight"),
        TokenIndex("http://acme.org/devices/clinical-codes", "body-weight", "body weight"),
    )
    assert extractor.values(obs, "status") == (TokenIndex(None, "final"),)
    assert extractor.values(obs, "_id") == (TokenIndex(None, "example"),)
    assert extractor.values(obs, "subject") == (ReferenceIndex("Patient", "example", None),)
    assert extractor.values(obs, "patient") == (ReferenceIndex("Patient", "example", None),)
    assert extractor.values(obs, "encounter") == (ReferenceIndex("Encounter", "example", None),)
    # effectiveDateTime "2016-03-28": the whole day
    assert extractor.values(obs, "date") == (DateIndex(utc_us(2016, 3, 28), utc_us(2016, 3, 29) - 1),)
    # valueQuantity 185 lbs: implicit precision [184.5, 185.5)
    expected_weight = QuantityIndex(D(185), D("184.5"), D("185.5"), UCUM, "[lb_av]", "lbs")
    assert extractor.values(obs, "value-quantity") == (expected_weight,)
    assert extractor.values(obs, "combo-value-quantity") == (expected_weight,)
    assert extractor.values(obs, "value-concept") == ()
    assert extractor.values(obs, "performer") == ()
    assert extractor.values(obs, "no-such-parameter") == ()


def test_observation_entries_carry_hash_and_type(extractor: IndexExtractor, example: Loader) -> None:
    entries = extractor.extract(example("Observation-example.json"))
    assert len(entries) == len(set(entries))
    status = IndexEntry(param_hash("Observation", "status"), SearchParamType.TOKEN, TokenIndex(None, "final"))
    assert status in entries
    assert {e.param_hash for e in entries} == {
        param_hash("Observation", c)
        for c in (
            "_id",
            "category",
            "code",
            "combo-code",
            "status",
            "subject",
            "patient",
            "encounter",
            "date",
            "value-quantity",
            "combo-value-quantity",
        )
    }


def test_blood_pressure_components(extractor: IndexExtractor, example: Loader) -> None:
    bp = example("Observation-blood-pressure.json")
    assert extractor.values(bp, "component-value-quantity") == (
        QuantityIndex(D(107), D("106.5"), D("107.5"), UCUM, "mm[Hg]", "mmHg"),
        QuantityIndex(D(60), D("59.5"), D("60.5"), UCUM, "mm[Hg]", "mmHg"),
    )
    assert extractor.values(bp, "value-quantity") == ()
    component_codes = {(t.system, t.code) for t in extractor.values(bp, "component-code")}  # type: ignore[union-attr]
    assert component_codes == {
        (LOINC, "8480-6"),
        ("http://snomed.info/sct", "271649006"),
        ("http://acme.org/devices/clinical-codes", "bp-s"),
        (LOINC, "8462-4"),
    }
    combo = {(t.system, t.code) for t in extractor.values(bp, "combo-code")}  # type: ignore[union-attr]
    assert combo == component_codes | {(LOINC, "85354-9"), (None, None)}  # (None, None): code.text for :text
    assert TokenIndex(None, None, "blood pressure systolic & diastolic") in extractor.values(bp, "code")
    # an Identifier, and a Reference given only by identifier
    assert extractor.values(bp, "identifier") == (
        TokenIndex("urn:ietf:rfc:3986", "urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281"),
    )
    assert extractor.values(bp, "based-on") == (
        ReferenceIndex(None, None, None, "https://acme.org/identifiers", "1234"),
    )
    assert extractor.values(bp, "_profile") == (
        UriIndex("http://hl7.org/fhir/StructureDefinition/vitalsigns"),
    )
    assert extractor.values(bp, "performer") == (ReferenceIndex("Practitioner", "example", None),)


def test_patient_example(extractor: IndexExtractor, example: Loader) -> None:
    patient = example("Patient-example.json")
    names = extractor.values(patient, "name")
    assert names == (
        StringIndex("chalmers", "Chalmers"),
        StringIndex("peter", "Peter"),
        StringIndex("james", "James"),
        StringIndex("jim", "Jim"),
        StringIndex("windsor", "Windsor"),
    )  # three HumanNames, every part once
    assert extractor.values(patient, "family") == (
        StringIndex("chalmers", "Chalmers"),
        StringIndex("windsor", "Windsor"),
    )
    assert extractor.values(patient, "birthdate") == (
        DateIndex(utc_us(1974, 12, 25), utc_us(1974, 12, 26) - 1),
    )
    assert extractor.values(patient, "gender") == (TokenIndex(None, "male"),)
    assert extractor.values(patient, "active") == (TokenIndex(None, "true"),)
    assert extractor.values(patient, "deceased") == (TokenIndex(None, "false"),)  # deceasedBoolean false
    assert extractor.values(patient, "identifier") == (TokenIndex("urn:oid:1.2.36.146.595.217.0.1", "12345"),)
    assert extractor.values(patient, "phone") == (
        TokenIndex("phone", "(03) 5555 6473"),
        TokenIndex("phone", "(03) 3410 5613"),
        TokenIndex("phone", "(03) 5555 8834"),
    )
    assert extractor.values(patient, "email") == ()
    assert extractor.values(patient, "telecom") == extractor.values(
        patient, "phone"
    )  # {"use": "home"} has no value
    assert StringIndex("pleasantville", "PleasantVille") in extractor.values(patient, "address")
    assert extractor.values(patient, "address-postalcode") == (StringIndex("3999", "3999"),)
    assert extractor.values(patient, "address-use") == (TokenIndex(None, "home"),)
    assert extractor.values(patient, "organization") == (ReferenceIndex("Organization", "1", None),)


def test_time_zones_periods_and_identifier_only_references(
    extractor: IndexExtractor, example: Loader
) -> None:
    audit = example("AuditEvent-example.json")
    # recorded 2012-10-25T22:04:27+11:00 = 11:04:27 UTC, second precision
    assert extractor.values(audit, "date") == (
        DateIndex(utc_us(2012, 10, 25, 11, 4, 27), utc_us(2012, 10, 25, 11, 4, 28) - 1),
    )
    assert extractor.values(audit, "agent") == (
        ReferenceIndex(None, None, None, None, "Grahame"),
        ReferenceIndex(None, None, None, "urn:oid:2.16.840.1.113883.4.2", "2.16.840.1.113883.4.2"),
    )
    assert extractor.values(audit, "address") == (
        StringIndex("127.0.0.1", "127.0.0.1"),
        StringIndex("workstation1.ehr.familyclinic.com", "Workstation1.ehr.familyclinic.com"),
    )
    consent = example("Consent-consent-example-notTime.json")
    # provision.period 2015-01-01 .. 2015-02-01: from the first day's start to the last day's end
    assert extractor.values(consent, "period") == (DateIndex(utc_us(2015, 1, 1), utc_us(2015, 2, 2) - 1),)
    assert extractor.values(consent, "patient") == (ReferenceIndex("Patient", "f001", None),)
    provenance = example("Provenance-example.json")
    assert extractor.values(provenance, "target") == (
        ReferenceIndex("Procedure", "example", None),
    )  # _history dropped
    assert extractor.values(provenance, "when") == ()  # occurredPeriod, and 'when' is (occurred as dateTime)
    assert extractor.values(provenance, "recorded") == (
        DateIndex(utc_us(2015, 6, 26, 22, 39, 24), utc_us(2015, 6, 26, 22, 39, 25) - 1),
    )


def test_document_reference(extractor: IndexExtractor, example: Loader) -> None:
    doc = example("DocumentReference-example.json")
    assert extractor.values(doc, "identifier") == (
        TokenIndex("urn:ietf:rfc:3986", "urn:oid:1.3.6.1.4.1.21367.2005.3.7"),
        TokenIndex("urn:ietf:rfc:3986", "urn:oid:1.3.6.1.4.1.21367.2005.3.7.1234"),
    )
    assert extractor.values(doc, "author") == (
        ReferenceIndex("Practitioner", "xcda1", None),
    )  # "#a2" is contained
    assert extractor.values(doc, "location") == (
        UriIndex("http://example.org/xds/mhd/Binary/07a6483f-732b-461e-86b6-edb665c45510"),
    )
    assert extractor.values(doc, "patient") == (ReferenceIndex("Patient", "xcda", None),)


def _supported_examples() -> list[str]:
    folder = testdata_path("fhir", "examples")
    types = default_registry().resource_types
    return sorted(p.name for p in folder.glob("*.json") if p.name.split("-", 1)[0] in types)


def test_fast_path_and_fhirpathpy_agree_on_every_official_example(example: Loader) -> None:
    registry = default_registry()
    fast, fhirpathpy = IndexExtractor(registry), IndexExtractor(registry, fast_paths=False)
    names = _supported_examples()
    assert len(names) > 150
    for name in names:
        resource = example(name)
        assert set(fast.extract(resource)) == set(fhirpathpy.extract(resource)), name


def test_extraction_does_not_modify_the_resource(extractor: IndexExtractor, example: Loader) -> None:
    for name in ("Patient-example.json", "Bundle-bundle-example.json", "Observation-blood-pressure.json"):
        resource = example(name)
        before = copy.deepcopy(resource)
        extractor.extract(resource)
        IndexExtractor(default_registry(), fast_paths=False).extract(resource)
        assert resource == before


def test_decimal_example_with_extreme_exponents(extractor: IndexExtractor) -> None:
    # Observation-decimal.json, parsed keeping the written precision of each decimal
    path = testdata_path("fhir", "examples", "Observation-decimal.json")
    resource = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    values = extractor.values(resource, "component-value-quantity")
    assert [(v.value, v.low, v.high) for v in values] == [  # type: ignore[union-attr]
        (D("1.0"), D("0.95"), D("1.05")),
        (D("1.00"), D("0.995"), D("1.005")),
        (D("1E-22"), D("5E-23"), D("1.5E-22")),
        (D(10**18), D("999999999999999999.5"), D("1000000000000000000.5")),
        (D("1.000000000000000000E-245"), D("9.999999999999999995E-246"), D("1.0000000000000000005E-245")),
        (D("-1.000000000000000000E+245"), D("-1.0000000000000000005E+245"), D("-9.999999999999999995E+244")),
    ]  # the two equal "1.0" components give one row


def test_json_decimals_keep_their_precision() -> None:
    extractor = IndexExtractor(default_registry())
    text = '{"resourceType": "Observation", "valueQuantity": {"value": 5.40, "code": "kg"}}'
    as_float = extractor.values(json.loads(text), "value-quantity")
    as_decimal = extractor.values(json.loads(text, parse_float=Decimal), "value-quantity")
    assert as_float == (QuantityIndex(D("5.4"), D("5.35"), D("5.45"), None, "kg", None),)
    assert as_decimal == (QuantityIndex(D("5.40"), D("5.395"), D("5.405"), None, "kg", None),)


def test_local_base_and_timing_and_money() -> None:
    base = "https://telehub.example/fhir"
    extractor = IndexExtractor(default_registry(), local_base=base)
    obs = {
        "resourceType": "Observation",
        "subject": {"reference": f"{base}/Patient/0101011234"},
        "performer": [{"reference": "https://other.example/fhir/Practitioner/p1"}],
        "effectiveTiming": {
            "event": ["2024-03-05T08:00:00Z", "2024-03-01"],
            "repeat": {"boundsPeriod": {"end": "2024-04"}},
        },
        "valueQuantity": {"value": 7},
    }
    assert extractor.values(obs, "patient") == (ReferenceIndex("Patient", "0101011234", None),)
    assert extractor.values(obs, "performer") == (
        ReferenceIndex("Practitioner", None, "https://other.example/fhir/Practitioner/p1"),
    )
    # outer limits of the events and the bounds
    assert extractor.values(obs, "date") == (DateIndex(-62135596800000000, utc_us(2024, 5, 1) - 1),)
    assert extractor.values(obs, "value-quantity") == (
        QuantityIndex(D(7), D("6.5"), D("7.5"), None, None, None),
    )
    registry = SearchParameterRegistry(
        [
            SearchParameterDef(
                "Observation", "money", SearchParamType.QUANTITY, "Observation.extension.value"
            ),
            SearchParameterDef("Observation", "n", SearchParamType.NUMBER, "Observation.extension.value"),
            SearchParameterDef("Observation", "open", SearchParamType.DATE, "Observation.effective"),
        ]
    )
    priced = {
        "resourceType": "Observation",
        "extension": [{"url": "x", "valueMoney": {"value": 12.5, "currency": "DKK"}}],
    }
    assert IndexExtractor(registry).values(priced, "money") == (
        QuantityIndex(D("12.5"), D("12.45"), D("12.55"), "urn:iso:std:iso:4217", "DKK", None),
    )
    counted = {"resourceType": "Observation", "extension": [{"url": "x", "valueInteger": 3}]}
    assert IndexExtractor(registry).values(counted, "n") == (NumberIndex(D("2.5"), D("3.5"), D(3)),)
    open_ended = {"resourceType": "Observation", "effectivePeriod": {"start": "2024-03-05"}}
    assert IndexExtractor(registry).values(open_ended, "open") == (DateIndex(utc_us(2024, 3, 5), MAX_US),)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ({"resourceType": "Observation", "effectiveDateTime": "2024-02-30"}, "Observation.date"),
        ({"resourceType": "Observation", "effectiveDateTime": "yesterday"}, "not a valid FHIR date"),
        ({"resourceType": "Observation", "effectivePeriod": {"start": 20240101}}, "malformed start or end"),
        ({"resourceType": "Observation", "valueQuantity": {"value": "1e999"}}, "not an indexable decimal"),
        (
            {"resourceType": "Observation", "valueQuantity": {"value": float("inf")}},
            "not an indexable decimal",
        ),
        ({"resourceType": "Observation", "valueQuantity": {"value": [1]}}, "is not a decimal"),
    ],
)
def test_unindexable_values_fail_loudly(
    extractor: IndexExtractor, resource: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationFailedError, match=message):
        extractor.extract(resource)


def test_hostile_shapes_are_ignored_not_crashing(extractor: IndexExtractor) -> None:
    hostile = {
        "resourceType": "Observation",
        "status": ["final"],
        "code": "not-a-codeable-concept",
        "subject": {"reference": {"nested": True}, "type": 5},
        "category": [None, 3, {"coding": "x"}, {"coding": [None, {"system": 1, "code": ["a"]}]}],
        "contained": [{"resourceType": ["Patient"]}],
        "component": [{"code": {"coding": [{"code": "' OR 1=1 --"}]}}],
        "meta": {"tag": {"system": "s", "code": "c"}, "profile": [7, "http://p"]},
    }
    entries = extractor.extract(hostile)
    assert (
        IndexEntry(
            param_hash("Observation", "component-code"),
            SearchParamType.TOKEN,
            TokenIndex(None, "' OR 1=1 --"),
        )
        in entries
    )
    assert (
        IndexEntry(param_hash("Observation", "_tag"), SearchParamType.TOKEN, TokenIndex("s", "c")) in entries
    )
    assert (
        IndexEntry(param_hash("Observation", "_profile"), SearchParamType.URI, UriIndex("http://p"))
        in entries
    )
    assert not [e for e in entries if e.param_hash == param_hash("Observation", "subject")]


def test_requires_a_resource_type(extractor: IndexExtractor) -> None:
    with pytest.raises(InvalidInputError, match="resourceType"):
        extractor.extract({"id": "x"})
    assert extractor.extract({"resourceType": "Encounter", "status": "planned"}) == ()


def test_long_values_are_clipped(extractor: IndexExtractor) -> None:
    long_code = "c" * 5000
    entries = extractor.values({"resourceType": "Observation", "status": long_code}, "status")
    assert entries == (TokenIndex(None, "c" * 512),)


def test_registry_extension_is_picked_up() -> None:
    registry = default_registry()
    extractor = IndexExtractor(registry)
    patient = {
        "resourceType": "Patient",
        "id": "p",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "0101011234"}],
    }
    assert extractor.values(patient, "cpr") == ()
    registry.add(
        SearchParameterDef(
            "Patient",
            "cpr",
            SearchParamType.TOKEN,
            "Patient.identifier.where(system='urn:oid:1.2.208.176.1.2')",
        )
    )
    assert extractor.values(patient, "cpr") == (TokenIndex("urn:oid:1.2.208.176.1.2", "0101011234"),)
