"""SOR codes (>= 11 digits) and authorisation ids (5 digits/consonants, y included)."""

from __future__ import annotations

import pytest

from profiles.danish import check_authorisation_id, check_sor_code, is_authorisation_id, is_sor_code


@pytest.mark.parametrize("code", ["8071000016009", "12345678901", "937961000016000"])
def test_valid_sor_codes(code: str) -> None:
    assert is_sor_code(code) and check_sor_code(code, "v") == []


@pytest.mark.parametrize("code", ["1234567890", "80710000160O9", " 8071000016009", "", None, 8071000016009])
def test_invalid_sor_codes(code: object) -> None:
    issues = check_sor_code(code, "Organization.identifier[0].value")
    assert [(i.message_id, i.expression) for i in issues] == [
        ("DK-SOR-FORMAT", ("Organization.identifier[0].value",))
    ]


@pytest.mark.parametrize("auth", ["0C4XQ", "NCPV5", "yyyyy", "12345", "bcdfg"])
def test_valid_authorisation_ids(auth: str) -> None:
    assert is_authorisation_id(auth) and check_authorisation_id(auth, "v") == []


@pytest.mark.parametrize("auth", ["0A4XQ", "0C4XE", "ABCDE", "1234", "123456", "0C4X!", "", None, "ÆØÅ12"])
def test_invalid_authorisation_ids(auth: object) -> None:
    assert [i.message_id for i in check_authorisation_id(auth, "v")] == ["DK-AUTH-FORMAT"]


def test_long_values_are_truncated_in_messages() -> None:
    issue = check_sor_code("x" * 10_000, "v")[0]
    assert len(issue.diagnostics) < 200
