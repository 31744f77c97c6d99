"""The SearchParameter registry: which parameters each resource type has, and how to evaluate them.

https://hl7.org/fhir/R4/searchparameter.html,
https://hl7.org/fhir/R4/searchparameter-registry.html.  The built-in definitions
(:mod:`hub.fhir.search.r4_parameters`) are the team's own transcription of the
R4 registry for the types telehub serves.  When the operator installs
``hl7.fhir.r4.core`` (or an IG with SearchParameters),
:meth:`SearchParameterRegistry.extend_from_package` adds the parameters the
built-in table lacks; a built-in definition is never replaced, so behaviour
does not change behind the tests' back.  Composite and special parameters are
skipped with a logged reason, because the index has no table for them.

One :class:`SearchParameterDef` exists per (resource type, code); its
:attr:`~SearchParameterDef.hash` is the key of its index rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hub.core.errors import ConfigurationError, ValidationFailedError
from hub.core.search import SearchParamType, param_hash
from hub.fhir.search.expressions import CompiledExpression, split_union
from hub.fhir.search.fast_path import branch_root
from hub.fhir.search.r4_parameters import R4_PARAMETERS

_log = logging.getLogger("telehub.search")

_SPEC_BASE: Final = "http://hl7.org/fhir/SearchParameter/"

#: Resource types the built-in registry covers (the types telehub serves).
SUPPORTED_RESOURCE_TYPES: Final[frozenset[str]] = frozenset(R4_PARAMETERS)

#: Parameter types that have an index table.
INDEXED_TYPES: Final[frozenset[SearchParamType]] = frozenset(SearchParamType) - {
    SearchParamType.COMPOSITE,
    SearchParamType.SPECIAL,
}


@dataclass(frozen=True, slots=True)
class SearchParameterDef:
    """One search parameter of one resource type."""

    resource_type: str
    code: str
    type: SearchParamType
    expression: str  # FHIRPath, only the branches that apply to resource_type
    targets: tuple[str, ...] = ()  # reference target types; empty = any type
    url: str | None = None  # canonical URL of the SearchParameter that defines it

    @property
    def hash(self) -> int:
        return param_hash(self.resource_type, self.code)

    def allows_target(self, resource_type: str) -> bool:
        return not self.targets or resource_type in self.targets


@dataclass(frozen=True, slots=True)
class SkippedParameter:
    """A package SearchParameter (or one base of it) that was not added, and why."""

    url: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class PackageExtension:
    """What :meth:`SearchParameterRegistry.extend_from_package` did."""

    added: tuple[SearchParameterDef, ...]
    skipped: tuple[SkippedParameter, ...]


class SearchParameterRegistry:
    """Search parameters by resource type and code.  Build it at start-up, then only read it."""

    def __init__(self, definitions: Iterable[SearchParameterDef] = ()) -> None:
        self._by_type: dict[str, dict[str, SearchParameterDef]] = {}
        self._by_hash: dict[int, SearchParameterDef] = {}
        self.generation = 0  # bumped on every change; extractors rebuild their plans when it moves
        for definition in definitions:
            self.add(definition)

    def add(self, definition: SearchParameterDef) -> None:
        """Register ``definition``; a second definition of the same (type, code) is a configuration error."""
        codes = self._by_type.setdefault(definition.resource_type, {})
        if definition.code in codes:
            raise ConfigurationError(
                f"search parameter {definition.resource_type}.{definition.code} is defined twice"
            )
        clash = self._by_hash.get(definition.hash)
        if clash is not None:  # 64-bit blake2b: practically impossible, but it would corrupt the index
            raise ConfigurationError(
                f"search parameters {clash.resource_type}.{clash.code} and "
                f"{definition.resource_type}.{definition.code} have the same index hash"
            )
        codes[definition.code] = definition
        self._by_hash[definition.hash] = definition
        self.generation += 1

    def get(self, resource_type: str, code: str) -> SearchParameterDef | None:
        return self._by_type.get(resource_type, {}).get(code)

    def by_hash(self, key: int) -> SearchParameterDef | None:
        return self._by_hash.get(key)

    def for_type(self, resource_type: str) -> tuple[SearchParameterDef, ...]:
        """The parameters of ``resource_type``, sorted by code."""
        codes = self._by_type.get(resource_type, {})
        return tuple(codes[c] for c in sorted(codes))

    @property
    def resource_types(self) -> frozenset[str]:
        return frozenset(t for t, codes in self._by_type.items() if codes)

    def extend_from_package(self, search_parameters: Iterable[Mapping[str, Any]]) -> PackageExtension:
        """Add package SearchParameter resources for the supported types the registry lacks.

        ``Resource``/``DomainResource`` bases apply to every supported type.  For a
        shared parameter only the expression branches that start at the base type
        are kept.  Skipped: non-SearchParameter input, composite/special types,
        missing expressions, unsupported bases, codes already defined, and
        expressions that do not compile.  Each skip is logged and returned.
        """
        added: list[SearchParameterDef] = []
        skipped: list[SkippedParameter] = []

        def skip(url: str, code: str, reason: str, level: int = logging.DEBUG) -> None:
            _log.log(level, "search parameter %s (%s) skipped: %s", url, code, reason)
            skipped.append(SkippedParameter(url, code, reason))

        for resource in search_parameters:
            url, code = str(resource.get("url", "")), str(resource.get("code", ""))
            reason = _unusable(resource)
            if reason:
                skip(url, code, reason)
                continue
            param_type = SearchParamType(resource["type"])
            for base in _bases(resource.get("base")):
                if self.get(base, code) is not None:
                    skip(url, code, f"{base}.{code} is already defined")
                    continue
                expression = _expression_for(str(resource["expression"]), base)
                if expression is None:
                    skip(url, code, f"no expression branch applies to {base}")
                    continue
                try:  # compile, and probe once: fhirpathpy reports unknown functions only when run
                    CompiledExpression(expression).evaluate({"resourceType": base})
                except (ConfigurationError, ValidationFailedError) as exc:
                    skip(url, code, f"expression does not compile: {exc.message}", logging.WARNING)
                    continue
                targets = tuple(str(t) for t in resource.get("target", ()) if isinstance(t, str))
                definition = SearchParameterDef(base, code, param_type, expression, targets, url or None)
                self.add(definition)
                added.append(definition)
        _log.info(
            "search parameters from package: %d added, %d skipped (reasons at debug level)",
            len(added),
            len(skipped),
        )
        return PackageExtension(tuple(added), tuple(skipped))


def _unusable(resource: Mapping[str, Any]) -> str | None:
    """Why a package resource cannot become a registry entry, or ``None``."""
    if resource.get("resourceType") != "SearchParameter":
        return f"not a SearchParameter ({resource.get('resourceType')!r})"
    code, type_code = resource.get("code"), resource.get("type")
    if not isinstance(code, str) or not code:
        return "no code"
    try:
        param_type = SearchParamType(type_code)
    except ValueError:
        return f"unknown type {type_code!r}"
    if param_type not in INDEXED_TYPES:
        return f"{param_type.value} parameters are not indexed"
    if not isinstance(resource.get("expression"), str) or not resource["expression"].strip():
        return "no FHIRPath expression"
    if not _bases(resource.get("base")):
        return "no supported base resource type"
    return None


def _bases(base: object) -> list[str]:
    if not isinstance(base, list):
        return []
    wanted: set[str] = set()
    for item in base:
        if item in ("Resource", "DomainResource"):
            wanted |= SUPPORTED_RESOURCE_TYPES
        elif item in SUPPORTED_RESOURCE_TYPES:
            wanted.add(item)
    return sorted(wanted)


def _expression_for(expression: str, base: str) -> str | None:
    """The union branches of ``expression`` that start at ``base``; ``Resource.x`` becomes ``<base>.x``."""
    kept: list[str] = []
    for branch in split_union(expression):
        root = branch_root(branch)
        if root in ("Resource", "DomainResource"):
            branch = branch.replace(f"{root}.", f"{base}.", 1)
            root = base
        if root == base:
            kept.append(branch)
    return " | ".join(kept) if kept else None


def default_registry() -> SearchParameterRegistry:
    """A new registry holding the built-in R4 parameters of :data:`SUPPORTED_RESOURCE_TYPES`."""
    definitions: list[SearchParameterDef] = []
    for resource_type, rows in R4_PARAMETERS.items():
        for row in rows:
            code, param_type, expression = row[0], row[1], row[2]
            targets: tuple[str, ...] = row[3] if len(row) > 3 else ()
            url_id: str = row[4] if len(row) > 4 else f"{resource_type}-{code}"
            definitions.append(
                SearchParameterDef(resource_type, code, param_type, expression, targets, _SPEC_BASE + url_id)
            )
    return SearchParameterRegistry(definitions)
