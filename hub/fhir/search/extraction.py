"""Search-index extraction: the :class:`~hub.core.search.IndexEntry` rows of a resource version.

Runs on every create/update (https://hl7.org/fhir/R4/search.html, "index at
write time"): for each registry parameter of the resource's type the compiled
FHIRPath expression selects typed nodes, and the converter of the parameter's
type (:mod:`hub.fhir.search.index_values`) turns them into index values.
Expressions are compiled once per extractor and shared between types; the
per-type plan is rebuilt only when the registry changes (its ``generation``).

Duplicate values of one parameter collapse to one row.  Composite and special
parameters are never in the registry, so they never reach here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.core.errors import InvalidInputError
from hub.core.search import IndexEntry, IndexValue, SearchParamType
from hub.fhir.search.expressions import CompiledExpression, ExpressionPlan
from hub.fhir.search.fast_path import TypedNode
from hub.fhir.search.index_values import CONVERTERS, reference_values
from hub.fhir.search.registry import SearchParameterDef, SearchParameterRegistry

_ENTRY_CACHE = 16_384  # cached rows per extractor before the cache starts over


@dataclass(frozen=True, slots=True)
class _Step:
    definition: SearchParameterDef
    where: str  # "Observation.code", for error messages
    hash: int
    fast: bool  # nodes are parts of the resource (see _convert)
    convert: Callable[[TypedNode, str], list[IndexValue]]


@dataclass(frozen=True, slots=True)
class _TypePlan:
    steps: tuple[_Step, ...]
    expressions: ExpressionPlan


class IndexExtractor:
    """Extracts index entries with the parameters of ``registry``.

    ``local_base`` is the hub's public base URL: absolute references under it are
    indexed as the local ``Type/id`` they stand for.  ``fast_paths=False`` forces
    every expression through fhirpathpy (used by the test that proves both agree).
    """

    def __init__(
        self,
        registry: SearchParameterRegistry,
        *,
        local_base: str | None = None,
        fast_paths: bool = True,
    ) -> None:
        self._registry = registry
        self._local_base = local_base
        self._fast_paths = fast_paths
        self._compiled: dict[str, CompiledExpression] = {}
        self._plans: dict[str, _TypePlan] = {}
        self._entries: dict[tuple[int, int], IndexEntry] = {}
        self._generation = registry.generation
        self._converters = dict(CONVERTERS)
        self._converters[SearchParamType.REFERENCE] = lambda node, where: reference_values(
            node, where, local_base
        )

    def _compile(self, expression: str) -> CompiledExpression:
        compiled = self._compiled.get(expression)
        if compiled is None:
            compiled = CompiledExpression(expression, local_base=self._local_base, fast=self._fast_paths)
            self._compiled[expression] = compiled
        return compiled

    def _plan(self, resource_type: str) -> _TypePlan:
        if self._generation != self._registry.generation:
            self._plans.clear()
            self._generation = self._registry.generation
        plan = self._plans.get(resource_type)
        if plan is None:
            definitions = self._registry.for_type(resource_type)
            compiled = [self._compile(d.expression) for d in definitions]
            where = [f"{resource_type}.{d.code}" for d in definitions]
            steps = tuple(
                _Step(d, w, d.hash, c.fast, self._converters[d.type])
                for d, w, c in zip(definitions, where, compiled, strict=True)
            )
            plan = _TypePlan(steps, ExpressionPlan(compiled, self._local_base, where))
            self._plans[resource_type] = plan
        return plan

    def extract(self, resource: Mapping[str, Any]) -> tuple[IndexEntry, ...]:
        """Every index row of ``resource`` (a parsed FHIR JSON object), without duplicates."""
        plan = self._plan(_resource_type(resource))
        entries: list[IndexEntry] = []
        converted: dict[tuple[int, int], list[IndexValue]] = {}
        cache = self._entries
        if len(cache) > _ENTRY_CACHE:
            cache.clear()
        for step, nodes in zip(plan.steps, plan.expressions.evaluate(resource), strict=True):
            if not nodes:
                continue
            values = _convert(step, nodes, converted)
            if len(values) > 1:
                values = list(dict.fromkeys(values))
            # Rows of different parameters never collide (distinct hashes): no global de-duplication.
            # Recurring values are shared objects (index_values caches them), so their rows are too:
            # a cached row holds its value, so no live object can reuse a cached key's id().
            for value in values:
                key = (step.hash, id(value))
                entry = cache.get(key)
                if entry is None or entry.value is not value:
                    entry = cache[key] = IndexEntry(step.hash, step.definition.type, value)
                entries.append(entry)
        return tuple(entries)

    def values(self, resource: Mapping[str, Any], code: str) -> tuple[IndexValue, ...]:
        """The index values of one parameter ``code`` of ``resource`` (empty if it has no such parameter)."""
        plan = self._plan(_resource_type(resource))
        for step, nodes in zip(plan.steps, plan.expressions.evaluate(resource), strict=True):
            if step.definition.code == code:
                return tuple(dict.fromkeys(_convert(step, nodes, {})))
        return ()


def _convert(
    step: _Step, nodes: list[TypedNode], converted: dict[tuple[int, int], list[IndexValue]]
) -> list[IndexValue]:
    if not step.fast:  # fhirpathpy may compute temporaries whose id() can be reused
        return [value for node in nodes for value in step.convert(node, step.where)]
    out: list[IndexValue] = []
    for node in nodes:
        # Parameters sharing elements (code / combo-code) convert each node once per resource;
        # fast-path nodes are parts of ``resource``, alive for the whole call, so id() is stable.
        key = (id(node[1]), id(step.convert))
        found = converted.get(key)
        if found is None:
            found = converted[key] = step.convert(node, step.where)
        out += found
    return out


def _resource_type(resource: Mapping[str, Any]) -> str:
    resource_type = resource.get("resourceType") if isinstance(resource, Mapping) else None
    if not isinstance(resource_type, str) or not resource_type:
        raise InvalidInputError("cannot index a resource without a resourceType")
    return resource_type
