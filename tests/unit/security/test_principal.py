"""security.principal: roles, purpose spellings, identifier formats, override reasons, principal checks."""

from __future__ import annotations

import pytest

from security.principal import (
    AuthenticationMethod,
    Principal,
    PurposeOfUse,
    Role,
    is_valid_authorisation_id,
    is_valid_cpr,
    is_valid_sor,
    override_reason_problem,
    parse_purpose,
    principal_problems,
)


def principal(**fields: object) -> Principal:
    base: dict[str, object] = {
        "subject": "s",
        "roles": frozenset({Role.PHYSICIAN}),
        "method": AuthenticationMethod.JWT,
    }
    base.update(fields)
    return Principal(**base)  # type: ignore[arg-type]


def test_professional_roles() -> None:
    assert {r for r in Role if r.is_professional} == {Role.PHYSICIAN, Role.NURSE, Role.OTHER_PROFESSIONAL}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("treatment", PurposeOfUse.TREATMENT),
        ("TREAT", PurposeOfUse.TREATMENT),
        (" Emergency ", PurposeOfUse.EMERGENCY),
        ("ETREAT", PurposeOfUse.EMERGENCY),
        ("BTG", PurposeOfUse.EMERGENCY),
        ("research", None),
        ("", None),
    ],
)
def test_parse_purpose(text: str, expected: PurposeOfUse | None) -> None:
    assert parse_purpose(text) is expected


def test_purpose_act_reason_codes() -> None:
    assert (PurposeOfUse.TREATMENT.act_reason, PurposeOfUse.EMERGENCY.act_reason) == ("TREAT", "ETREAT")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("bevidstløs patient\r\nX-Injected: 1", "CR/LF"),
        ("line\nbreak", "CR/LF"),
        ("bell\x07", "control characters"),
        ("tab\tinside", "control characters"),
        ("x" * 501, "longer than 500"),
        ("   ", "empty"),
    ],
)
def test_override_reason_refusals(value: str, fragment: str) -> None:
    problem = override_reason_problem(value)
    assert problem is not None and fragment in problem


def test_override_reason_accepts_danish_text() -> None:
    assert override_reason_problem("Akut indlæggelse, patient bevidstløs (værdispring)") is None
    assert override_reason_problem("x" * 500) is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0101011234", True),
        ("3112999999", True),
        ("3201011234", False),
        ("0113011234", False),
        ("010101123", False),
        ("01010112345", False),
        ("01010A1234", False),
    ],
)
def test_cpr_format(value: str, ok: bool) -> None:
    assert is_valid_cpr(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ZXCVB", True),
        ("7QXM1", True),
        ("ABCDE", False),
        ("ZXCV", False),
        ("zxcvb", False),
        ("ZXCVBN", False),
    ],
)
def test_authorisation_id_format(value: str, ok: bool) -> None:
    assert is_valid_authorisation_id(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("123456789012345", True), ("12345", False), ("12345678901234567890", False), ("12345678901A", False)],
)
def test_sor_format(value: str, ok: bool) -> None:
    assert is_valid_sor(value) is ok


def test_valid_physician_has_no_problems() -> None:
    assert principal_problems(principal(authorisation_id="ZXCVB", organisation_sor="123456789012345")) == []


def test_physician_without_sor_and_authorisation_collects_both_problems() -> None:
    problems = principal_problems(principal())
    assert any("SOR" in p for p in problems)
    assert any("authorisation id" in p for p in problems)


def test_other_professional_needs_sor_but_not_authorisation() -> None:
    problems = principal_problems(
        principal(roles=frozenset({Role.OTHER_PROFESSIONAL}), organisation_sor="123456")
    )
    assert problems == []


def test_citizen_needs_a_valid_cpr() -> None:
    assert any("CPR" in p for p in principal_problems(principal(roles=frozenset({Role.CITIZEN}))))
    assert principal_problems(principal(roles=frozenset({Role.CITIZEN}), cpr="0101011234")) == []
    assert principal_problems(principal(roles=frozenset({Role.CITIZEN}), cpr="99")) != []


def test_no_roles_no_subject_are_problems() -> None:
    problems = principal_problems(principal(subject="", roles=frozenset()))
    assert "credential has no subject" in problems
    assert "credential carries no telehub role" in problems


def test_emergency_override_needs_purpose_and_reason() -> None:
    assert not principal(purpose_of_use=PurposeOfUse.EMERGENCY).emergency_override
    assert not principal(purpose_of_use=PurposeOfUse.TREATMENT, override_reason="x").emergency_override
    p = principal().with_purpose(PurposeOfUse.EMERGENCY, "akut")
    assert p.emergency_override and p.override_reason == "akut"
