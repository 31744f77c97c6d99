"""UCUM unit syntax check (profiles.cda.ucum)."""

from __future__ import annotations

import pytest

from profiles.cda import UcumProblem, check_ucum


@pytest.mark.parametrize(
    "unit",
    [
        "kg",
        "mm[Hg]",
        "{beat}/min",
        "/min",
        "%",
        "Cel",
        "L",
        "m",
        "kg/m2",
        "kg.m-2",
        "1",
        "10*9/L",
        "mmol/L",
        "g/(kg.d)",
        "mg{total}/dL",
        "[in_i]",
        "cm[H2O]",
        "ug/L",
        "mL/min",
        "[degF]",
        "{}",
        "s-1",
        "kPa",
    ],
)
def test_valid_units(unit: str) -> None:
    assert check_ucum(unit) is None


@pytest.mark.parametrize(
    "unit",
    ["", " kg", "kg ", "m m", "kg/", "(kg", "kg)", "()", "{a", "a]b", "[abc", "m+", "mL/min/1.73m2", "kg²"],
)
def test_syntax_errors(unit: str) -> None:
    assert check_ucum(unit) is UcumProblem.SYNTAX


@pytest.mark.parametrize("unit", ["NA", "xyz", "beats", "kgg"])
def test_unknown_atoms(unit: str) -> None:
    assert check_ucum(unit) is UcumProblem.UNKNOWN_ATOM
