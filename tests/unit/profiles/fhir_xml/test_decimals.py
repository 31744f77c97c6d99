"""Lexical decimals: FHIR decimal precision survives JSON text, Python and XML."""

from __future__ import annotations

import copy
import decimal
import pickle

import pytest

from hub.core.errors import InvalidInputError
from profiles.fhir_xml import LexicalDecimal, dump_json, load_json
from profiles.fhir_xml.decimals import DECIMAL_PATTERN, decimal_text


@pytest.mark.parametrize(
    "text", ["1.50", "0.0000001", "1e3", "-0.0", "100", "1.23E-5", "3.14159265358979323846264338"]
)
def test_lexical_form_is_kept(text: str) -> None:
    value = LexicalDecimal(text)
    assert str(value) == text
    assert value == decimal.Decimal(text)
    assert pickle.loads(pickle.dumps(value)).lexical == text
    assert copy.deepcopy(value).lexical == text and copy.copy(value) is value
    assert repr(value) == f"LexicalDecimal({text!r})"


def test_json_text_round_trip_keeps_digits() -> None:
    text = b'{"a":1.50,"b":[0.0000001,2],"c":1e3,"d":true,"e":"1.0"}'
    value = load_json(text)
    assert isinstance(value["a"], LexicalDecimal) and isinstance(value["b"][1], int)
    assert value["e"] == "1.0"
    assert dump_json(value) == text
    assert dump_json(value, pretty=True).startswith(b"{\n  ")


def test_plain_decimals_and_floats_are_written_as_numbers() -> None:
    assert dump_json({"x": decimal.Decimal("2.50"), "y": 0.1}) == b'{"x":2.50,"y":0.1}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "1"), (0.1, "0.1"), (1e16, "1e16"), (1e-7, "1e-07"), (decimal.Decimal("1.0"), "1.0")],
)
def test_decimal_text(value: object, expected: str) -> None:
    text = decimal_text(value)
    assert text == expected and DECIMAL_PATTERN.fullmatch(text)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), decimal.Decimal("NaN"), decimal.Decimal("-Infinity")]
)
def test_non_finite_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        decimal_text(value)


@pytest.mark.parametrize("value", [True, "1.0", None])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        decimal_text(value)


@pytest.mark.parametrize(
    "data",
    [b"{", b'{"a":}', b"\xff", b"[" * 100_000, b'{"a":NaN}', b"[-Infinity]", b"[" + b"9" * 5000 + b"]"],
)
def test_malformed_json_is_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidInputError):
        load_json(data)


def test_unserialisable_values_are_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        dump_json({"x": object()})
    with pytest.raises(InvalidInputError):
        dump_json({"x": decimal.Decimal("NaN")})
