"""Structural validation of FHIR R4 JSON on write: known resourceType, no unknown elements, correct
primitive JSON types and formats, id rules (https://hl7.org/fhir/R4/json.html).

The element model is fhirpathpy's R4 model (``models["r4"]``: element path → type
for every R4 type), an installed dependency, so this check works even when no
FHIR package is installed.  Cardinality, bindings and invariants belong to the
profile validator in ``profiles``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhirpathpy.models import models

from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.fhir.primitives import PRIMITIVE_TYPES, check_primitive

_MODEL = models["r4"]
_PATH2TYPE: dict[str, str] = _MODEL["path2Type"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]
_PARENT: dict[str, str] = _MODEL["type2Parent"]
MAX_ISSUES = 100


@dataclass(frozen=True, slots=True)
class Child:
    """How to read a JSON property: a typed element, or a backbone element with its own context."""

    type_name: str | None  # FHIR type, or None for a backbone element
    context: str  # where its own children are looked up


@cache
def _children_index() -> dict[str, dict[str, Child]]:
    index: dict[str, dict[str, Child]] = {}
    paths = set(_PATH2TYPE) | set(_ELSEWHERE)
    for path in paths:
        parts = path.split(".")
        for i in range(1, len(parts)):
            ctx, name = ".".join(parts[:i]), parts[i]
            full = f"{ctx}.{name}"
            kids = index.setdefault(ctx, {})
            if name in kids:
                continue
            if full in _PATH2TYPE:
                kids[name] = Child(_PATH2TYPE[full], _PATH2TYPE[full])
            elif full in _ELSEWHERE:
                kids[name] = Child(None, _ELSEWHERE[full])
            else:
                kids[name] = Child(None, full)
    return index


@cache
def children_of(context: str) -> dict[str, Child]:
    """Every property allowed in ``context`` (a type name or a backbone path), inherited ones included."""
    index = _children_index()
    result: dict[str, Child] = {}
    name: str | None = context
    while name is not None:
        for key, child in index.get(name, {}).items():
            result.setdefault(key, child)
        name = _PARENT.get(name)
    if "." in context:  # backbone element: id, extension, modifierExtension
        for key, child in index.get("BackboneElement", {}).items():
            result.setdefault(key, child)
    return result


def is_resource_type(name: str) -> bool:
    parent = _PARENT.get(name)
    while parent is not None:
        if parent == "Resource":
            return True
        parent = _PARENT.get(parent)
    return False


# A path is a chain of (parent, step) pairs, rendered to FHIRPath only when an issue needs it: most resources
# have no issue, and building a string per element was most of this module's cost.
Path = tuple[Any, str | int] | str


def _render(path: Path) -> str:
    steps: list[str] = []
    node: Path = path
    while isinstance(node, tuple):
        node, step = node
        steps.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return str(node) + "".join(reversed(steps))


class _Issues:
    """Collects issues up to MAX_ISSUES (then the walk stops early)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Issue] = []

    def add(self, kind: IssueType, path: Path, text: str, message_id: str) -> None:
        self.items.append(
            Issue(IssueSeverity.ERROR, kind, text, expression=(_render(path),), message_id=message_id)
        )
        if len(self.items) >= MAX_ISSUES:
            raise _Enough


class _Enough(Exception):
    pass


def check_resource(resource: dict[str, Any], path: str | None = None) -> list[Issue]:
    """All structural issues of ``resource`` (at most MAX_ISSUES)."""
    out = _Issues()
    with contextlib.suppress(_Enough):
        _resource(resource, path, out)
    return out.items


def _resource(resource: dict[str, Any], path: Path | None, out: _Issues) -> None:
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not is_resource_type(rtype):
        where: Path = (path, "resourceType") if path else "resourceType"
        out.add(IssueType.STRUCTURE, where, f"unknown resourceType {rtype!r}", "TH-STRUCT-RESOURCETYPE")
        return
    here: Path = path or rtype
    rid = resource.get("id")
    if rid is not None:
        reason = check_primitive("id", rid)
        if reason:
            out.add(
                IssueType.VALUE, (here, "id"), f"id {rid!r} {reason} ([A-Za-z0-9-.]{{1,64}})", "TH-STRUCT-ID"
            )
    _object(resource, rtype, here, out, _RESOURCE_KEYS)


_RESOURCE_KEYS = frozenset({"resourceType", "id"})
_NO_KEYS: frozenset[str] = frozenset()


def _object(
    obj: dict[str, Any], context: str, path: Path, out: _Issues, skip: frozenset[str] = _NO_KEYS
) -> None:
    allowed = children_of(context)
    if not obj and not skip:
        out.add(IssueType.STRUCTURE, path, "empty JSON objects are not allowed in FHIR", "TH-STRUCT-EMPTY")
    for key, value in obj.items():
        if key in skip:
            continue
        extension = key[:1] == "_"  # "" is a legal JSON key: an unknown element, not a crash
        child = allowed.get(key[1:] if extension else key)
        if child is None or (extension and child.type_name not in PRIMITIVE_TYPES):
            out.add(
                IssueType.STRUCTURE, (path, key), f"unknown element {key!r} in {context}", "TH-STRUCT-UNKNOWN"
            )
            continue
        type_name = child.type_name
        if extension:
            _objects(value, (path, key), out, "Element", nulls=True)
        elif type_name in PRIMITIVE_TYPES:
            _primitives(type_name, value, (path, key), out)
        elif type_name == "Resource":
            _objects(value, (path, key), out, None)
        else:
            _objects(value, (path, key), out, child.context)


def _objects(value: Any, path: Path, out: _Issues, context: str | None, *, nulls: bool = False) -> None:
    """One object or an array of them; ``context`` None means nested resources."""
    if type(value) is list:
        if not value:
            out.add(IssueType.STRUCTURE, path, "empty arrays are not allowed in FHIR", "TH-STRUCT-EMPTY")
        for i, item in enumerate(value):
            if item is None and nulls:
                continue
            _one_object(item, (path, i), out, context)
    else:
        _one_object(value, path, out, context)


def _one_object(item: Any, path: Path, out: _Issues, context: str | None) -> None:
    if type(item) is not dict:
        out.add(IssueType.STRUCTURE, path, "expected a JSON object", "TH-STRUCT-OBJECT")
    elif context is None:
        _resource(item, path, out)
    else:
        _object(item, context, path, out)


def _primitives(type_name: str, value: Any, path: Path, out: _Issues) -> None:
    if type(value) is list:
        for i, item in enumerate(value):
            if item is not None:  # None is paired with a _element entry
                reason = check_primitive(type_name, item)
                if reason:
                    out.add(
                        IssueType.VALUE, (path, i), f"value {_preview(item)} {reason}", "TH-STRUCT-PRIMITIVE"
                    )
    else:
        reason = check_primitive(type_name, value)
        if reason:
            out.add(IssueType.VALUE, path, f"value {_preview(value)} {reason}", "TH-STRUCT-PRIMITIVE")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
