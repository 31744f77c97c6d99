"""Definition-free structural checks (used when hl7.fhir.r4.core is not installed)."""

from __future__ import annotations

from typing import Any

import pytest

from profiles.structure import check_structure


def _ids(resource: Any) -> list[str | None]:
    return [i.message_id for i in check_structure(resource)]


def test_clean_resource() -> None:
    assert _ids({"resourceType": "Patient", "id": "a", "name": [{"given": ["A", None]}], "_name": None}) != []
    assert _ids({"resourceType": "Patient", "id": "a", "name": [{"given": ["A"]}]}) == []


@pytest.mark.parametrize(
    ("resource", "message_id"),
    [
        ([], "VAL_JSON_NOT_OBJECT"),
        ({"id": "x"}, "VAL_RESOURCE_TYPE_MISSING"),
        ({"resourceType": "Patient", "id": "bad id!"}, "VAL_RESOURCE_ID"),
        ({"resourceType": "Patient", "active": None}, "VAL_JSON_NULL"),
        ({"resourceType": "Patient", "name": []}, "VAL_JSON_EMPTY"),
        ({"resourceType": "Patient", "gender": ""}, "VAL_JSON_EMPTY"),
        ({"resourceType": "Patient", "maritalStatus": {}}, "VAL_ELE_1"),
        ({"resourceType": "Patient", "extension": [{"valueString": "x"}]}, "VAL_EXTENSION_NO_URL"),
        ({"resourceType": "Patient", "contained": [{"id": "x"}]}, "VAL_RESOURCE_TYPE_MISSING"),
        ({"resourceType": "Patient", "_gender": "x"}, "VAL_JSON_OBJECT_EXPECTED"),
    ],
)
def test_structural_problems(resource: Any, message_id: str) -> None:
    assert message_id in _ids(resource)


def test_null_placeholders_paired_with_extensions_are_fine() -> None:
    resource = {
        "resourceType": "Patient",
        "name": [{"given": [None, "B"], "_given": [{"extension": [{"url": "u", "valueString": "x"}]}, None]}],
    }
    assert _ids(resource) == []


def test_deep_nesting_is_an_issue_not_a_crash() -> None:
    nested: dict[str, Any] = {"url": "u", "valueString": "x"}
    for _ in range(200):
        nested = {"url": "u", "extension": [nested]}
    assert "VAL_JSON_TOO_DEEP" in _ids({"resourceType": "Patient", "extension": [nested]})
