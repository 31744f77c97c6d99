"""Search-parameter FHIRPath expressions, compiled once and evaluated on every write.

The registry's expressions follow https://hl7.org/fhir/R4/searchparameter-registry.html.
Each is split at its top-level ``|`` into branches, and each branch is compiled
once, in one of two ways:

* a **fast path** for the shapes nearly every search parameter has: a dotted
  path from the resource type (``Observation.code``, ``Patient.name.given``),
  optionally with ``(… as T)``, ``.as(T)``/``.ofType(T)``, ``.where(resolve() is T)``
  or ``.where(field = 'literal')``.  It walks the JSON dict directly, resolving
  choice elements (``value`` -> ``valueQuantity``) and element types from
  fhirpathpy's own R4 model tables, so it yields exactly what fhirpathpy would,
  at a fraction of the cost (a test checks both agree on every official example);
* **fhirpathpy** (``compile(expr, model=models["r4"])``) for everything else.

Both return ``(type, data)`` pairs: ``type`` is the FHIR type name of the node
(``CodeableConcept``, ``dateTime``, ``System.String`` …) or ``None`` for a
computed value.  fhirpathpy has no ``resolve()``; both paths use
:func:`hub.fhir.search.references.reference_type`, which reads the target type
from the reference text without fetching anything.  ``X as T`` over several
items is an error in strict FHIRPath, yet the R4 expressions use it on repeating
elements (``Observation.component.value as Quantity``); it is evaluated as
``ofType(T)``, item by item, which is what the expressions mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from fhirpathpy import compile as fhirpath_compile
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from hub.core.errors import ValidationFailedError
from hub.fhir.search.references import reference_type

TypedNode = tuple[str | None, Any]

_MODEL: Final[dict[str, Any]] = models["r4"]
_PATH2TYPE: Final[dict[str, str]] = _MODEL["path2Type"]
_CHOICES: Final[dict[str, list[str]]] = _MODEL["choiceTypePaths"]
_ELSEWHERE: Final[dict[str, str]] = _MODEL["pathsDefinedElsewhere"]
_PARENTS: Final[dict[str, str]] = _MODEL["type2Parent"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_ROOT_RE = re.compile(r"[A-Z][A-Za-z]*(?=\.|$)")
_STEP_RE = re.compile(
    rf"\.(?:where\(\s*resolve\(\)\s+is\s+(?P<resolve>{_IDENT})\s*\)"
    rf"|where\(\s*(?P<field>{_IDENT})\s*=\s*'(?P<literal>[^'\\]*)'\s*\)"
    rf"|(?:as|ofType)\((?P<of_type>{_IDENT})\)"
    rf"|(?P<child>{_IDENT})(?![A-Za-z0-9_(]))"
)
_AS_RE = re.compile(rf"\(\s*(?P<path>[A-Z][A-Za-z]*(?:\.{_IDENT})*)\s+as\s+(?P<type>{_IDENT})\s*\)")

# step kinds
_CHILD, _OF_TYPE, _RESOLVE_IS, _WHERE_EQ = range(4)
_Step = tuple[int, str, str]


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


def branch_root(branch: str) -> str | None:
    """The resource type a branch starts from (``Observation`` in ``(Observation.value as Quantity)``)."""
    match = _ROOT_RE.match(branch.lstrip("( "))
    return match.group(0) if match else None


def _as_of_type(branch: str) -> str:
    """``(X.y as T)`` -> ``X.y.ofType(T)`` (see the module docstring)."""
    return _AS_RE.sub(lambda m: f"{m['path']}.ofType({m['type']})", branch)


def _parse_fast(branch: str) -> tuple[str, tuple[_Step, ...]] | None:
    """Root type and steps of a branch the fast path can walk, else ``None``."""
    root = _ROOT_RE.match(branch)
    if root is None:
        return None
    steps: list[_Step] = []
    position = root.end()
    while position < len(branch):
        step = _STEP_RE.match(branch, position)
        if step is None:
            return None
        if step["resolve"]:
            steps.append((_RESOLVE_IS, step["resolve"], ""))
        elif step["field"]:
            steps.append((_WHERE_EQ, step["field"], step["literal"]))
        elif step["of_type"]:
            steps.append((_OF_TYPE, step["of_type"], ""))
        else:
            steps.append((_CHILD, step["child"], ""))
        position = step.end()
    return root.group(0), tuple(steps)


def is_type(type_name: str | None, wanted: str) -> bool:
    """FHIRPath ``is``: ``type_name`` is ``wanted`` or derives from it (``Age`` is a ``Quantity``)."""
    seen = 0
    while type_name and seen < 32:
        if type_name == wanted:
            return True
        type_name = _PARENTS.get(type_name) or _PATH2TYPE.get(type_name)
        seen += 1
    return False


# (parent path, key) -> (plain child type, ((element name, typed child path), ...) for choices)
_STEP_CACHE: dict[tuple[str, str], tuple[str, tuple[tuple[str, str], ...]]] = {}


def _step_info(parent: str, key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    info = _STEP_CACHE.get((parent, key))
    if info is None:
        child = f"{parent}.{key}"
        child = _ELSEWHERE.get(child, child)
        choices = tuple(
            (f"{key}{suffix}", _PATH2TYPE.get(child + suffix, child + suffix))
            for suffix in _CHOICES.get(child, ())
        )
        info = (_PATH2TYPE.get(child, child), choices)
        _STEP_CACHE[(parent, key)] = info
    return info


Op = Callable[[list[TypedNode]], list[TypedNode]]


def _child_op(key: str) -> Op:
    """``.key``: the children named ``key`` (choice elements resolved as fhirpathpy does)."""
    infos: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}

    def children(nodes: list[TypedNode]) -> list[TypedNode]:
        out: list[TypedNode] = []
        for path, data in nodes:
            if type(data) is not dict:
                continue
            info = infos.get(path)  # type: ignore[arg-type]
            if info is None:
                info = infos[path] = _step_info(path or "", key)  # type: ignore[index]
            child_type, choices = info
            if choices:
                value = None
                for element, typed in choices:
                    if element in data or f"_{element}" in data:
                        value, child_type = data.get(element), typed
                        break
            else:
                value = data.get(key)
            if value is None:
                continue
            for item in value if type(value) is list else (value,):
                if type(item) is dict:
                    inline_type = item.get("resourceType")
                    if type(inline_type) is str:  # a resource held inline: its type is its resourceType
                        out.append((inline_type, item))
                    elif len(item) != 1 or "extension" not in item:  # skip a primitive's extension-only twin
                        out.append((child_type, item))
                elif item is not None:
                    out.append((child_type, item))
        return out

    return children


def _filter_op(kind: int, name: str, literal: str, local_base: str | None) -> Op:
    if kind == _OF_TYPE:
        return lambda nodes: [n for n in nodes if is_type(n[0], name)]
    if kind == _RESOLVE_IS:
        return lambda nodes: [
            n for n in nodes if type(n[1]) is dict and reference_type(n[1], local_base) == name
        ]
    return lambda nodes: [n for n in nodes if type(n[1]) is dict and n[1].get(name) == literal]


Evaluator = Callable[[Mapping[str, Any]], list[TypedNode]]


def _op(step: _Step, local_base: str | None) -> Op:
    kind, name, literal = step
    return _child_op(name) if kind == _CHILD else _filter_op(kind, name, literal, local_base)


def _resolved_stub(resource_type: str) -> Any:
    """What our ``resolve()`` returns: a node of the target type, enough for ``is``/``ofType``."""
    return ResourceNode.create_node({"resourceType": resource_type})  # type: ignore[no-untyped-call]


def _fhirpathpy_evaluator(branch: str, local_base: str | None) -> Evaluator:
    def resolve(inputs: list[Any]) -> list[Any]:
        found = [reference_type(i, local_base) for i in inputs if isinstance(i, dict)]
        return [_resolved_stub(t) for t in found if t]

    options = {"returnRawData": True, "userInvocationTable": {"resolve": {"fn": resolve, "arity": {0: []}}}}
    compiled = fhirpath_compile(_as_of_type(branch), model=_MODEL, options=options)

    def evaluate(resource: Mapping[str, Any]) -> list[TypedNode]:
        result = compiled(resource, {})
        return [(n.path, n.data) if isinstance(n, ResourceNode) else (None, n) for n in result]

    return evaluate


def _meaningful(node: TypedNode) -> bool:
    """Drop what carries no value: ``None`` and a primitive's extension-only ``_element`` object."""
    data = node[1]
    return data is not None and not (isinstance(data, dict) and data.keys() == {"extension"})


