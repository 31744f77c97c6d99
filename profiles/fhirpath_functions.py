"""FHIRPath functions fhirpathpy lacks or gets wrong: sort, escape/unescape, matchesFull, precision,
boundaries, round() without precision, toString() of booleans, indexOf()/replace() with empty arguments.

See https://hl7.org/fhirpath/2.0.0/ (``matchesFull``, ``escape``/``unescape``, ``precision``,
``lowBoundary``/``highBoundary``, ``sort``).  Each function takes the fhirpathpy evaluation
context, the input collection and its parameters, and returns a collection.  ``sort`` orders
ascending only (a ``-`` prefix on a sort key is not recognised).  Boundaries of dates and times
are returned as ISO strings (fhirpathpy's own date type mis-renders partial dates).
"""

from __future__ import annotations

import calendar
import html
import json
import re
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from fhirpathpy.engine.nodes import FP_DateTime, FP_Quantity, FP_Time, ResourceNode

# fhirpathpy is untyped; a typed alias keeps mypy --strict on in this module
new_quantity: Callable[[Any, Any], Any] = FP_Quantity

_MAX_PRECISION = 31
_DATE_DIGITS = (4, 6, 8, 10, 12, 14, 17)
_TIME_DIGITS = (2, 4, 6, 9)


def _value(item: Any) -> Any:
    return item.data if isinstance(item, ResourceNode) else item


def sort_fn(ctx: dict[str, Any], inputs: list[Any], *keys: Callable[[Any], list[Any]]) -> list[Any]:
    def key(item: Any) -> tuple[Any, ...]:
        if not keys:
            return (_sortable(_value(item)),)
        return tuple(_sortable(_value((k(item) or [None])[0])) for k in keys)

    return sorted(inputs, key=key)


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return (1, Decimal(str(value)))
    return (2, str(value))


def escape_fn(ctx: dict[str, Any], inputs: list[Any], target: Any) -> list[Any]:
    if len(inputs) != 1 or not isinstance(_value(inputs[0]), str):
        return []
    text = _value(inputs[0])
    if target == "html":
        return [html.escape(text, quote=True).replace("&#x27;", "&#39;")]
    if target == "json":
        return [json.dumps(text)[1:-1]]
    return []


def unescape_fn(ctx: dict[str, Any], inputs: list[Any], target: Any) -> list[Any]:
    if len(inputs) != 1 or not isinstance(_value(inputs[0]), str):
        return []
    text = _value(inputs[0])
    if target == "html":
        return [html.unescape(text)]
    if target == "json":
        return [json.loads(f'"{text}"')]
    return []


def matches_full_fn(ctx: dict[str, Any], inputs: list[Any], pattern: Any) -> list[Any]:
    if len(inputs) != 1 or not isinstance(_value(inputs[0]), str) or not isinstance(pattern, str):
        return []
    return [re.fullmatch(pattern, _value(inputs[0]), flags=re.DOTALL) is not None]


def precision_fn(ctx: dict[str, Any], inputs: list[Any]) -> list[Any]:
    if len(inputs) != 1:
        return []
    value = _value(inputs[0])
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return [max(0, -exponent) if isinstance(exponent, int) else 0]
    if isinstance(value, int) and not isinstance(value, bool):
        return [0]
    if isinstance(value, FP_Time | FP_DateTime):
        return [_digits(str(_literal(value)).lstrip("T"), isinstance(value, FP_Time))]
    return []


def _literal(value: Any) -> str:
    return str(getattr(value, "asStr", value))


def _digits(text: str, is_time: bool) -> int:
    body = re.sub(r"(Z|[+-]\d\d:\d\d)$", "", text)
    return len(re.sub(r"[^0-9]", "", body))


def _decimal_boundary(value: Decimal, precision: int, low: bool) -> Decimal:
    exponent = value.as_tuple().exponent
    own = max(0, -exponent) if isinstance(exponent, int) else 0
    quantum = Decimal(1).scaleb(-precision)
    rounding = ROUND_FLOOR if low else ROUND_CEILING
    if precision < own:
        result = value.quantize(quantum, rounding=rounding)
    else:
        half = Decimal(5).scaleb(-(own + 1))
        result = (value - half if low else value + half).quantize(quantum, rounding=rounding)
    if result == 0 and not low:
        result = abs(result)
    return result


