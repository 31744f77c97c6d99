"""Rules of definitions: Measure/MeasureReport, ValueSet authoring, type profiles of SDs, que-12."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors, ids

Build = Callable[..., ProfileValidator]
ELM = b"""<?xml version="1.0" encoding="UTF-8"?>
<library xmlns="urn:hl7-org:elm:r1">
  <identifier id="Screening"/>
  <statements>
    <def name="Initial Population"/>
    <def name="Adults"/>
  </statements>
</library>"""
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"


def _library(elm: bytes = ELM) -> dict[str, Any]:
    return {
        "resourceType": "Library",
        "url": "http://t/Library/Screening",
        "name": "Screening",
        "status": "active",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}
            ]
        },
        "content": [{"contentType": "application/elm+xml", "data": base64.b64encode(elm).decode()}],
    }


def _code(code: str) -> dict[str, Any]:
    return {"coding": [{"system": POPULATION, "code": code}]}


def _measure(stratifier: str, *, scoring: str = "cohort", groups: int = 1) -> dict[str, Any]:
    group = {
        "population": [
            {
                "code": _code("initial-population"),
                "criteria": {"language": "text/cql.identifier", "expression": "Initial Population"},
            }
        ],
        "stratifier": [{"criteria": {"language": "text/cql", "expression": stratifier}}],
    }
    return {
        "resourceType": "Measure",
        "url": "http://t/Measure/m",
        "status": "active",
        "library": ["http://t/Library/Screening"],
        "scoring": {"coding": [{"system": SCORING, "code": scoring}]},
        "group": [dict(group, code={"text": f"g{i}"}) if groups > 1 else group for i in range(groups)],
    }


def test_measure_criteria_name_definitions_of_the_library(fresh_validator: Build) -> None:
    validator = fresh_validator(_library())
    assert errors(validator.validate(_measure("Screening.Adults"))) == []
    assert ids(validator.validate(_measure("Screening.Children"))) == ["VAL_MEASURE"]
    assert ids(validator.validate(_measure("Other.Adults"))) == ["VAL_MEASURE"]
    no_library = dict(_measure("Adults"), library=None)
    assert ids(validator.validate({k: v for k, v in no_library.items() if v is not None})) == ["VAL_MEASURE"]
    # a library that is named but not loaded: nothing to check the criteria against
    unknown = dict(_measure("Screening.Children"), library=["http://t/Library/Elsewhere"])
    assert ids(fresh_validator().validate(unknown)) == []


def test_unreadable_elm_is_reported(fresh_validator: Build) -> None:
    validator = fresh_validator(_library(b"<library xmlns='urn:other'/>"))
    assert ids(validator.validate(_measure("Screening.Adults"))) == ["VAL_MEASURE"]
    broken = fresh_validator(_library(b"<library"))
    issues = errors(broken.validate(_measure("Screening.Adults")))
    assert issues and all("cannot be read" in i.diagnostics for i in issues)


def _report(*groups: dict[str, Any], report_type: str = "summary") -> dict[str, Any]:
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": report_type,
        "measure": "http://t/Measure/m",
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        **({"group": list(groups)} if groups else {}),
    }


def _report_group(score: float | None = None, code: str | None = None) -> dict[str, Any]:
    group: dict[str, Any] = {"population": [{"code": _code("initial-population"), "count": 5}]}
    if score is not None:
        group["measureScore"] = {"value": score}
    if code is not None:
        group["code"] = {"text": code}
    return group


def test_measure_report_scores_follow_the_scoring(fresh_validator: Build) -> None:
    cohort = fresh_validator(_library(), _measure("Screening.Adults"))
    assert errors(cohort.validate(_report(_report_group()))) == []
    assert ids(cohort.validate(_report(_report_group(score=5)))) == ["VAL_MEASURE"]
    proportion = fresh_validator(_library(), _measure("Screening.Adults", scoring="proportion"))
    assert errors(proportion.validate(_report(_report_group(score=0.5)))) == []
    assert ids(proportion.validate(_report(_report_group(score=2)))) == ["VAL_MEASURE"]
    assert ids(proportion.validate(_report(_report_group()))) == ["VAL_MEASURE"]


def test_measure_report_groups_match_the_measure(fresh_validator: Build) -> None:
    validator = fresh_validator(_library(), _measure("Screening.Adults", groups=2))
    matched = _report(_report_group(code="g0"), _report_group(code="g1"))
    assert errors(validator.validate(matched)) == []
    anonymous = _report(_report_group(), _report_group())
    # both groups lack a code, and so no measure group is reported
    assert ids(validator.validate(anonymous)) == ["VAL_MEASURE"] * 4
    twice = _report(_report_group(code="g0"), _report_group(code="g0"))
    assert len(errors(validator.validate(twice))) == 2
    # a data-collection report holds no groups (mrp-1), and none is missing
    assert errors(validator.validate(_report(report_type="data-collection"))) == []


def test_unknown_measure_is_a_warning(core_validator: ProfileValidator) -> None:
    issues = core_validator.validate(_report(_report_group()))
    assert errors(issues) == [] and any(i.message_id == "VAL_MEASURE" for i in issues)


def test_value_set_filter_on_a_coding_property(fresh_validator: Build) -> None:
    code_system = {
        "resourceType": "CodeSystem",
        "url": "http://t/cs-props",
        "status": "active",
        "content": "complete",
        "property": [{"code": "kind", "type": "Coding"}, {"code": "rank", "type": "integer"}],
        "concept": [{"code": "a"}],
    }
    validator = fresh_validator(code_system)

    def value_set(prop: str, value: str) -> dict[str, Any]:
        condition = {"property": prop, "op": "=", "value": value}
        return {
            "resourceType": "ValueSet",
            "url": "http://t/vs",
            "status": "active",
            "compose": {"include": [{"system": "http://t/cs-props", "filter": [condition]}]},
        }

    assert ids(validator.validate(value_set("kind", "just-a-code"))) == ["VAL_VALUE_SET_RULE"]
    assert errors(validator.validate(value_set("kind", "http://t/other|1.0#x"))) == []
    assert errors(validator.validate(value_set("rank", "2"))) == []


def _parameterised(language: str, expression: str) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "url": "http://t/vs-params",
        "status": "active",
        "extension": [
            {
                "url": "http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter",
                "extension": [{"url": "name", "valueCode": "p-inactive"}],
            }
        ],
        "compose": {
            "include": [
                {
                    "system": "http://snomed.info/sct",
                    "filter": [
                        {
                            "property": "inactive",
                            "op": "=",
                            "_value": {
                                "extension": [
                                    {
                                        "url": "http://hl7.org/fhir/StructureDefinition/cqf-expression",
                                        "valueExpression": {"language": language, "expression": expression},
                                    }
                                ]
                            },
                        }
                    ],
                }
            ]
        },
    }


def test_value_set_parameters(core_validator: ProfileValidator) -> None:
    assert errors(core_validator.validate(_parameterised("text/fhirpath", "%p-inactive"))) == []
    unknown = core_validator.validate(_parameterised("text/fhirpath", "%p-other"))
    assert ids(unknown) == ["VAL_VALUE_SET_RULE"]
    assert any(i.message_id == "VAL_VALUE_SET_RULE" and not i.is_error for i in unknown)  # p-inactive unused
    assert ids(core_validator.validate(_parameterised("text/cql", "%p-inactive"))) == ["VAL_VALUE_SET_RULE"]
    # FHIRPath environment variables are not parameters
    assert errors(core_validator.validate(_parameterised("text/fhirpath", "%resource.id"))) == []


def _structure_definition(profile_url: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": "http://t/StructureDefinition/obs-count",
        "name": "ObsCount",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Observation",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Observation.valueQuantity",
                    "path": "Observation.valueQuantity",
                    "type": [{"code": "Quantity", "profile": [profile_url]}],
                }
            ]
        },
    }


def test_type_profiles_are_profiles_of_the_type(core_validator: ProfileValidator) -> None:
    core = "http://hl7.org/fhir/StructureDefinition/"
    assert "VAL_RESOURCE_RULE" in ids(core_validator.validate(_structure_definition(core + "Count")))
    assert "VAL_RESOURCE_RULE" not in ids(
        core_validator.validate(_structure_definition(core + "SimpleQuantity"))
    )


def _questionnaire(behaviour: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": "n2",
        "type": "integer",
        "enableWhen": [
            {"question": "n0", "operator": "=", "answerInteger": 1},
            {"question": "n1", "operator": "=", "answerInteger": 1},
        ],
    }
    if behaviour:
        item["enableBehavior"] = behaviour
    return {
        "resourceType": "Questionnaire",
        "status": "draft",
        "item": [{"linkId": "n0", "type": "integer"}, {"linkId": "n1", "type": "integer"}, item],
    }


def test_que_12_means_more_than_one_enable_when(core_validator: ProfileValidator) -> None:
    issues = errors(core_validator.validate(_questionnaire(None)))
    assert [i.diagnostics.split(":")[1].strip() for i in issues] == ["que-12"]
    assert errors(core_validator.validate(_questionnaire("all"))) == []


def test_a_derived_profile_keeps_the_fixed_values_of_its_base(fresh_validator: Build) -> None:
    base = {
        "resourceType": "StructureDefinition",
        "url": "http://t/StructureDefinition/ext-base",
        "name": "ExtBase",
        "status": "draft",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": "Patient"}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Extension.url",
                    "path": "Extension.url",
                    "fixedUri": "http://t/StructureDefinition/ext-base",
                },
                {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "string"}]},
            ]
        },
    }

    def derived(url: str) -> dict[str, Any]:
        sd = dict(
            base,
            url="http://t/StructureDefinition/ext-derived",
            name="ExtDerived",
            baseDefinition=base["url"],
        )
        sd["differential"] = {"element": [{"id": "Extension.url", "path": "Extension.url", "fixedUri": url}]}
        return sd

    validator = fresh_validator(base)
    assert ids(validator.validate(derived("http://t/StructureDefinition/ext-derived"))) == [
        "VAL_RESOURCE_RULE"
    ]
    assert "VAL_RESOURCE_RULE" not in ids(validator.validate(derived(base["url"])))


def _patient_profile_sd(url: str, base: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[-1].replace("-", ""),
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient.active", "path": "Patient.active", "min": 1}]},
    }


def test_base_definition_chains(fresh_validator: Build) -> None:
    first = _patient_profile_sd("http://t/StructureDefinition/a", "http://t/StructureDefinition/b")
    second = _patient_profile_sd("http://t/StructureDefinition/b", "http://t/StructureDefinition/a")
    validator = fresh_validator(first, second)
    issues = validator.validate(first)
    assert "VAL_RESOURCE_RULE" in ids(issues)
    assert any("circular" in i.diagnostics for i in issues)
    unknown = _patient_profile_sd("http://t/StructureDefinition/c", "http://t/StructureDefinition/nowhere")
    issues = validator.validate(unknown)
    assert "VAL_RESOURCE_RULE" not in ids(issues)
    assert any(i.message_id == "VAL_PROFILE_UNKNOWN" and not i.is_error for i in issues)
    fine = _patient_profile_sd(
        "http://t/StructureDefinition/d", "http://hl7.org/fhir/StructureDefinition/Patient"
    )
    assert "VAL_RESOURCE_RULE" not in ids(validator.validate(fine))


def test_discriminator_paths_name_elements_of_the_sliced_type(core_validator: ProfileValidator) -> None:
    def sliced(path: str) -> dict[str, Any]:
        sd = _patient_profile_sd(
            "http://t/StructureDefinition/sliced", "http://hl7.org/fhir/StructureDefinition/Patient"
        )
        slicing = {"discriminator": [{"type": "value", "path": path}], "rules": "open"}
        sd["differential"] = {
            "element": [
                {"id": "Patient.extension", "path": "Patient.extension", "slicing": slicing},
                {"id": "Patient.identifier", "path": "Patient.identifier", "slicing": slicing},
            ]
        }
        return sd

    assert ids(core_validator.validate(sliced("url"))) == ["VAL_RESOURCE_RULE"]  # Identifier has no url
    assert ids(core_validator.validate(sliced("system"))) == ["VAL_RESOURCE_RULE"]  # Extension has no system
    assert ids(core_validator.validate(sliced("$this"))) == []
    assert ids(core_validator.validate(sliced("extension('http://t/x').value"))) == []
