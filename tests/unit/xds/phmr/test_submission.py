"""``$submit-document`` input: the Parameters body (Binary / attachment, codes), ``[system|]code`` tokens."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hub.core.errors import InvalidInputError
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds import Code
from xds.phmr import code_from_token, submission_from_parameters
from xds.phmr.submission import SNOMED_CT

DOCUMENT = build_phmr(2)
ENCODED = base64.b64encode(DOCUMENT).decode("ascii")


def _parameters(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parameters)}


def test_binary_document() -> None:
    binary = {"resourceType": "Binary", "contentType": "application/xml", "data": ENCODED}
    submission = submission_from_parameters(_parameters({"name": "document", "resource": binary}))
    assert submission.data == DOCUMENT and submission.mime_type == "application/xml"
    assert submission.facility_type is None and submission.practice_setting is None


def test_attachment_document_with_codes() -> None:
    submission = submission_from_parameters(
        _parameters(
            {"name": "document", "valueAttachment": {"data": ENCODED}},
            {
                "name": "facilityType",
                "valueCoding": {
                    "system": "http://snomed.info/sct",
                    "code": "42665001",
                    "display": "plejehjem",
                },
            },
            {
                "name": "practiceSetting",
                "valueCodeableConcept": {"coding": [{"system": "urn:oid:1.2.3", "code": "X1"}]},
            },
        )
    )
    assert submission.data == DOCUMENT and submission.mime_type == "text/xml"
    assert submission.facility_type == Code.of("42665001", SNOMED_CT, "plejehjem")
    assert submission.practice_setting == Code.of("X1", "1.2.3")


def test_value_code_is_snomed() -> None:
    submission = submission_from_parameters(
        _parameters(
            {"name": "document", "valueAttachment": {"data": ENCODED}},
            {"name": "practiceSetting", "valueCode": "394579002"},
        )
    )
    assert submission.practice_setting == Code.of("394579002", SNOMED_CT)


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("394579002", Code.of("394579002", SNOMED_CT)),
        ("http://snomed.info/sct|394579002", Code.of("394579002", SNOMED_CT)),
        ("urn:oid:1.2.208.176.2.4|ALAL21", Code.of("ALAL21", "1.2.208.176.2.4")),
    ],
)
def test_code_tokens(token: str, code: Code) -> None:
    assert code_from_token(token) == code


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Binary", "data": ENCODED},
        _parameters(),
        _parameters({"name": "document", "valueAttachment": {"url": "http://example.org/doc.xml"}}),
        _parameters({"name": "document", "valueAttachment": {"data": "not base64!"}}),
        _parameters({"name": "document", "resource": {"resourceType": "Patient"}}),
        _parameters({"name": "document", "valueString": "x"}),
        _parameters(
            {"name": "document", "valueAttachment": {"data": ENCODED}}, {"name": "other", "valueCode": "x"}
        ),
        _parameters(
            {"name": "document", "valueAttachment": {"data": ENCODED}},
            {"name": "document", "valueAttachment": {"data": ENCODED}},
        ),
        _parameters(
            {"name": "document", "valueAttachment": {"data": ENCODED}},
            {"name": "facilityType", "valueString": "42665001"},
        ),
    ],
)
def test_bad_bodies_are_400(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        submission_from_parameters(body)


@pytest.mark.parametrize("token", ["", "http://snomed.info/sct|"])
def test_bad_tokens(token: str) -> None:
    with pytest.raises(InvalidInputError):
        code_from_token(token)
