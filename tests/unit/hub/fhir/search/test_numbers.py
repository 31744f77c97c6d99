"""Implicit precision ranges and bounds of decimals (hub.fhir.search.numbers)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.fhir.search.numbers import MAX_DIGITS, decimal_of, parse_decimal, precision_range

D = Decimal


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("100", D("99.5"), D("100.5")),
        ("5.4", D("5.35"), D("5.45")),
        ("5.40", D("5.395"), D("5.405")),
        ("0", D("-0.5"), D("0.5")),
        ("-3.1", D("-3.15"), D("-3.05")),
        ("1e2", D("50"), D("150")),  # one significant figure (see the module docstring)
        ("1.0e2", D("95"), D("105")),
        ("2.5E-3", D("0.00245"), D("0.00255")),
        ("1e-245", D("5e-246"), D("1.5e-245")),  # Observation-decimal.json has this value
    ],
)
def test_precision_range_is_half_a_unit_of_the_last_digit(text: str, low: Decimal, high: Decimal) -> None:
    value = parse_decimal(text)
    assert value == D(text)
    assert value is not None
    assert precision_range(value) == (low, high)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1.",
        ".5",
        "+5",
        "05",
        "1e",
        "1e99999",
        "1e301",
        "NaN",
        "Infinity",
        "-",
        "5,4",
        "1_000",
        "١٢",
        "1" * 200,
        "5.4; DROP TABLE resource",
    ],
)
def test_malformed_or_unbounded_decimals_are_refused(text: str) -> None:
    assert parse_decimal(text) is None


def test_json_numbers() -> None:
    assert decimal_of(185) == D(185)
    assert decimal_of(5.4) == D("5.4")
    assert decimal_of(D("5.40")).as_tuple().exponent == -2  # type: ignore[union-attr]
    assert decimal_of(True) is None
    assert decimal_of(float("inf")) is None
    assert decimal_of(float("nan")) is None
    assert decimal_of({"value": 1}) is None
    assert decimal_of("7.25") == D("7.25")


def test_long_values_are_rounded_not_refused() -> None:
    value = decimal_of(D("1." + "3" * 60))
    assert value is not None
    assert len(value.as_tuple().digits) == MAX_DIGITS
    low, high = precision_range(value)
    assert low < value < high
