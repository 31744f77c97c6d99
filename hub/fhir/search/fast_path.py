"""The fast path of search expressions: walking FHIR JSON directly for simple FHIRPath shapes.

Recognised shapes (a branch of a search expression, https://hl7.org/fhir/R4/fhirpath.html):
a dotted path from a resource type, with ``.as(T)``/``.ofType(T)`` (and
``(path as T)``, rewritten to ``ofType`` first), ``.where(resolve() is T)``,
``.where(field = 'literal')`` (and its shorthand ``.extension('url')``, rewritten to
it first), and the R4 ``X.exists() and X != false`` of ``Patient.deceased``.
Element types and choice elements are resolved with fhirpathpy's own R4 model
tables (``path2Type``, ``choiceTypePaths``, ``pathsDefinedElsewhere``,
``type2Parent``) exactly as fhirpathpy's member access does, so the nodes are the
ones fhirpathpy would return.  Anything else goes to
:mod:`hub.fhir.search.fhirpath_fallback`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from fhirpathpy.models import models

from hub.fhir.search.references import reference_type

TypedNode = tuple[str | None, Any]

MODEL: Final[dict[str, Any]] = models["r4"]
_PATH2TYPE: Final[dict[str, str]] = MODEL["path2Type"]
_CHOICES: Final[dict[str, list[str]]] = MODEL["choiceTypePaths"]
_ELSEWHERE: Final[dict[str, str]] = MODEL["pathsDefinedElsewhere"]
_PARENTS: Final[dict[str, str]] = MODEL["type2Parent"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_ROOT_RE = re.compile(r"[A-Z][A-Za-z]*(?=\.|$)")
_STEP_RE = re.compile(
    rf"\.(?:where\(\s*resolve\(\)\s+is\s+(?P<resolve>{_IDENT})\s*\)"
    rf"|where\(\s*(?P<field>{_IDENT})\s*=\s*'(?P<literal>[^'\\]*)'\s*\)"
    rf"|(?:as|ofType)\((?P<of_type>{_IDENT})\)"
    rf"|(?P<child>{_IDENT})(?![A-Za-z0-9_(]))"
)
_EXISTS_NOT_FALSE_RE = re.compile(
    rf"(?P<path>[A-Z][A-Za-z]*(?:\.{_IDENT})+)\.exists\(\)\s+and\s+(?P=path)\s*!=\s*false"
)

_AS_RE = re.compile(rf"\(\s*(?P<path>[A-Z][A-Za-z]*(?:\.{_IDENT})*)\s+as\s+(?P<type>{_IDENT})\s*\)")

# step kinds: (kind, name, literal)
CHILD, OF_TYPE, RESOLVE_IS, WHERE_EQ = range(4)
Step = tuple[int, str, str]


def branch_root(branch: str) -> str | None:
    """The resource type a branch starts from (``Observation`` in ``(Observation.value as Quantity)``)."""
    match = _ROOT_RE.match(branch.lstrip("( "))
    return match.group(0) if match else None


def as_of_type(branch: str) -> str:
    """``(X.y as T)`` -> ``X.y.ofType(T)``.

    ``as`` over several items is an error in strict FHIRPath (and in fhirpathpy), yet
    the R4 expressions use it on repeating elements (``Observation.component.value
    as Quantity``); item-by-item ``ofType`` is what they mean.
    """
    return _AS_RE.sub(lambda m: f"{m['path']}.ofType({m['type']})", branch)


_EXTENSION_RE = re.compile(r"\.extension\(\s*'(?P<url>[^'\\]*)'\s*\)")


def extension_shorthand(branch: str) -> str:
    """``X.extension('url')`` -> ``X.extension.where(url = 'url')``: what the FHIRPath function means
    (https://hl7.org/fhir/R4/fhirpath.html#functions), so the extension search parameters of the core
    package take the fast path instead of fhirpathpy."""
    return _EXTENSION_RE.sub(lambda m: f".extension.where(url = '{m['url']}')", branch)


def parse_fast(branch: str) -> tuple[str, tuple[Step, ...]] | None:
    """Root type and steps of a branch the fast path can walk, else ``None``."""
    root = _ROOT_RE.match(branch)
    if root is None:
        return None
    steps: list[Step] = []
    position = root.end()
    while position < len(branch):
        step = _STEP_RE.match(branch, position)
        if step is None:
            return None
        if step["resolve"]:
            steps.append((RESOLVE_IS, step["resolve"], ""))
        elif step["field"]:
            steps.append((WHERE_EQ, step["field"], step["literal"]))
        elif step["of_type"]:
            steps.append((OF_TYPE, step["of_type"], ""))
        else:
            steps.append((CHILD, step["child"], ""))
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
_STEP_CACHE_SIZE = 65_536


def step_info(parent: str, key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Type of child ``key`` of a node typed ``parent``, and its choice variants if it is ``key[x]``."""
    info = _STEP_CACHE.get((parent, key))
    if info is None:
        child = f"{parent}.{key}"
        child = _ELSEWHERE.get(child, child)
        choices = tuple(
            (f"{key}{suffix}", _PATH2TYPE.get(child + suffix, child + suffix))
            for suffix in _CHOICES.get(child, ())
        )
        info = (_PATH2TYPE.get(child, child), choices)
        if len(_STEP_CACHE) < _STEP_CACHE_SIZE:  # parents can come from data (inline resourceType)
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
                info = step_info(path or "", key)
                if len(infos) < 256:  # bounded: an inline resource's type comes from the data
                    infos[path] = info  # type: ignore[index]
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
    if kind == OF_TYPE:
        return lambda nodes: [n for n in nodes if is_type(n[0], name)]
    if kind == RESOLVE_IS:
        return lambda nodes: [
            n for n in nodes if type(n[1]) is dict and reference_type(n[1], local_base) == name
        ]
    return lambda nodes: [n for n in nodes if type(n[1]) is dict and n[1].get(name) == literal]


Evaluator = Callable[[Mapping[str, Any]], list[TypedNode]]


def op_for(step: Step, local_base: str | None) -> Op:
    kind, name, literal = step
    return _child_op(name) if kind == CHILD else _filter_op(kind, name, literal, local_base)


def exists_not_false(branch: str, local_base: str | None) -> Evaluator | None:
    """``X.exists() and X != false`` (R4 ``Patient.deceased``) computed without fhirpathpy."""
    match = _EXISTS_NOT_FALSE_RE.fullmatch(branch)
    parsed = parse_fast(match["path"]) if match else None
    if parsed is None:
        return None
    root, steps = parsed
    ops = [op_for(step, local_base) for step in steps]

    def evaluate(resource: Mapping[str, Any]) -> list[TypedNode]:
        nodes: list[TypedNode] = [(root, resource)] if resource.get("resourceType") == root else []
        for op in ops:
            nodes = op(nodes) if nodes else nodes
        # FHIRPath: empty.exists() is false; a single false is not != false; anything else is
        return [(None, bool(nodes) and not (len(nodes) == 1 and nodes[0][1] is False))]

    return evaluate
