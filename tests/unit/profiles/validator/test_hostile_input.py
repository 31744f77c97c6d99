"""Hostile or broken input gives issues, never a crash."""

from __future__ import annotations

from typing import Any

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import ids


def test_invalid_utf8_and_json(core_validator: ProfileValidator) -> None:
    assert ids(
        core_validator.validate_bytes(b'{"resourceType": "Patient", "name": [{"family": "\xff\xfe"}]}')
    ) == ["VAL_JSON_UTF8"]
    assert ids(core_validator.validate_bytes(b'{"resourceType": "Patient",')) == ["VAL_JSON_INVALID"]
    assert ids(core_validator.validate_bytes(b"[" * 5000 + b"]" * 5000)) in (
        ["VAL_JSON_INVALID"],
        ["VAL_JSON_NOT_OBJECT"],
    )


def test_deep_nesting(core_validator: ProfileValidator) -> None:
    nested: dict[str, Any] = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(300):
        nested = {"url": "http://example.org/x", "extension": [nested]}
    issues = core_validator.validate({"resourceType": "Patient", "extension": [nested]})
    assert "VAL_JSON_TOO_DEEP" in ids(issues)


def test_huge_array(core_validator: ProfileValidator) -> None:
    patient = {
        "resourceType": "Patient",
        "name": [{"given": ["x"] * 100_000}],
        "identifier": [{"value": str(i)} for i in range(1000)],
    }
    assert ids(core_validator.validate(patient)) == []


def test_wrong_json_types_everywhere(core_validator: ProfileValidator) -> None:
    patient = {
        "resourceType": "Patient",
        "name": "Peter",
        "active": {"a": 1},
        "contact": [5],
        "photo": [[1]],
        "id": 7,
    }
    found = ids(core_validator.validate(patient))
    assert "VAL_JSON_ARRAY_EXPECTED" in found and "VAL_JSON_PRIMITIVE_EXPECTED" in found
    assert "VAL_JSON_OBJECT_EXPECTED" in found and "VAL_PRIMITIVE_FORMAT" in found


def test_empty_and_odd_property_names(core_validator: ProfileValidator) -> None:
    odd = {
        "resourceType": "Observation",
        "": 1,
        "_": {"id": "x"},
        "status": "final",
        "code": {"text": "x", "": []},
        "valueQuantity": {"": 2, "value": 1},
        "component": [{"code": {"text": "c"}, "value": 3}],
    }
    issues = core_validator.validate(odd)
    assert "VAL_UNKNOWN_ELEMENT" in ids(issues)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [odd, "not an entry", None]}
    assert ids(core_validator.validate(bundle))