class CompiledExpression:
    """One search expression, compiled once: its fast-path branches and its fhirpathpy branches."""

    __slots__ = ("_alone", "expression", "fast_branches", "local_base", "slow_branches")

    def __init__(self, expression: str, *, local_base: str | None = None, fast: bool = True) -> None:
        self.expression = expression
        self.local_base = local_base
        fast_branches: list[tuple[str, tuple[_Step, ...]]] = []
        slow_branches: list[Evaluator] = []
        for branch in split_union(expression):
            parsed = _parse_fast(_as_of_type(branch)) if fast else None
            if parsed is None:
                slow_branches.append(_fhirpathpy_evaluator(branch, local_base))
            else:
                fast_branches.append(parsed)
        self.fast_branches = tuple(fast_branches)
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
        self.children: dict[_Step, _TrieNode] = {}
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
        for index, expression in enumerate(expressions):
            for root_type, steps in expression.fast_branches:
                node = self._roots.setdefault(root_type, _TrieNode(None))
                for step in steps:
                    child = node.children.get(step)
                    if child is None:
                        child = node.children[step] = _TrieNode(_op(step, local_base))
                    node = child
                node.ends.append(index)
            self._slow += [(index, evaluator) for evaluator in expression.slow_branches]
        for root_type, root in self._roots.items():
            for (kind, name, _), child in root.children.items():
                if kind != _CHILD:
                    root.unkeyed.append(child)
                    continue
                _, choices = _step_info(root_type, name)
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
