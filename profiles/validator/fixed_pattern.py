"""fixed[x] and pattern[x]: exact and partial value constraints of ElementDefinition.

See https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.fixed_x_ and
#ElementDefinition.pattern_x_: a fixed value must match exactly (no extra elements, same
array sizes); a pattern must be contained in the instance (every element of the pattern
present with the same value; each pattern array item matched by some instance item).
Decimals compare by value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _same_primitive(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | float | Decimal):
        return Decimal(str(expected)) == Decimal(str(actual))
    return bool(expected == actual)


def matches_fixed(expected: Any, actual: Any) -> bool:
    """Exact equality in the FHIR sense (element order in objects does not matter)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        keys = {k for k in expected if k != "id"}
        other = {k for k in actual if k != "id"}
        return keys == other and all(matches_fixed(expected[k], actual[k]) for k in keys)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches_fixed(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return _same_primitive(expected, actual)


def matches_pattern(expected: Any, actual: Any) -> bool:
    """``actual`` contains everything ``expected`` states."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        return all(k in actual and matches_pattern(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        items = actual if isinstance(actual, list) else [actual]
        return all(any(matches_pattern(e, a) for a in items) for e in expected)
    return _same_primitive(expected, actual)


def describe(value: Any) -> str:
    """Short rendering of a fixed/pattern value for messages."""
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
