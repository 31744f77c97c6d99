"""Search-parameter FHIRPath expressions, compiled once and evaluated on every write.

The registry's expressions follow https://hl7.org/fhir/R4/searchparameter-registry.html.
Each is split at its top-level ``|`` into branches, and each branch is compiled
once, by one of two routes:

* the **fast path** (:mod:`hub.fhir.search.fast_path`) for the shapes nearly
  every search parameter has (``Observation.code``, ``(Observation.value as
  Quantity)``, ``Observation.subject.where(resolve() is Patient)`` …): it walks
  the JSON dict directly and yields exactly the nodes fhirpathpy would (a test
  checks both agree on every official example);
* **fhirpathpy** (:mod:`hub.fhir.search.fhirpath_fallback`) for everything else.

Both yield ``(type, data)`` pairs: ``type`` is the FHIR type name of the node
(``CodeableConcept``, ``dateTime``, ``System.String`` …) or ``None`` for a
computed value.  :class:`ExpressionPlan` evaluates all parameters of a resource
type in one pass over a trie of their paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.core.errors import ValidationFailedError
from hub.fhir.search.fast_path import (
    CHILD,
    Evaluator,
    Op,
    Step,
    TypedNode,
    as_of_type,
    exists_not_false,
    extension_shorthand,
    op_for,
    parse_fast,
    step_info,
)
from hub.fhir.search.fhirpath_fallback import fhirpathpy_evaluator


def split_union(expression: str) -> list[str]:
    """The top-level ``|`` branches of an expression (not inside parentheses or quotes)."""
    branches: list[str] = []
    depth, quote, start = 0, False, 0
    for index, char in enumerate(expression):
        if char == "'" and (index == 0 or expression[index - 1] != "\\"):
            quote = not quote
        elif quote:
            continue
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(expression[start:index].strip())
            start = index + 1
    branches.append(expression[start:].strip())
    return [b for b in branches if b]


def _meaningful(node: TypedNode) -> bool:
    """Drop what carries no value: ``None`` and a primitive's extension-only ``_element`` object."""
    data = node[1]
    return data is not None and not (isinstance(data, dict) and data.keys() == {"extension"})


class CompiledExpression:
    """One search expression, compiled once: its fast-path branches and its fhirpathpy branches."""

    __slots__ = ("_alone", "computed_branches", "expression", "fast_branches", "local_base", "slow_branches")

    def __init__(self, expression: str, *, local_base: str | None = None, fast: bool = True) -> None:
        self.expression = expression
        self.local_base = local_base
        fast_branches: list[tuple[str, tuple[Step, ...]]] = []
        computed_branches: list[Evaluator] = []
        slow_branches: list[Evaluator] = []
        for branch in split_union(expression):
            parsed = parse_fast(extension_shorthand(as_of_type(branch))) if fast else None
            computed = exists_not_false(branch, local_base) if fast and parsed is None else None
            if parsed is not None:
                fast_branches.append(parsed)
            elif computed is not None:
                computed_branches.append(computed)
            else:
                slow_branches.append(fhirpathpy_evaluator(branch, local_base))
        self.fast_branches = tuple(fast_branches)
        #: pure-Python evaluators of recognised non-path shapes; their values are bools (stable ids)
        self.computed_branches = tuple(computed_branches)
        self.slow_branches = tuple(slow_branches)
        self._alone: ExpressionPlan | None = None

    @property
    def fast(self) -> bool:
        """Every branch takes the fast path (its nodes are parts of the evaluated resource)."""
        return not self.slow_branches

    def evaluate(self, resource: Mapping[str, Any]) -> list[TypedNode]:
        """The typed nodes the expression selects (order: fast branches, then fhirpathpy branches)."""
        if self._alone is None:
            self._alone = ExpressionPlan((self,), self.local_base)
        return self._alone.evaluate(resource)[0]


class _TrieNode:
    """One step of the path trie: its operation, the steps after it, and the expressions ending here."""

    __slots__ = ("by_key", "children", "ends", "op", "unkeyed")

    def __init__(self, op: Op | None) -> None:
        self.op = op
        self.children: dict[Step, _TrieNode] = {}
        self.ends: list[int] = []
        self.by_key: dict[str, list[_TrieNode]] = {}  # root only: JSON key -> children it can feed
        self.unkeyed: list[_TrieNode] = []  # root only: children not starting with a child step


def _walk(node: _TrieNode, nodes: list[TypedNode], results: list[list[TypedNode]]) -> None:
    for index in node.ends:
        results[index] += nodes
    for child in node.children.values():
        found = child.op(nodes)  # type: ignore[misc]
        if found:
            _walk(child, found, results)


class ExpressionPlan:
    """Several expressions evaluated on one resource in one pass.

    The fast branches form a trie of steps per root type, so a prefix shared by
    several parameters (``Observation.value`` for value-quantity, value-concept,
    value-string …) is walked once, and a subtree whose first element is absent
    from the resource costs nothing: the walk starts from the keys the resource
    actually has.
    """

    def __init__(
        self,
        expressions: Sequence[CompiledExpression],
        local_base: str | None = None,
        labels: Sequence[str] = (),
    ) -> None:
        self._size = len(expressions)
        self._labels = tuple(labels) or tuple(e.expression for e in expressions)
        self._roots: dict[str, _TrieNode] = {}
        self._slow: list[tuple[int, Evaluator]] = []
        self._computed: list[tuple[int, Evaluator]] = []
        for index, expression in enumerate(expressions):
            for root_type, steps in expression.fast_branches:
                node = self._roots.setdefault(root_type, _TrieNode(None))
                for step in steps:
                    child = node.children.get(step)
                    if child is None:
                        child = node.children[step] = _TrieNode(op_for(step, local_base))
                    node = child
                node.ends.append(index)
            self._slow += [(index, evaluator) for evaluator in expression.slow_branches]
            self._computed += [(index, evaluator) for evaluator in expression.computed_branches]
        for root_type, root in self._roots.items():
            for (kind, name, _), child in root.children.items():
                if kind != CHILD:
                    root.unkeyed.append(child)
                    continue
                _, choices = step_info(root_type, name)
                for key in [element for element, _ in choices] if choices else [name]:
                    root.by_key.setdefault(key, []).append(child)

    def evaluate(self, resource: Mapping[str, Any]) -> list[list[TypedNode]]:
        """The nodes each expression selects, by position in the list the plan was built from."""
        results: list[list[TypedNode]] = [[] for _ in range(self._size)]
        root_type = resource.get("resourceType")
        root = self._roots.get(root_type) if isinstance(root_type, str) else None
        if root is not None:
            start: list[TypedNode] = [(root_type, resource)]
            for index in root.ends:
                results[index] += start
            by_key = root.by_key
            hit: list[_TrieNode] = []
            for key in resource:
                found = by_key.get(key)
                if found is not None:
                    hit += found
            if len(hit) > 1:
                hit = list(dict.fromkeys(hit))  # a resource with two variants of one choice element
            for child in hit + root.unkeyed:
                nodes = child.op(start)  # type: ignore[misc]
                if nodes:
                    _walk(child, nodes, results)
        for index, evaluator in self._computed:
            results[index] += evaluator(resource)
        for index, evaluator in self._slow:
            try:
                selected = evaluator(resource)
            except Exception as exc:  # fhirpathpy signals evaluation failures with bare exceptions
                raise ValidationFailedError(
                    f"search parameter {self._labels[index]} could not be evaluated: {exc}",
                    expression=self._labels[index],
                ) from exc
            results[index] += [node for node in selected if _meaningful(node)]
        return results
