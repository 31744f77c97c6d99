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

An Extension is replaced by its ``value[x]``.  Index values of recurring JSON
values (the same LOINC coding, unit or patient reference in every measurement)
come from small bounded caches (:mod:`hub.core.caching`): building a
frozen value object costs more than the lookup, and the objects are immutable,
so sharing them is safe.  Values that are present but
cannot be indexed (a malformed date, a number out of range) raise
:class:`~hub.core.errors.ValidationFailedError` naming the parameter: a write is
never stored with a silently missing index row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from hub.core.caching import short_arguments_cache
from hub.core.errors import ValidationFailedError
from hub.core.normalization import clip, normalize_text
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
from hub.fhir.search.fast_path import TypedNode, is_type
from hub.fhir.search.numbers import decimal_of, parse_decimal, precision_range
from hub.fhir.search.references import parse_reference

_SYSTEM_TYPES = {
    "System.String": "string",
    "System.Boolean": "boolean",
    "System.Integer": "integer",
    "System.Decimal": "decimal",
    "System.DateTime": "dateTime",
    "System.Date": "date",
}
_PRIMITIVE_SUFFIXES = {
    s[0].upper() + s[1:]: s
    for s in (
        "string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "boolean",
        "integer", "decimal", "positiveInt", "unsignedInt", "date", "dateTime", "instant", "time",
    )
}  # fmt: skip
_MONEY_SYSTEM = "urn:iso:std:iso:4217"
_HUMAN_NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
_ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")


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
        if isinstance(data, dict) and isinstance(data.get("resourceType"), str):
            return data["resourceType"], data
        return "", data
    return _SYSTEM_TYPES.get(type_name, type_name), data


def _str(value: object) -> str | None:
    """``value`` when it is a non-empty string, else ``None`` (hostile JSON may put anything anywhere)."""
    return value if type(value) is str and value else None


def _strings(value: object) -> Iterator[str]:
    for item in value if isinstance(value, list) else (value,):
        if isinstance(item, str) and item.strip():
            yield item


# ---------------------------------------------------------------- token


@short_arguments_cache
def _token(system: str | None, code: str | None, text: str | None) -> TokenIndex | None:
    if system is None and code is None and not (text and text.strip()):
        return None
    return TokenIndex(
        clip(system) if system else None,
        clip(code) if code else None,
        normalize_text(text) if text and text.strip() else None,
    )


def _coding(coding: object) -> TokenIndex | None:
    if not isinstance(coding, dict):
        return None
    return _token(_str(coding.get("system")), _str(coding.get("code")), _str(coding.get("display")))


def token_values(node: TypedNode, where: str) -> list[IndexValue]:
    type_name, data = _type_of(node)
    found: list[TokenIndex | None] = []
    if type_name == "CodeableConcept" and isinstance(data, dict):
        codings = data.get("coding")
        if isinstance(codings, list):
            found = [_coding(c) for c in codings]
        found.append(_token(None, None, _str(data.get("text"))))
    elif type_name == "Coding":
        found.append(_coding(data))
    elif type_name == "Identifier" and isinstance(data, dict):
        kind = data.get("type")
        kind_text = _str(kind.get("text")) if isinstance(kind, dict) else None
        system, value = _str(data.get("system")), _str(data.get("value"))
        if system or value:
            found.append(_token(system, value, kind_text))
    elif type_name == "ContactPoint" and isinstance(data, dict):
        value = _str(data.get("value"))
        if value:
            found.append(_token(_str(data.get("system")), value, None))
    elif isinstance(data, bool):
        found.append(_token(None, "true" if data else "false", None))
    elif type(data) is str and data:
        found.append(_token(None, data, None))
    elif isinstance(data, int | Decimal):
        found.append(_token(None, str(data), None))
    return [t for t in found if t is not None]


# ---------------------------------------------------------------- string


@short_arguments_cache
def _string(value: str) -> StringIndex | None:
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
    elif type(data) is str:
        texts = [data]
    return [v for v in map(_string, texts) if v is not None]


# ---------------------------------------------------------------- date


@short_arguments_cache
def _date(text: str) -> DateIndex | None:
    found = date_range(text)
    return DateIndex(*found) if found else None


def _range(text: object, where: str) -> DateIndex:
    found = _date(text) if type(text) is str else None
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
        return [_range(data, where)]
    if not isinstance(data, dict):
        return []
    if type_name == "Period":
        period = _period(data, where)
        return [DateIndex(*period)] if period else []
    if type_name == "Timing":
        events = data.get("event")
        ranges = [(r.start, r.end) for r in (_range(e, where) for e in events or () if e is not None)]
        repeat = data.get("repeat")
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        if isinstance(bounds, dict):
            period = _period(bounds, where)
            ranges += [period] if period else []
        if ranges:
            return [DateIndex(min(r[0] for r in ranges), max(r[1] for r in ranges))]
    return []


