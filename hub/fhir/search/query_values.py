"""Search values of one parameter, parsed by type (https://hl7.org/fhir/R4/search.html#ptypes).

A value list ``a,b`` is an OR; ``\\,``, ``\\|``, ``\\$`` and ``\\\\`` escape the
separators (https://hl7.org/fhir/R4/search.html#escaping).  Dates, numbers and
quantities take a two-letter prefix (``eq ne gt lt ge le sa eb ap``, default
``eq``); dates and numbers become ranges at their precision, exactly as the index
stores them (:mod:`hub.fhir.search.dates`, :mod:`hub.fhir.search.numbers`), so
``date=2024-03`` and ``value-quantity=5.4`` mean the ranges the spec describes.

Every malformed value raises :class:`~hub.core.errors.InvalidInputError` naming
the parameter and quoting the value (cut to 80 characters).
"""

from __future__ import annotations

import re
from decimal import Decimal

from hub.core.errors import InvalidInputError
from hub.core.normalization import clip, normalize_text
from hub.core.search import (
    DateQuery,
    Modifier,
    NumberQuery,
    Prefix,
    QuantityQuery,
    QueryValue,
    ReferenceQuery,
    SearchParamType,
    StringQuery,
    TokenQuery,
    UriQuery,
)
from hub.fhir.search.dates import date_range
from hub.fhir.search.numbers import parse_decimal, precision_range
from hub.fhir.search.references import ID_RE, TYPE_RE, parse_reference

_PREFIX_RE = re.compile(r"(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[-0-9])")
# "+01:00" arrives as " 01:00" when a client forgets to percent-encode the "+"
_SPACE_OFFSET_RE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})$")


def quoted(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def split_escaped(text: str, separator: str) -> list[str]:
    """Split at unescaped ``separator``; escapes stay in the parts (see :func:`unescape`)."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current += ["\\", char]
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    return re.sub(r"\\([\\,|$])", r"\1", text)


def _prefixed(raw: str) -> tuple[Prefix, str]:
    match = _PREFIX_RE.match(raw)
    if match is None:
        return Prefix.EQ, raw
    return Prefix(match.group(1)), raw[2:]


def _date(name: str, raw: str) -> DateQuery:
    prefix, text = _prefixed(raw)
    text = _SPACE_OFFSET_RE.sub(r"\1+\2", text)
    found = date_range(text)
    if found is None:
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} is not a date (use [prefix]YYYY[-MM[-DD[Thh:mm[:ss]"
            "[.fff][Z|±hh:mm]]]], prefix one of eq ne gt lt ge le sa eb ap)",
            expression=name,
        )
    return DateQuery(prefix, *found)


def _decimal(name: str, raw: str, text: str) -> Decimal:
    value = parse_decimal(text)
    if value is None:
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} is not a decimal number within ±1e300 "
            "(optionally prefixed by eq ne gt lt ge le sa eb ap)",
            expression=name,
        )
    return value


def _number(name: str, raw: str) -> NumberQuery:
    prefix, text = _prefixed(raw)
    value = _decimal(name, raw, text)
    return NumberQuery(prefix, value, *precision_range(value))


def _quantity(name: str, raw: str) -> QuantityQuery:
    parts = split_escaped(raw, "|")
    if len(parts) not in (1, 3):
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} is not [prefix]number[|system|code]", expression=name
        )
    prefix, text = _prefixed(parts[0])
    value = _decimal(name, raw, text)
    system = clip(unescape(parts[1])) or None if len(parts) == 3 else None
    code = clip(unescape(parts[2])) or None if len(parts) == 3 else None
    return QuantityQuery(prefix, value, *precision_range(value), system, code)


def _token(name: str, raw: str, modifier: Modifier) -> TokenQuery:
    if modifier is Modifier.TEXT:
        return TokenQuery(None, None, normalize_text(unescape(raw)))
    parts = split_escaped(raw, "|")
    if len(parts) == 1:
        return TokenQuery(None, clip(unescape(parts[0])))
    if len(parts) > 2:
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} has more than one unescaped '|' (use [system]|[code])",
            expression=name,
        )
    system, code = clip(unescape(parts[0])), clip(unescape(parts[1]))
    if not system and not code:
        raise InvalidInputError(f"search parameter {name!r}: '|' alone is not a token", expression=name)
    return TokenQuery(system, code or None)  # "|code": system "" = no system; "system|": any code


def _reference(
    name: str, raw: str, modifier: Modifier, type_modifier: str | None, local_base: str | None
) -> ReferenceQuery:
    text = unescape(raw)
    if modifier is Modifier.IDENTIFIER:
        token = _token(name, raw, Modifier.NONE)
        return ReferenceQuery(None, None, None, token.system, token.code)
    if ID_RE.fullmatch(text):  # a bare id: any target type unless :[Type] says which
        return ReferenceQuery(type_modifier, text)
    parsed = parse_reference(text, local_base)
    if parsed is None:
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} is not a reference", expression=name
        )
    if parsed.target_id is None and parsed.url is None:
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} is not a reference", expression=name
        )
    if parsed.url is not None and "://" not in parsed.url and not parsed.url.startswith("urn:"):
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} is neither an id, Type/id nor an absolute URL",
            expression=name,
        )
    if type_modifier and parsed.target_type and parsed.target_type != type_modifier:
        raise InvalidInputError(
            f"search parameter {name!r}: {quoted(raw)} contradicts the :{type_modifier} modifier",
            expression=name,
        )
    url = parsed.url.split("|", 1)[0] if parsed.url else None  # canonical|version: match the canonical
    return ReferenceQuery(parsed.target_type if parsed.target_id else None, parsed.target_id, url)


def parse_value(
    name: str,
    param_type: SearchParamType,
    modifier: Modifier,
    raw: str,
    *,
    type_modifier: str | None = None,
    local_base: str | None = None,
) -> QueryValue:
    """One (already comma-split, still escaped) value of parameter ``name``."""
    if param_type is SearchParamType.TOKEN:
        return _token(name, raw, modifier)
    if param_type is SearchParamType.STRING:
        text = unescape(raw)
        return StringQuery(clip(text) if modifier is Modifier.EXACT else normalize_text(text))
    if param_type is SearchParamType.DATE:
        return _date(name, raw)
    if param_type is SearchParamType.NUMBER:
        return _number(name, raw)
    if param_type is SearchParamType.QUANTITY:
        return _quantity(name, raw)
    if param_type is SearchParamType.REFERENCE:
        return _reference(name, raw, modifier, type_modifier, local_base)
    if param_type is SearchParamType.URI:
        return UriQuery(clip(unescape(raw)))
    raise InvalidInputError(f"search parameter {name!r}: {param_type.value} parameters are not searchable")


def is_type_name(text: str) -> bool:
    return TYPE_RE.fullmatch(text) is not None
