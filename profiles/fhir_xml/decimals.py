"""Lexical FHIR decimals: exact round trips of ``decimal`` values between XML, JSON text and Python.

FHIR says a decimal's precision is part of its value: ``1.50`` is not ``1.5``
(https://hl7.org/fhir/R4/datatypes.html#decimal, https://hl7.org/fhir/R4/json.html#primitive).
A JSON parser that produces ``float`` loses that, and :class:`decimal.Decimal` changes the spelling
of some values (``0.0000001`` prints as ``1E-7``).  :class:`LexicalDecimal` is a ``Decimal`` that
remembers the exact text it was read from; :func:`load_json` and :func:`dump_json` read and write
FHIR JSON text keeping that text, so XML -> JSON -> XML keeps every digit.
"""

from __future__ import annotations

import decimal
import json
import re
from typing import Any

import orjson

from hub.core.errors import InvalidInputError

DECIMAL_PATTERN = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
"""The lexical space of FHIR ``decimal`` (R4 ``decimal.value`` regex)."""


class LexicalDecimal(decimal.Decimal):
    """A ``Decimal`` whose ``str()`` is the exact text it was created from (``1.50`` stays ``1.50``)."""

    __slots__ = ("lexical",)
    lexical: str

    def __new__(cls, text: str) -> LexicalDecimal:
        obj = super().__new__(cls, text)
        obj.lexical = text
        return obj

    def __str__(self) -> str:
        return self.lexical

    def __repr__(self) -> str:
        return f"LexicalDecimal({self.lexical!r})"

    def __reduce__(self) -> tuple[type[LexicalDecimal], tuple[str]]:
        return (LexicalDecimal, (self.lexical,))

    def __copy__(self) -> LexicalDecimal:
        return self

    def __deepcopy__(self, memo: Any) -> LexicalDecimal:
        return self


def decimal_text(value: Any) -> str:
    """The FHIR lexical form of a JSON number (``bool`` is not a number and is refused)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a decimal")
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a FHIR decimal")
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value} is not a FHIR decimal")
        text = repr(value)
        # repr() gives the shortest round-trip spelling; "1e+16" is valid FHIR, "1e16" reads better.
        return text.replace("e+", "e")
    raise TypeError(f"{type(value).__name__} is not a decimal")


def _parse_float(text: str) -> LexicalDecimal:
    return LexicalDecimal(text)


def _refuse_constant(name: str) -> Any:
    # Python's json module accepts NaN and Infinity, which are not JSON and not FHIR decimals.
    raise ValueError(f"{name} is not a JSON number")


def load_json(data: bytes | str) -> Any:
    """Parse FHIR JSON text; decimals become :class:`LexicalDecimal`, integers stay ``int``."""
    try:
        return json.loads(data, parse_float=_parse_float, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"Malformed JSON: {exc}", message_id="JSON_MALFORMED") from exc


def _fragment(value: Any) -> orjson.Fragment:
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(decimal_text(value).encode())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(value: Any, *, pretty: bool = False) -> bytes:
    """FHIR JSON bytes; ``Decimal`` values are written with their exact digits."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    try:
        return orjson.dumps(value, default=_fragment, option=option)
    except orjson.JSONEncodeError as exc:
        raise InvalidInputError(f"Cannot write JSON: {exc}", message_id="JSON_UNSERIALISABLE") from exc
