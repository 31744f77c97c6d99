"""CPR numbers: format, DDMMYY with the 7th-digit century rule, modulus 11 as a warning only."""

from __future__ import annotations

import datetime

import pytest

from hub.core.issues import IssueSeverity
from profiles.danish import (
    check_cpr,
    check_cpr_date,
    check_cpr_modulus11,
    cpr_birth_date,
    is_cpr_format,
    modulus11_ok,
    parse_cpr,
)
from profiles.danish.cpr import century


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("0101001234", datetime.date(1900, 1, 1)),  # 7th digit 1 -> 1900s
        ("3112993999", datetime.date(1999, 12, 31)),  # 7th digit 3 -> 1900s
        ("0101364000", datetime.date(2036, 1, 1)),  # 4, YY <= 36 -> 2000s
        ("0101374000", datetime.date(1937, 1, 1)),  # 4, YY >= 37 -> 1900s
        ("0101575000", datetime.date(2057, 1, 1)),  # 5-8, YY <= 57 -> 2000s
        ("0101588000", datetime.date(1858, 1, 1)),  # 5-8, YY >= 58 -> 1800s
        ("2512489996", datetime.date(1948, 12, 25)),  # 9, YY >= 37 -> 1900s
        ("2902209000", datetime.date(2020, 2, 29)),  # 9, YY <= 36 -> 2000s, leap day
    ],
)
def test_birth_date_uses_the_century_rule(cpr: str, born: datetime.date) -> None:
    assert cpr_birth_date(cpr) == born
    parsed = parse_cpr(cpr)
    assert parsed is not None and parsed.birth_date == born
    assert check_cpr_date(cpr, "x") == []


@pytest.mark.parametrize("cpr", ["3102001234", "2902190000", "0013001234", "3204991234", "0000001234"])
def test_impossible_dates_are_errors(cpr: str) -> None:
    assert cpr_birth_date(cpr) is None and parse_cpr(cpr) is None
    issues = check_cpr_date(cpr, "Patient.identifier[0].value")
    assert [(i.severity, i.message_id, i.expression) for i in issues] == [
        (IssueSeverity.ERROR, "DK-CPR-DATE", ("Patient.identifier[0].value",))
    ]
    assert cpr not in issues[0].diagnostics  # personal data is not echoed into logs


def test_century_table() -> None:
    assert [century(d, 36) for d in range(10)] == [1900] * 4 + [2000] * 6
    assert [century(d, 37) for d in range(10)] == [1900] * 5 + [2000] * 4 + [1900]
    assert [century(d, 58) for d in range(10)] == [1900] * 5 + [1800] * 4 + [1900]


@pytest.mark.parametrize(
    "value", ["123456789", "12345678901", "25124899a6", "251248-9996", "２５１２４８９９９６", 2512489996]
)
def test_format_errors(value: object) -> None:
    assert not (isinstance(value, str) and is_cpr_format(value))
    issues = check_cpr(value, "v")
    assert [i.message_id for i in issues] == ["DK-CPR-FORMAT"]
    assert check_cpr_date(value, "v") == [] and check_cpr_modulus11(value, "v") == []


def test_modulus_11_is_only_a_warning() -> None:
    assert modulus11_ok("0707614285")
    assert check_cpr("0707614285", "v") == []
    assert not modulus11_ok("2512489996")
    issues = check_cpr("2512489996", "v")
    assert [(i.severity, i.message_id) for i in issues] == [(IssueSeverity.WARNING, "DK-CPR-MOD11")]
    parsed = parse_cpr("2512489996")
    assert parsed is not None and not parsed.modulus11_ok and not parsed.odd_serial


def test_all_rules_together() -> None:
    issues = check_cpr("3102001235", "v")  # 31 Feb and a failing check digit
    assert sorted(i.message_id or "" for i in issues) == ["DK-CPR-DATE", "DK-CPR-MOD11"]
