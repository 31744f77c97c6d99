"""Structural validation of FHIR R4 JSON on write: known resourceType, no unknown elements, correct
primitive JSON types and formats, id rules (https://hl7.org/fhir/R4/json.html).

The element model is fhirpathpy's R4 model (``models["r4"]``: element path → type
for every R4 type), an installed dependency, so this check works even when no
FHIR package is installed.  Cardinality, bindings and invariants belong to the
profile validator in ``profiles``.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def _issue(kind: IssueType, expr: str, text: str, message_id: str) -> Issue:
    return Issue(IssueSeverity.ERROR, kind, text, expression=(expr,), message_id=message_id)


def check_resource(resource: dict[str, Any], path: str | None = None) -> list[Issue]:
    """All structural issues of ``resource`` (at most MAX_ISSUES)."""
    issues: list[Issue] = []
    for issue in _resource_issues(resource, path):
        issues.append(issue)
        if len(issues) >= MAX_ISSUES:
            break
    return issues


def _resource_issues(resource: dict[str, Any], path: str | None) -> Iterator[Issue]:
    rtype = resource.get("resourceType")
    where = path or str(rtype)
    if not isinstance(rtype, str) or not is_resource_type(rtype):
        yield _issue(
            IssueType.STRUCTURE,
            f"{where}.resourceType" if path else "resourceType",
            f"unknown resourceType {rtype!r}",
            "TH-STRUCT-RESOURCETYPE",
        )
        return
    rid = resource.get("id")
    if rid is not None:
        reason = check_primitive("id", rid)
        if reason:
            yield _issue(
                IssueType.VALUE, f"{where}.id", f"id {rid!r} {reason} ([A-Za-z0-9-.]{{1,64}})", "TH-STRUCT-ID"
            )
    yield from _object_issues(resource, rtype, where, skip=frozenset({"resourceType", "id"}))


def _object_issues(
    obj: dict[str, Any], context: str, path: str, skip: frozenset[str] = frozenset()
) -> Iterator[Issue]:
    allowed = children_of(context)
    if not obj and not skip:
        yield _issue(
            IssueType.STRUCTURE, path, "empty JSON objects are not allowed in FHIR", "TH-STRUCT-EMPTY"
        )
    for key, value in obj.items():
        if key in skip:
            continue
        name = key[1:] if key.startswith("_") else key
        child = allowed.get(name)
        if child is None or (key.startswith("_") and child.type_name not in PRIMITIVE_TYPES):
            yield _issue(
                IssueType.STRUCTURE,
                f"{path}.{key}",
                f"unknown element {key!r} in {context}",
                "TH-STRUCT-UNKNOWN",
            )
            continue
        if key.startswith("_"):
            yield from _each(value, f"{path}.{key}", lambda v, p: _object_issues(v, "Element", p), nulls=True)
        elif child.type_name in PRIMITIVE_TYPES:
            yield from _primitive_issues(child.type_name, value, f"{path}.{key}")
        elif child.type_name == "Resource":
            yield from _each(value, f"{path}.{key}", _nested_resource)
        else:
            yield from _each(value, f"{path}.{key}", lambda v, p, c=child: _object_issues(v, c.context, p))


def _nested_resource(value: dict[str, Any], path: str) -> Iterator[Issue]:
    yield from _resource_issues(value, path)


def _each(value: Any, path: str, fn: Any, *, nulls: bool = False) -> Iterator[Issue]:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        yield _issue(IssueType.STRUCTURE, path, "empty arrays are not allowed in FHIR", "TH-STRUCT-EMPTY")
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        if item is None and nulls:
            continue
        if not isinstance(item, dict):
            yield _issue(IssueType.STRUCTURE, where, "expected a JSON object", "TH-STRUCT-OBJECT")
            continue
        yield from fn(item, where)


def _primitive_issues(type_name: str, value: Any, path: str) -> Iterator[Issue]:
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        if item is None and isinstance(value, list):
            continue  # paired with a _element entry
        reason = check_primitive(type_name, item)
        if reason:
            yield _issue(IssueType.VALUE, where, f"value {_preview(item)} {reason}", "TH-STRUCT-PRIMITIVE")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
