"""FHIR R4 primitive data types: JSON representation and lexical rules
(https://hl7.org/fhir/R4/datatypes.html#primitive)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from hub.core.caching import short_arguments_cache

_DATE = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_FULL_DATE = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"

PATTERNS: dict[str, re.Pattern[str]] = {
    "id": re.compile(r"[A-Za-z0-9\-\.]{1,64}"),
    "code": re.compile(r"[^\s]+( [^\s]+)*"),
    "date": re.compile(_DATE),
    "dateTime": re.compile(_DATE.removesuffix("?)?") + f"?(T{_TIME}{_TZ})?)?"),
    "instant": re.compile(f"{_FULL_DATE}T{_TIME}{_TZ}"),
    "time": re.compile(_TIME),
    "oid": re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+"),
    "uuid": re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "uri": re.compile(r"\S*"),
    "url": re.compile(r"\S*"),
    "canonical": re.compile(r"\S*"),
    "base64Binary": re.compile(r"(\s*([0-9a-zA-Z+/=]){4}\s*)+"),
    "string": re.compile(r"[\s\S]+"),
    "markdown": re.compile(r"[\s\S]+"),
}

STRING_TYPES = frozenset(
    {
        "string",
        "code",
        "id",
        "uri",
        "url",
        "canonical",
        "oid",
        "uuid",
        "markdown",
        "base64Binary",
        "date",
        "dateTime",
        "instant",
        "time",
        "xhtml",
        "System.String",
    }
)
PRIMITIVE_TYPES = STRING_TYPES | {"boolean", "integer", "decimal", "positiveInt", "unsignedInt"}


def _calendar_ok(value: str) -> bool:
    """Regexes accept 2021-02-30; the calendar does not."""
    if len(value) >= 10:
        try:
            dt.date.fromisoformat(value[:10])
        except ValueError:
            return False
    return True


def _int_check(low: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a JSON integer"
        if not low <= value <= 2_147_483_647:
            return f"must be between {low} and 2147483647"
        return None

    return check


_NON_STRING: dict[str, Callable[[Any], str | None]] = {
    "boolean": lambda v: None if isinstance(v, bool) else "must be a JSON boolean (true or false)",
    "integer": _int_check(-2_147_483_648),
    "positiveInt": _int_check(1),
    "unsignedInt": _int_check(0),
    "decimal": lambda v: (
        None if isinstance(v, int | float) and not isinstance(v, bool) else "must be a JSON number"
    ),
}


# "Strings SHALL NOT contain Unicode character points below 32, except for u0009 (horizontal tab), u0010
# (carriage return) and u0013 (line feed)" (https://hl7.org/fhir/R4/datatypes.html#string); PostgreSQL text
# cannot hold U+0000 at all, so such a value must be refused as input, never reach the database.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def control_character(value: str) -> str | None:
    """The first control character FHIR does not allow in ``value`` (as ``U+00XX``), or None."""
    found = _CONTROL.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def check_primitive(type_name: str, value: Any) -> str | None:
    """``None`` when ``value`` is a valid JSON rendering of ``type_name``, else the reason.

    The verdict depends only on (type, value), and the same short strings recur in every resource (code
    systems, codes, units, profile URLs, references), so string verdicts are remembered (bounded, short
    strings only: :func:`hub.core.caching.short_arguments_cache`).
    """
    return _check_string(type_name, value) if type(value) is str else _check(type_name, value)


@short_arguments_cache
def _check_string(type_name: str, value: str) -> str | None:
    return _check(type_name, value)


def _check(type_name: str, value: Any) -> str | None:
    if type_name in _NON_STRING:
        return _NON_STRING[type_name](value)
    if not isinstance(value, str):
        return "must be a JSON string"
    if (control := control_character(value)) is not None:
        return f"contains the control character {control}, which FHIR does not allow"
    if type_name == "xhtml":
        return None if value.lstrip().startswith("<div") else "narrative must be an XHTML <div> element"
    if value != value.strip() and type_name not in ("string", "markdown", "System.String"):
        return "must not have leading or trailing whitespace"
    pattern = PATTERNS.get(type_name)
    if pattern is not None and not pattern.fullmatch(value):
        return f"is not a valid {type_name}"
    if type_name in ("date", "dateTime", "instant") and not _calendar_ok(value):
        return f"is not a valid {type_name} (no such calendar date)"
    if type_name == "System.String" and value == "":
        return "must not be empty"
    return None
