"""Parsing of a FHIR search request into criteria and result parameters.

https://hl7.org/fhir/R4/search.html.  Input is the list of ``(name, value)``
pairs of a GET query or a POST ``_search`` form, in order.  Each criterion is
``code[:modifier]`` or a one-level chain ``code[:Type].chained[:modifier]``;
values within one parameter are OR-ed, repeated parameters AND-ed, and empty
values ignored (search.html#errors).  Supported modifiers by type:

=========  ==============================================================
string     ``:exact`` ``:contains`` ``:missing``
token      ``:not`` ``:text`` ``:missing``
reference  ``:[Type]`` ``:identifier`` ``:missing``
uri        ``:below`` ``:above`` ``:missing``
others     ``:missing``
=========  ==============================================================

Any other modifier is rejected with 400 (the spec requires servers to reject
modifiers they do not support).  Result parameters: ``_count``, ``_sort``
(``-`` for descending, several keys), ``_include``/``_revinclude``
(``Type:param[:target]``, also ``:iterate``), ``_summary``, ``_total``,
``_elements``; ``_format`` and ``_pretty`` are accepted and left to the HTTP
layer.  Names the registry does not know — including the search features
telehub does not implement (``_has``, ``_text``, ``_content``, ``_list``,
``_filter``, ``_query``, ``_contained``) — are returned in
:attr:`SearchRequest.unknown` instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from hub.core.errors import InvalidInputError
from hub.core.search import Criterion, MissingQuery, Modifier, QueryValue, SearchParamType, SortKey
from hub.fhir.primitives import control_character
from hub.fhir.search.query_values import is_type_name, parse_value, quoted, split_escaped
from hub.fhir.search.registry import SearchParameterDef, SearchParameterRegistry
from hub.fhir.search.request import Include, SearchRequest, SummaryMode, TotalMode

#: Parameters accepted and ignored here because the HTTP layer handles them.
CONTROL_PARAMETERS = frozenset({"_format", "_pretty"})
_RESULT_PARAMETERS = frozenset(
    {"_count", "_sort", "_include", "_revinclude", "_summary", "_total", "_elements"}
)
_ELEMENT_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}", re.ASCII)
_MAX_COUNT = 2**31 - 1

_ALLOWED: dict[SearchParamType, frozenset[Modifier]] = {
    SearchParamType.STRING: frozenset({Modifier.NONE, Modifier.EXACT, Modifier.CONTAINS, Modifier.MISSING}),
    SearchParamType.TOKEN: frozenset({Modifier.NONE, Modifier.NOT, Modifier.TEXT, Modifier.MISSING}),
    SearchParamType.REFERENCE: frozenset(
        {Modifier.NONE, Modifier.TYPE, Modifier.IDENTIFIER, Modifier.MISSING}
    ),
    SearchParamType.URI: frozenset({Modifier.NONE, Modifier.BELOW, Modifier.ABOVE, Modifier.MISSING}),
    SearchParamType.DATE: frozenset({Modifier.NONE, Modifier.MISSING}),
    SearchParamType.NUMBER: frozenset({Modifier.NONE, Modifier.MISSING}),
    SearchParamType.QUANTITY: frozenset({Modifier.NONE, Modifier.MISSING}),
}


class _Unknown(Exception):
    """Internal signal: the parameter (or its chained part) is not in the registry."""


def _modifier(name: str, definition: SearchParameterDef, text: str) -> tuple[Modifier, str | None]:
    """The modifier of ``name`` and, for ``:[Type]``, the type."""
    if not text:
        return Modifier.NONE, None
    if definition.type is SearchParamType.REFERENCE and is_type_name(text):
        if not definition.allows_target(text):
            raise InvalidInputError(
                f"search parameter {name!r}: {text} is not a target of {definition.code} "
                f"({', '.join(definition.targets)})",
                expression=name,
            )
        return Modifier.TYPE, text
    try:
        modifier = Modifier(text)
    except ValueError:
        modifier = None
    allowed = _ALLOWED[definition.type]
    if modifier is None or modifier is Modifier.TYPE or modifier not in allowed:
        supported = ", ".join(sorted(":" + m.value for m in allowed if m.value))
        raise InvalidInputError(
            f"search parameter {name!r}: modifier :{text} is not supported on {definition.type.value} "
            f"parameters (supported: {supported})",
            expression=name,
        )
    return modifier, None


def _values(
    name: str,
    definition: SearchParameterDef,
    modifier: Modifier,
    type_modifier: str | None,
    raw: str,
    local_base: str | None,
) -> tuple[QueryValue, ...]:
    if modifier is Modifier.MISSING:
        if raw not in ("true", "false"):
            raise InvalidInputError(
                f"search parameter {name!r}: :missing takes true or false, not {quoted(raw)}", expression=name
            )
        return (MissingQuery(raw == "true"),)
    values: list[QueryValue] = []
    for part in split_escaped(raw, ","):
        if part.strip():
            value = parse_value(
                name, definition.type, modifier, part, type_modifier=type_modifier, local_base=local_base
            )
            if (
                getattr(value, "value", True) != ""
            ):  # a string value that normalised away matches nothing useful
                values.append(value)
    return tuple(values)


def _criterion(
    registry: SearchParameterRegistry, resource_type: str, name: str, raw: str, local_base: str | None
) -> Criterion | None:
    head, _, chain = name.partition(".")
    code, _, modifier_text = head.partition(":")
    definition = registry.get(resource_type, code)
    if definition is None:
        raise _Unknown
    modifier, type_modifier = _modifier(name, definition, modifier_text)
    if chain:
        return _chained(
            registry, resource_type, name, definition, modifier, type_modifier, chain, raw, local_base
        )
    values = _values(name, definition, modifier, type_modifier, raw, local_base)
    if not values:
        return None
    return Criterion(resource_type, code, definition.type, modifier, values)


def _chained(
    registry: SearchParameterRegistry,
    resource_type: str,
    name: str,
    definition: SearchParameterDef,
    modifier: Modifier,
    type_modifier: str | None,
    chain: str,
    raw: str,
    local_base: str | None,
) -> Criterion | None:
    if definition.type is not SearchParamType.REFERENCE or modifier not in (Modifier.NONE, Modifier.TYPE):
        raise InvalidInputError(
            f"search parameter {name!r}: only a reference parameter (optionally with :[Type]) can be chained",
            expression=name,
        )
    if "." in chain:
        raise InvalidInputError(
            f"search parameter {name!r}: telehub supports one level of chaining", expression=name
        )
    chained_code = chain.partition(":")[0]
    if type_modifier:
        candidates = [type_modifier] if registry.get(type_modifier, chained_code) else []
    else:
        types = definition.targets or tuple(sorted(registry.resource_types))
        candidates = [t for t in types if registry.get(t, chained_code) is not None]
    if not candidates:
        raise _Unknown
    if len(candidates) > 1:
        raise InvalidInputError(
            f"search parameter {name!r}: {chained_code} exists on several targets of {definition.code} "
            f"({', '.join(candidates)}); name one, e.g. {definition.code}:{candidates[0]}.{chain}",
            expression=name,
        )
    inner = _criterion(registry, candidates[0], chain, raw, local_base)
    if inner is None:
        return None
    return Criterion(resource_type, definition.code, SearchParamType.REFERENCE, modifier, (), chain=inner)


def _count(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > _MAX_COUNT:
        raise InvalidInputError(f"_count {quoted(raw)} is not a non-negative integer", expression="_count")
    return int(raw)


def _sort(registry: SearchParameterRegistry, resource_type: str, raw: str) -> list[SortKey]:
    keys: list[SortKey] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        code = item.removeprefix("-")
        definition = registry.get(resource_type, code)
        if definition is None:
            raise InvalidInputError(
                f"_sort: {quoted(code)} is not a search parameter of {resource_type}", expression="_sort"
            )
        keys.append(SortKey(code, definition.type, descending, resource_type))
    return keys


def _include(registry: SearchParameterRegistry, resource_type: str, name: str, raw: str) -> Include:
    base, _, modifier = name.partition(":")
    if modifier not in ("", "iterate", "recurse"):
        raise InvalidInputError(f"{base}: modifier :{modifier} is not supported", expression=base)
    parts = raw.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidInputError(
            f"{base} {quoted(raw)} is not SourceType:parameter[:TargetType] (wildcards are not supported)",
            expression=base,
        )
    source, code = parts[0], parts[1]
    target = parts[2] if len(parts) == 3 else None
    if base == "_include" and source != resource_type:
        raise InvalidInputError(f"_include {quoted(raw)} must start with {resource_type}", expression=base)
    definition = registry.get(source, code)
    if definition is None or definition.type is not SearchParamType.REFERENCE:
        raise InvalidInputError(
            f"{base} {quoted(raw)}: {code!r} is not a reference parameter of {source!r}", expression=base
        )
    if base == "_revinclude" and not definition.allows_target(target or resource_type):
        raise InvalidInputError(f"_revinclude {quoted(raw)} cannot point at {resource_type}", expression=base)
    if base == "_revinclude" and target is not None and target != resource_type:
        raise InvalidInputError(
            f"_revinclude {quoted(raw)}: the target must be {resource_type}", expression=base
        )
    if target is not None and (not is_type_name(target) or not definition.allows_target(target)):
        raise InvalidInputError(
            f"{base} {quoted(raw)}: {target!r} is not a target of {code}", expression=base
        )
    return Include(source, code, target, iterate=bool(modifier))


def _elements(resource_type: str, raw: str) -> list[str]:
    names: list[str] = []
    for item in raw.split(","):
        item = item.strip().removeprefix(f"{resource_type}.")
        if not item:
            continue
        if not _ELEMENT_RE.fullmatch(item):
            raise InvalidInputError(
                f"_elements: {quoted(item)} is not an element name", expression="_elements"
            )
        names.append(item)
    return names


def parse_search_request(
    registry: SearchParameterRegistry,
    resource_type: str,
    params: Iterable[tuple[str, str]],
    *,
    local_base: str | None = None,
) -> SearchRequest:
    """Parse ``params`` for a search on ``resource_type``; malformed input raises InvalidInputError."""
    criteria: list[Criterion] = []
    unknown: dict[str, None] = {}
    sort: list[SortKey] = []
    includes: list[Include] = []
    revincludes: list[Include] = []
    elements: list[str] = []
    singles: dict[str, str] = {}
    for name, raw in params:
        # a value reaches the database; an unknown name only the "unknown parameter" report
        if (control := control_character(raw)) is not None:
            raise InvalidInputError(
                f"search parameter {name!r} contains the control character {control}",
                expression=name,
                message_id="TH-SEARCH-CONTROL-CHARACTER",
            )
        base = name.partition(":")[0]
        if name in CONTROL_PARAMETERS:
            continue
        if base in _RESULT_PARAMETERS:
            if base in ("_include", "_revinclude"):
                if raw:
                    (includes if base == "_include" else revincludes).append(
                        _include(registry, resource_type, name, raw)
                    )
                continue
            if name in singles:
                raise InvalidInputError(f"{name} may be given only once", expression=name)
            singles[name] = raw
            continue
        if not raw:
            continue  # empty parameters are ignored (search.html#errors)
        try:
            criterion = _criterion(registry, resource_type, name, raw, local_base)
        except _Unknown:
            unknown[name] = None
            continue
        if criterion is not None:
            criteria.append(criterion)
    if singles.get("_sort"):
        sort = _sort(registry, resource_type, singles["_sort"])
    if singles.get("_elements"):
        elements = _elements(resource_type, singles["_elements"])
    return SearchRequest(
        resource_type=resource_type,
        criteria=tuple(criteria),
        sort=tuple(sort),
        count=_count(singles["_count"]) if singles.get("_count") else None,
        includes=tuple(includes),
        revincludes=tuple(revincludes),
        summary=_enum(SummaryMode, "_summary", singles.get("_summary")),
        total=_enum(TotalMode, "_total", singles.get("_total")),
        elements=tuple(elements),
        unknown=tuple(unknown),
    )


_E = TypeVar("_E", SummaryMode, TotalMode)


def _enum(kind: type[_E], name: str, raw: str | None) -> _E | None:
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidInputError(f"{name} {quoted(raw)} is not one of {allowed}", expression=name) from exc
