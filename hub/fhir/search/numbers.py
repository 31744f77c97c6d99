"""FHIR decimals with their implicit precision ranges, for number and quantity search.

R4 search (https://hl7.org/fhir/R4/search.html#number): a decimal stands for the
interval its significant figures allow, half a unit of the last digit either
side.  ``100`` is ``[99.5, 100.5)``, ``5.4`` is ``[5.35, 5.45)``, ``5.40`` is
``[5.395, 5.405)``.  Exponent notation keeps the same rule, so ``1e2`` (one
significant figure) is ``[50, 150)``: the spec's prose example for ``1e2`` gives
``[95, 105)``, which contradicts its own significant-figure rule; telehub
follows the rule.

Magnitude is bounded (:data:`MAX_EXPONENT`, the range of an IEEE double, so a
hostile ``1e999999999`` never reaches the database) and values are rounded to
:data:`MAX_DIGITS` significant digits.  Functions return ``None`` for values
outside the bounds or not in FHIR decimal syntax; callers raise with context.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal

#: Significant digits kept; longer values are rounded (half even) to this many.
MAX_DIGITS = 38
#: Largest accepted ``abs(adjusted exponent)``: values between 1e-300 and 1e300 in size.
MAX_EXPONENT = 300

_DECIMAL_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,4})?", re.ASCII)
#: Longest decimal text accepted from a search request.
MAX_TEXT = 128
_ROUND = Context(prec=MAX_DIGITS)
# Exact arithmetic for the bounds: more digits than any kept value has.
_EXACT = Context(prec=MAX_DIGITS + 2)


def _bounded(value: Decimal) -> Decimal | None:
    if not value.is_finite():
        return None
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        return None
    if len(value.as_tuple().digits) > MAX_DIGITS:
        value = _ROUND.plus(value)
    return value


def parse_decimal(text: str) -> Decimal | None:
    """A FHIR decimal (``-?digits[.digits][e±n]``) within bounds, or ``None``."""
    if len(text) > MAX_TEXT or not _DECIMAL_RE.fullmatch(text):
        return None
    return _bounded(Decimal(text))


def decimal_of(value: object) -> Decimal | None:
    """The decimal of a JSON number (int, float or Decimal when parsed with ``parse_float=Decimal``).

    A float keeps the digits of its shortest repr (``5.40`` parsed as float is
    ``5.4``); parse JSON with ``parse_float=Decimal`` to keep trailing zeros.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return _bounded(value)
    if isinstance(value, int):
        return _bounded(Decimal(value))
    if isinstance(value, float):
        return _bounded(Decimal(repr(value)))
    if isinstance(value, str):
        return parse_decimal(value)
    return None


def precision_range(value: Decimal) -> tuple[Decimal, Decimal]:
    """``[low, high)``: half a unit of the last significant digit either side of ``value``."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite values only reach here (see _bounded)
    half = Decimal((0, (5,), exponent - 1))
    return _EXACT.subtract(value, half), _EXACT.add(value, half)
