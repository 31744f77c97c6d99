"""Primitive data types: JSON representation, lexical regexes and value ranges of FHIR R4.

See https://hl7.org/fhir/R4/datatypes.html#primitive and https://hl7.org/fhir/R4/json.html#primitive
(numbers and booleans are JSON numbers/booleans, everything else a JSON string).  The regular
expressions are the ones the specification states for each type; dates are also checked for
calendar validity (no 30 February).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"

STRING_PATTERNS: dict[str, re.Pattern[str]] = {
    "code": re.compile(r"[^\s]+(\s[^\s]+)*"),
    "id": re.compile(r"[A-Za-z0-9\-.]{1,64}"),
    "oid": re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+"),
    "uuid": re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "uri": re.compile(r"\S*"),
    "url": re.compile(r"\S*"),
    "canonical": re.compile(r"\S*"),
    "date": re.compile(f"{_YEAR}(-{_MONTH}(-{_DAY})?)?"),
    "dateTime": re.compile(f"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?"),
    "instant": re.compile(f"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}"),
    "time": re.compile(_TIME),
}
STRING_TYPES = frozenset(
    {
        "string",
        "markdown",
        "code",
        "id",
        "oid",
        "uuid",
        "uri",
        "url",
        "canonical",
        "base64Binary",
        "date",
        "dateTime",
        "instant",
        "time",
        "xhtml",
    }
)
NUMBER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt", "decimal", "integer64"})
PRIMITIVE_TYPES = STRING_TYPES | NUMBER_TYPES | {"boolean"}
MAX_STRING = 1024 * 1024
_INT32 = (-(2**31), 2**31 - 1)
DATE_LIKE = re.compile(r"\d{4}(-\d\d(-\d\d)?)?(T|$)")


def _calendar_problem(value: str) -> str | None:
    """Real-calendar check for the full-date part of date/dateTime/instant values."""
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            dt.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
        except ValueError:
            return f"'{value[:10]}' is not a valid calendar date"
    return None


def _uri_problem(value: str) -> str | None:
    """URIs in the urn:uuid: and urn:oid: schemes must be well-formed (lower-case UUIDs)."""
    if value[:4] != "urn:":
        return None
    if value.startswith("urn:uuid:") and not STRING_PATTERNS["uuid"].fullmatch(value):
        return f"'{_shorten(value)}' is not a valid urn:uuid (UUIDs must be valid and lowercase)"
    if value.startswith("urn:oid:") and not STRING_PATTERNS["oid"].fullmatch(value):
        return f"'{_shorten(value)}' is not a valid urn:oid"
    return None


def _base64_problem(value: str) -> str | None:
    compact = "".join(value.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return "is not valid base64 content"
    return None


# Answers for short strings: the same codes, systems, units and URLs recur in nearly every resource,
# so a bounded memo of (type, value) saves the regular expressions; it is pure, so shared by all.
_MEMO: dict[tuple[str, str], str | None] = {}
_MEMO_LIMIT = 50_000
_MEMO_MAX_LENGTH = 256
_MISS = object()


def check_primitive(type_code: str, value: object) -> str | None:
    """Why ``value`` (as found in JSON) is not a valid ``type_code``; None when it is."""
    if type(value) is str and len(value) <= _MEMO_MAX_LENGTH:
        key = (type_code, value)
        known = _MEMO.get(key, _MISS)
        if known is not _MISS:
            return known  # type: ignore[return-value]
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        answer = _MEMO[key] = _check(type_code, value)
        return answer
    return _check(type_code, value)


def _check(type_code: str, value: object) -> str | None:
    if type_code == "boolean":
        return None if isinstance(value, bool) else "must be a JSON boolean (true or false)"
    if type_code in NUMBER_TYPES:
        return _number_problem(type_code, value)
    if type_code not in STRING_TYPES:
        return None
    if not isinstance(value, str):
        return f"must be a JSON string, not {type(value).__name__}"
    if value == "" and type_code != "xhtml":
        return "must not be empty (use null/absent instead)"
    if len(value) > MAX_STRING:
        return f"is longer than {MAX_STRING} characters"
    pattern = STRING_PATTERNS.get(type_code)
    if pattern is not None and not pattern.fullmatch(value):
        return f"'{_shorten(value)}' is not a valid {type_code}"
    extra = _EXTRA.get(type_code)
    return extra(value) if extra else None


def _number_problem(type_code: str, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return f"must be a JSON number, not {type(value).__name__}"
    if type_code == "decimal":
        return None if value == value and abs(value) != float("inf") else "is not a number"
    if isinstance(value, float | Decimal) and (
        value != value.to_integral_value() if isinstance(value, Decimal) else not value.is_integer()
    ):
        return f"'{value}' is not a valid {type_code} (decimal places)"
    number = int(value)
    if type_code != "integer64" and not _INT32[0] <= number <= _INT32[1]:
        return f"'{number}' is out of range for {type_code}"
    if type_code == "positiveInt" and number < 1:
        return f"'{number}' is not a positiveInt (must be > 0)"
    if type_code == "unsignedInt" and number < 0:
        return f"'{number}' is not an unsignedInt (must be >= 0)"
    return None


def _shorten(value: str) -> str:
    return value if len(value) <= 80 else value[:77] + "..."


_EXTRA: dict[str, Callable[[str], str | None]] = {
    "date": _calendar_problem,
    "dateTime": _calendar_problem,
    "instant": _calendar_problem,
    "base64Binary": _base64_problem,
    "uri": _uri_problem,
    "url": _uri_problem,
    "canonical": _uri_problem,
}


def is_primitive_type(type_code: str) -> bool:
    return type_code in PRIMITIVE_TYPES


def range_problem(
    value: object, minimum: tuple[str, object] | None, maximum: tuple[str, object] | None
) -> str | None:
    """minValue[x]/maxValue[x] for numbers and ISO dates/times (same-precision string comparison)."""
    for bound, label, sign in ((minimum, "minimum", -1), (maximum, "maximum", 1)):
        if bound is None:
            continue
        limit: Any = bound[1]
        if isinstance(limit, dict) and isinstance(value, str):
            problem = _duration_problem(value, limit, label, sign)
            if problem is not None:
                return problem
            continue
        comparable = (
            isinstance(value, int | float | Decimal)
            and isinstance(limit, int | float | Decimal)
            and not isinstance(value, bool)
        ) or (isinstance(value, str) and isinstance(limit, str) and len(value) == len(limit))
        if comparable and _compare(value, limit) == sign:
            return f"The value {value} is outside the {label} {limit} allowed by the profile"
    return None


# UCUM units of time a Duration may give, in days (a year and a month are the UCUM mean lengths)
_DAYS = {
    "a": 365.25,
    "mo": 30.4375,
    "wk": 7.0,
    "d": 1.0,
    "h": 1 / 24,
    "min": 1 / 1440,
    "s": 1 / 86400,
}


def _duration_problem(value: str, duration: dict[str, Any], label: str, sign: int) -> str | None:
    """minValueDuration / maxValueDuration on a date: not before now - duration, not after now + duration.

    (R5 ElementDefinition.minValue[x]: "if the element is a date ... and the minValue is a Duration,
    the limit is relative to the current time".)  The comparison is at the value's own precision.
    """
    amount, unit = duration.get("value"), duration.get("code") or duration.get("unit")
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal) or unit not in _DAYS:
        return None
    if not DATE_LIKE.match(value):
        return None
    now = dt.datetime.now(dt.UTC)
    limit = now + sign * dt.timedelta(days=float(amount) * _DAYS[str(unit)])
    if len(value) <= 10:  # a year, year-month or date: compare the same leading characters
        shown = limit.date().isoformat()[: len(value)]
        outside = value < shown if sign < 0 else value > shown
    else:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None  # no zone: the instant is not known
        shown = limit.isoformat(timespec="seconds")
        outside = moment < limit if sign < 0 else moment > limit
    if outside:
        direction = "-" if sign < 0 else "+"
        return f"The value {value} is outside the {label} {shown} (now {direction} {amount} {unit})"
    return None


def _compare(value: Any, limit: Any) -> int:
    if isinstance(value, str):
        return int(value > limit) - int(value < limit)
    left, right = Decimal(str(value)), Decimal(str(limit))
    return (left > right) - (left < right)


QUANTITY_TYPES = frozenset(
    {"Quantity", "Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"}
)
_PREFIXES = {
    "": Decimal(1),
    "k": Decimal(1000),
    "c": Decimal("0.01"),
    "m": Decimal("0.001"),
    "u": Decimal("1e-6"),
}
_BASE_UNITS = frozenset({"m", "g", "L", "l", "s"})


def ucum_base(quantity: dict[str, Any]) -> tuple[Decimal, str] | None:
    """A UCUM quantity in its base unit where a metric prefix is all that differs (1 km -> 1000 m)."""
    code, value = quantity.get("code"), quantity.get("value")
    if quantity.get("system") != "http://unitsofmeasure.org" or not isinstance(code, str) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return None
    for prefix, factor in _PREFIXES.items():
        base = code[len(prefix) :]
        if prefix and code.startswith(prefix) and base in _BASE_UNITS:
            return amount * factor, base
    return amount, code


def quantity_range_problem(
    value: dict[str, Any], minimum: tuple[str, object] | None, maximum: tuple[str, object] | None
) -> str | None:
    """minValueQuantity/maxValueQuantity, compared after the UCUM prefix conversion."""
    mine = ucum_base(value)
    if mine is None:
        return None
    for bound, label, sign in (
        (minimum, "less than the specified minValue", -1),
        (maximum, "greater than the specified maxValue", 1),
    ):
        if bound is None or not isinstance(bound[1], dict):
            continue
        theirs = ucum_base(bound[1])
        if theirs is None or theirs[1] != mine[1]:
            continue
        if _compare(mine[0], theirs[0]) == sign:
            shown = f"{value.get('value')} {value.get('code')}"
            limit = f"{bound[1].get('value')} {bound[1].get('code')}"
            return f"The value in the instance ({shown}) is {label} ({limit}) after UCUM conversion"
    return None