# ---------------------------------------------------------------- number and quantity


def _decimal(value: object, where: str) -> Decimal:
    found = decimal_of(value)
    if found is None:
        raise ValidationFailedError(
            f"{where}: {value!r} is not an indexable decimal (magnitude between 1e-300 and 1e300)"
        )
    return found


def number_values(node: TypedNode, where: str) -> list[IndexValue]:
    _, data = _type_of(node)
    if data is None or isinstance(data, bool | dict | list):
        return []
    value = _decimal(data, where)
    return [NumberIndex(*precision_range(value), value)]


@short_arguments_cache
def _quantity(
    number_type: str, number_text: str, system: str | None, code: str | None, unit: str | None
) -> QuantityIndex | None:
    # Keyed by the text, not the number: 1.0 and 1.00 are equal (and hash alike) as Decimals,
    # yet their precision ranges differ.
    value = parse_decimal(number_text) if number_type == "str" else decimal_of(Decimal(number_text))
    if value is None:
        return None
    low, high = precision_range(value)
    return QuantityIndex(value, low, high, system and clip(system), code and clip(code), unit and clip(unit))


def _quantity_of(
    data: dict[str, Any], where: str, system: str | None, code: str | None
) -> QuantityIndex | None:
    number = data.get("value")
    if number is None:
        return None
    if isinstance(number, bool | dict | list):
        raise ValidationFailedError(f"{where}: {number!r} is not a decimal")
    found = _quantity(type(number).__name__, str(number), system, code, _str(data.get("unit")))
    if found is None:
        _decimal(number, where)  # raises with the reason
    return found


def quantity_values(node: TypedNode, where: str) -> list[IndexValue]:
    type_name, data = _type_of(node)
    if not isinstance(data, dict):
        return []
    found: QuantityIndex | None = None
    if type_name == "Money":
        found = _quantity_of(data, where, _MONEY_SYSTEM, _str(data.get("currency")))
    elif type_name == "Range":
        low, high = data.get("low"), data.get("high")
        if isinstance(low, dict) and isinstance(high, dict):
            low_q = _quantity_of(low, where, _str(low.get("system")), _str(low.get("code")))
            high_q = _quantity_of(high, where, _str(high.get("system")), _str(high.get("code")))
            if low_q is not None and high_q is not None:  # an open Range has no finite interval
                found = QuantityIndex(low_q.value, low_q.value, high_q.value, low_q.system or high_q.system,
                                      low_q.code or high_q.code, low_q.unit or high_q.unit)  # fmt: skip
    elif is_type(type_name, "Quantity"):
        found = _quantity_of(data, where, _str(data.get("system")), _str(data.get("code")))
    return [found] if found is not None else []


# ---------------------------------------------------------------- reference and uri


@short_arguments_cache
def _reference(
    literal: str | None,
    declared: str | None,
    id_system: str | None,
    id_value: str | None,
    local_base: str | None,
) -> ReferenceIndex | None:
    parsed = parse_reference(literal, local_base) if literal else None
    if parsed is None and id_value is None:
        return None
    return ReferenceIndex(
        (parsed.target_type if parsed else None) or declared,
        parsed.target_id if parsed else None,
        parsed.url if parsed else None,
        id_system and clip(id_system),
        id_value and clip(id_value),
    )


def reference_values(node: TypedNode, where: str, local_base: str | None = None) -> list[IndexValue]:
    type_name, data = _type_of(node)
    if type(data) is str and data:  # canonical / uri used as a reference
        url = clip(data)
        unversioned = url.split("|", 1)[0]
        return [ReferenceIndex(None, None, u) for u in dict.fromkeys((url, unversioned)) if u]
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("resourceType"), str):  # a resource held inline
        rid = _str(data.get("id"))
        return [ReferenceIndex(data["resourceType"], clip(rid), None)] if rid else []
    if type_name != "Reference":
        return []
    identifier = data.get("identifier")
    id_system = id_value = None
    if isinstance(identifier, dict):
        id_system, id_value = _str(identifier.get("system")), _str(identifier.get("value"))
    found = _reference(_str(data.get("reference")), _str(data.get("type")), id_system, id_value, local_base)
    return [found] if found is not None else []


def uri_values(node: TypedNode, where: str) -> list[IndexValue]:
    _, data = _type_of(node)
    return [UriIndex(clip(data))] if type(data) is str and data else []


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
