"""Typed FHIRPath results turned into index values, one function per search parameter type.

Mapping of FHIR data types to index values (https://hl7.org/fhir/R4/search.html):

* token — Coding (system, code; display for ``:text``), CodeableConcept (each
  coding, plus ``text``), Identifier (system, value; ``type.text``), ContactPoint
  (``system`` such as ``phone``, value), boolean (``true``/``false``), and
  code/string/id/uri primitives (no system);
* string — primitives, and every part of HumanName (text, family, given, prefix,
  suffix) and Address (text, line, city, district, state, postalCode, country)
  as separate values, so "starts with" works on each part;
* date — date/dateTime/instant at their precision, Period (open ends to the
  representable limits), Timing (the outer limits of its events and bounds);
* number — decimals and integers with their implicit precision range;
* quantity — Quantity and its specialisations, Money (currency as the UCUM-less
  ``urn:iso:std:iso:4217`` code), Range when both ends have a value;
  SampledData is not indexed;
* reference — Reference (literal reference and/or ``Reference.identifier``),
  canonical/uri (as URL, also without a ``|version`` suffix), and a resource
  found inline (``Bundle.entry[0].resource``);
* uri — uri/url/canonical/oid/uuid primitives.

An Extension is replaced by its ``value[x]``.  Values that are present but
cannot be indexed (a malformed date, a number out of range) raise
:class:`~hub.core.errors.ValidationFailedError` naming the parameter: a write is
never stored with a silently missing index row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from hub.core.errors import ValidationFailedError
from hub.core.search import (
    DateIndex,
    IndexValue,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    SearchParamType,
    StringIndex,
    TokenIndex,
    UriIndex,
)
from hub.fhir.search.dates import date_range, period_range
from hub.fhir.search.expressions import TypedNode, is_type
from hub.fhir.search.normalization import clip, normalize_text
from hub.fhir.search.numbers import decimal_of, precision_range
from hub.fhir.search.references import parse_reference

_SYSTEM_TYPES = {
    "System.String": "string",
    "System.Boolean": "boolean",
    "System.Integer": "integer",
    "System.Decimal": "decimal",
    "System.DateTime": "dateTime",
    "System.Date": "date",
}
_MONEY_SYSTEM = "urn:iso:std:iso:4217"
_HUMAN_NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
_ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")


_PRIMITIVE_SUFFIXES = {
    s[0].upper() + s[1:]: s
    for s in (
        "string",
        "code",
        "id",
        "uri",
        "url",
        "canonical",
        "oid",
        "uuid",
        "markdown",
        "boolean",
        "integer",
        "decimal",
        "positiveInt",
        "unsignedInt",
        "date",
        "dateTime",
        "instant",
        "time",
    )
}


def _type_of(node: TypedNode) -> tuple[str, Any]:
    """The FHIR type name and data of a node, unwrapping Extension.value[x] and typing computed values."""
    type_name, data = node
    if type_name == "Extension" and isinstance(data, dict):
        for key, value in data.items():
            if key.startswith("value") and key[5:6].isupper():
                return _PRIMITIVE_SUFFIXES.get(key[5:], key[5:]), value
        return "Extension", data
    if type_name is None:
        if isinstance(data, bool):
            return "boolean", data
        if isinstance(data, str):
            return "string", data
        if isinstance(data, int | float | Decimal):
            return "decimal", data
        if isinstance(data, dict) and "resourceType" in data:
            return str(data["resourceType"]), data
        return "", data
    return _SYSTEM_TYPES.get(type_name, type_name), data


def _strings(value: object) -> Iterator[str]:
    for item in value if isinstance(value, list) else (value,):
        if isinstance(item, str) and item.strip():
            yield item


def _text(value: object) -> str | None:
    return normalize_text(value) if isinstance(value, str) and value.strip() else None


def _opt(value: object) -> str | None:
    return clip(value) if isinstance(value, str) and value else None


# ---------------------------------------------------------------- token


def _coding_token(coding: Any) -> TokenIndex | None:
    if not isinstance(coding, dict):
        return None
    system, code, display = _opt(coding.get("system")), _opt(coding.get("code")), _text(coding.get("display"))
    if system is None and code is None and display is None:
        return None
    return TokenIndex(system, code, display)


def token_values(node: TypedNode, where: str) -> list[IndexValue]:
    type_name, data = _type_of(node)
    out: list[IndexValue] = []
    if type_name == "CodeableConcept" and isinstance(data, dict):
        codings = data.get("coding")
        for coding in codings if isinstance(codings, list) else ():
            token = _coding_token(coding)
            if token is not None:
                out.append(token)
        text = _text(data.get("text"))
        if text is not None:
            out.append(TokenIndex(None, None, text))
    elif type_name == "Coding":
        token = _coding_token(data)
        if token is not None:
            out.append(token)
    elif type_name == "Identifier" and isinstance(data, dict):
        kind = data.get("type")
        kind_text = _text(kind.get("text")) if isinstance(kind, dict) else None
        if data.get("value") or data.get("system"):
            out.append(TokenIndex(_opt(data.get("system")), _opt(data.get("value")), kind_text))
    elif type_name == "ContactPoint" and isinstance(data, dict):
        if data.get("value"):
            out.append(TokenIndex(_opt(data.get("system")), _opt(data.get("value"))))
    elif isinstance(data, bool):
        out.append(TokenIndex(None, "true" if data else "false"))
    elif isinstance(data, str) and data:
        out.append(TokenIndex(None, clip(data)))
    elif isinstance(data, int | Decimal):
        out.append(TokenIndex(None, str(data)))
    return out


# ---------------------------------------------------------------- string


def _string_index(value: str) -> StringIndex | None:
    normalized = normalize_text(value)
    return StringIndex(normalized, clip(value)) if normalized else None


def string_values(node: TypedNode, where: str) -> list[IndexValue]:
    type_name, data = _type_of(node)
    texts: list[str] = []
    if type_name == "HumanName" and isinstance(data, dict):
        texts = [s for part in _HUMAN_NAME_PARTS for s in _strings(data.get(part))]
    elif type_name == "Address" and isinstance(data, dict):
        texts = [s for part in _ADDRESS_PARTS for s in _strings(data.get(part))]
    elif type_name == "CodeableConcept" and isinstance(data, dict):
        codings = data.get("coding")
        texts = [*_strings(data.get("text"))]
        if isinstance(codings, list):
            texts += [s for c in codings if isinstance(c, dict) for s in _strings(c.get("display"))]
    elif type_name == "Coding" and isinstance(data, dict):
        texts = list(_strings(data.get("display")))
    elif isinstance(data, str):
        texts = [data]
    return [v for v in map(_string_index, texts) if v is not None]


# ---------------------------------------------------------------- date


def _range(text: object, where: str) -> tuple[int, int]:
    found = date_range(text) if isinstance(text, str) else None
    if found is None:
        raise ValidationFailedError(f"{where}: {text!r} is not a valid FHIR date, dateTime or instant")
    return found


def _period(data: dict[str, Any], where: str) -> tuple[int, int] | None:
    start, end = data.get("start"), data.get("end")
    if start is None and end is None:
        return None
    found = None
    if (start is None or isinstance(start, str)) and (end is None or isinstance(end, str)):
        found = period_range(start, end)
    if found is None:
        raise ValidationFailedError(f"{where}: Period {data!r} has a malformed start or end")
    return found


def date_values(node: TypedNode, where: str) -> list[IndexValue]:
    type_name, data = _type_of(node)
    if isinstance(data, str):
        return [DateIndex(*_range(data, where))]
    if not isinstance(data, dict):
        return []
    if type_name == "Period":
        found = _period(data, where)
        return [DateIndex(*found)] if found else []
    if type_name == "Timing":
        ranges = [_range(event, where) for event in data.get("event") or () if event is not None]
        repeat = data.get("repeat")
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        if isinstance(bounds, dict):
            found = _period(bounds, where)
            ranges += [found] if found else []
        if ranges:
            return [DateIndex(min(r[0] for r in ranges), max(r[1] for r in ranges))]
    return []


# ---------------------------------------------------------------- number and quantity


def _decimal(value: object, where: str) -> Decimal:
    found = decimal_of(value)
    if found is None:
        raise ValidationFailedError(
            f"{where}: {value!r} is not an indexable decimal (at most 38 digits, magnitude 1e-38 to 1e38)"
        )
    return found


def number_values(node: TypedNode, where: str) -> list[IndexValue]:
    _, data = _type_of(node)
    if data is None or isinstance(data, bool | dict | list):
        return []
    value = _decimal(data, where)
    return [NumberIndex(*precision_range(value), value)]


def _quantity(data: dict[str, Any], where: str, system: str | None, code: str | None) -> QuantityIndex | None:
    if data.get("value") is None:
        return None
    value = _decimal(data["value"], where)
    low, high = precision_range(value)
    return QuantityIndex(value, low, high, system, code, _opt(data.get("unit")))


def quantity_values(node: TypedNode, where: str) -> list[IndexValue]:
    type_name, data = _type_of(node)
    if not isinstance(data, dict):
        return []
    found: QuantityIndex | None = None
    if type_name == "Money":
        found = _quantity(data, where, _MONEY_SYSTEM, _opt(data.get("currency")))
    elif type_name == "Range":
        low, high = data.get("low"), data.get("high")
        if (
            isinstance(low, dict)
            and isinstance(high, dict)
            and low.get("value") is not None
            and high.get("value") is not None
        ):
            low_value, high_value = _decimal(low["value"], where), _decimal(high["value"], where)
            unit = low if low.get("code") or low.get("system") else high
            found = QuantityIndex(
                low_value,
                low_value,
                high_value,
                _opt(unit.get("system")),
                _opt(unit.get("code")),
                _opt(unit.get("unit")),
            )
    elif is_type(type_name, "Quantity"):
        found = _quantity(data, where, _opt(data.get("system")), _opt(data.get("code")))
    return [found] if found is not None else []


# ---------------------------------------------------------------- reference and uri


def reference_values(node: TypedNode, where: str, local_base: str | None = None) -> list[IndexValue]:
    type_name, data = _type_of(node)
    if isinstance(data, str):  # canonical / uri used as a reference
        url = clip(data)
        unversioned = url.split("|", 1)[0]
        return [ReferenceIndex(None, None, u) for u in dict.fromkeys((url, unversioned)) if u]
    if not isinstance(data, dict):
        return []
    if "resourceType" in data:  # a resource held inline
        rid = data.get("id")
        return [ReferenceIndex(str(data["resourceType"]), rid, None)] if isinstance(rid, str) else []
    if type_name != "Reference":
        return []
    literal = data.get("reference")
    parsed = parse_reference(literal, local_base) if isinstance(literal, str) else None
    identifier = data.get("identifier")
    id_system = id_value = None
    if isinstance(identifier, dict):
        id_system, id_value = _opt(identifier.get("system")), _opt(identifier.get("value"))
    if parsed is None and id_value is None:
        return []
    declared = data.get("type") if isinstance(data.get("type"), str) else None
    target_type = (parsed.target_type if parsed else None) or declared
    return [
        ReferenceIndex(
            target_type,
            parsed.target_id if parsed else None,
            parsed.url if parsed else None,
            id_system,
            id_value,
        )
    ]


def uri_values(node: TypedNode, where: str) -> list[IndexValue]:
    _, data = _type_of(node)
    return [UriIndex(clip(data))] if isinstance(data, str) and data else []


Converter = Callable[[TypedNode, str], list[IndexValue]]

#: The converter of each indexed parameter type (reference takes ``local_base`` as well).
CONVERTERS: dict[SearchParamType, Converter] = {
    SearchParamType.TOKEN: token_values,
    SearchParamType.STRING: string_values,
    SearchParamType.DATE: date_values,
    SearchParamType.NUMBER: number_values,
    SearchParamType.QUANTITY: quantity_values,
    SearchParamType.URI: uri_values,
}