def _date_boundary(text: str, precision: int, low: bool, is_time: bool) -> str | None:
    zone_match = re.search(r"(Z|[+-]\d\d:\d\d)$", text)
    zone = zone_match.group(1) if zone_match else ""
    body = text[: len(text) - len(zone)] if zone else text
    if is_time:
        parts = re.fullmatch(r"(\d\d)(?::(\d\d))?(?::(\d\d))?(?:\.(\d+))?", body)
        if parts is None or precision not in _TIME_DIGITS:
            return None
        hour, minute, second, fraction = parts.groups()
        minute = minute or ("00" if low else "59")
        second = second or ("00" if low else "59")
        millis = (fraction or ("000" if low else "999"))[:3].ljust(3, "0")
        full = f"{hour}:{minute}:{second}.{millis}"
        return "T" + full[: {2: 2, 4: 5, 6: 8, 9: 12}[precision]]
    parts = re.fullmatch(
        r"(\d{4})(?:-(\d\d))?(?:-(\d\d))?(?:T(\d\d)(?::(\d\d))?(?::(\d\d))?(?:\.(\d+))?)?", body
    )
    if parts is None or precision not in _DATE_DIGITS:
        return None
    year, month, day, hour, minute, second, fraction = parts.groups()
    month = month or ("01" if low else "12")
    last_day = calendar.monthrange(int(year), int(month))[1]
    day = day or ("01" if low else f"{last_day:02d}")
    if hour is not None and minute is None:
        minute = "00"  # a bare hour is read as hh:00 first
    hour = hour or ("00" if low else "23")
    minute = minute or ("00" if low else "59")
    second = second or ("00" if low else "59")
    millis = (fraction or ("000" if low else "999"))[:3].ljust(3, "0")
    zone = zone or ("+14:00" if low else "-12:00")
    full = f"{year}-{month}-{day}T{hour}:{minute}:{second}.{millis}"
    cut = {4: 4, 6: 7, 8: 10, 10: 13, 12: 16, 14: 19, 17: 23}[precision]
    return full[:cut] + (zone if precision > 8 else "")


def _boundary(inputs: list[Any], precision: Any, low: bool) -> list[Any]:
    if len(inputs) != 1:
        return []
    value = _value(inputs[0])
    if isinstance(value, bool):
        return []
    if isinstance(value, int | Decimal | float):
        digits = 8 if precision in (None, []) else precision
        if not isinstance(digits, int) or digits < 0 or digits > _MAX_PRECISION:
            return []
        return [_decimal_boundary(Decimal(str(value)), digits, low)]
    if isinstance(value, FP_Quantity):
        digits = 8 if precision in (None, []) else precision
        if not isinstance(digits, int) or digits < 0 or digits > _MAX_PRECISION:
            return []
        return [new_quantity(_decimal_boundary(Decimal(str(value.value)), digits, low), value.unit)]
    if isinstance(value, FP_Time | FP_DateTime):
        is_time = isinstance(value, FP_Time)
        digits = (9 if is_time else 17) if precision in (None, []) else precision
        found = _date_boundary(
            _literal(value).lstrip("@T") if is_time else _literal(value).lstrip("@"), digits, low, is_time
        )
        return [] if found is None else [found]
    return []


def low_boundary_fn(ctx: dict[str, Any], inputs: list[Any], precision: Any = None) -> list[Any]:
    return _boundary(inputs, precision, low=True)


def high_boundary_fn(ctx: dict[str, Any], inputs: list[Any], precision: Any = None) -> list[Any]:
    return _boundary(inputs, precision, low=False)


def round_fn(ctx: dict[str, Any], inputs: list[Any], precision: Any = None) -> list[Any]:
    """round([precision]): the precision is optional (0 digits), half rounds away from zero."""
    if len(inputs) != 1:
        return []
    value = _value(inputs[0])
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return []
    digits = 0 if precision in (None, []) else precision
    if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= _MAX_PRECISION:
        return []
    return [Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)]


def to_string_fn(ctx: dict[str, Any], inputs: list[Any]) -> list[Any]:
    """toString(): booleans render as ``true``/``false`` (FHIRPath), not Python's ``True``/``False``."""
    if len(inputs) != 1:
        return []
    value = _value(inputs[0])
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)] if not isinstance(value, dict | list) else []


def index_of_fn(ctx: dict[str, Any], inputs: list[Any], substring: Any) -> list[Any]:
    """indexOf(substring): an empty argument gives an empty result."""
    text = _single_string(inputs)
    if text is None or not isinstance(substring, str):
        return []
    return [text.find(substring)]


def replace_fn(ctx: dict[str, Any], inputs: list[Any], pattern: Any, substitution: Any) -> list[Any]:
    """replace(pattern, substitution): an empty argument gives an empty result."""
    text = _single_string(inputs)
    if text is None or not isinstance(pattern, str) or not isinstance(substitution, str):
        return []
    if pattern == "":
        return [substitution + substitution.join(text) + substitution]
    return [text.replace(pattern, substitution)]


def _single_string(inputs: list[Any]) -> str | None:
    if len(inputs) != 1:
        return None
    value = _value(inputs[0])
    return value if isinstance(value, str) else None


EXTRA_FUNCTIONS: dict[str, dict[str, Any]] = {
    "round": {"fn": round_fn, "arity": {0: [], 1: ["Integer"]}},
    "toString": {"fn": to_string_fn},
    "indexOf": {"fn": index_of_fn, "arity": {1: ["String"]}, "nullable_input": True},
    "replace": {"fn": replace_fn, "arity": {2: ["String", "String"]}, "nullable_input": True},
    "sort": {"fn": sort_fn, "variadic": "Expr"},
    "escape": {"fn": escape_fn, "arity": {1: ["String"]}},
    "unescape": {"fn": unescape_fn, "arity": {1: ["String"]}},
    "matchesFull": {"fn": matches_full_fn, "arity": {1: ["String"]}},
    "precision": {"fn": precision_fn},
    "lowBoundary": {"fn": low_boundary_fn, "arity": {0: [], 1: ["Integer"]}},
    "highBoundary": {"fn": high_boundary_fn, "arity": {0: [], 1: ["Integer"]}},
}
