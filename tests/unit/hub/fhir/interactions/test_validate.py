"""$validate request parsing (https://hl7.org/fhir/R4/resource-operation-validate.html)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.errors import InvalidInputError
from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.fhir import ValidationMode, validate_request

PATIENT = {"resourceType": "Patient", "id": "a"}


def wrapper(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parameters)}


def test_a_bare_resource_with_query_parameters() -> None:
    request = validate_request(
        PATIENT, query=[("profile", "http://a"), ("mode", "create"), ("_format", "xml")]
    )
    assert request.resource == PATIENT
    assert request.profiles == ("http://a",)
    assert request.mode is ValidationMode.CREATE


def test_the_parameters_wrapper() -> None:
    body = wrapper(
        {"name": "resource", "resource": PATIENT},
        {"name": "profile", "valueCanonical": "http://a"},
        {"name": "profile", "valueUri": "http://b"},
        {"name": "mode", "valueCode": "update"},
    )
    issue = Issue(IssueSeverity.WARNING, IssueType.STRUCTURE, "from XML")
    request = validate_request(body, query=[("profile", "http://a")], read_issues=[issue])
    assert request.resource == PATIENT
    assert request.profiles == ("http://a", "http://b")  # duplicates once, query first
    assert request.mode is ValidationMode.UPDATE
    assert request.read_issues == (issue,)


def test_profile_and_mode_alone_name_the_stored_instance() -> None:
    request = validate_request(wrapper({"name": "mode", "valueCode": "delete"}))
    assert request.resource is None and request.mode is ValidationMode.DELETE
    assert validate_request(None).resource is None


def test_a_parameters_resource_of_its_own_is_the_thing_to_validate() -> None:
    own = wrapper({"name": "resource", "resource": PATIENT}, {"name": "other", "valueString": "x"})
    assert validate_request(own).resource == own
    assert validate_request({"resourceType": "Parameters"}).resource == {"resourceType": "Parameters"}
    odd = {"resourceType": "Parameters", "parameter": ["not an object"]}
    assert validate_request(odd).resource == odd


@pytest.mark.parametrize(
    "body, query",
    [
        (wrapper({"name": "resource", "resource": PATIENT}, {"name": "resource", "resource": PATIENT}), []),
        (wrapper({"name": "resource", "valueString": "not a resource"}), []),
        (wrapper({"name": "resource", "resource": PATIENT}, {"name": "profile", "valueInteger": 1}), []),
        (PATIENT, [("mode", "sideways")]),
        (PATIENT, [("mode", "create"), ("mode", "update")]),
    ],
)
def test_bad_requests_are_400(body: dict[str, Any], query: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_request(body, query=query)
    assert caught.value.issues[0].message_id in ("TH-VALIDATE-PARAMETERS", "TH-VALIDATE-MODE")
