"""Loaded CodeSystems as fast lookup tables, with hierarchy and property filters.

See https://hl7.org/fhir/R4/codesystem.html (``content``, ``caseSensitive``, nested
``concept`` hierarchy, ``parent``/``child`` properties) and
https://hl7.org/fhir/R4/valueset-filter-operator.html (filter operators).  Systems defined by
a grammar rather than a list (BCP-47 language tags, BCP-13 MIME types) are checked by
syntax in :func:`grammar_check`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from profiles.canonical import CanonicalRegistry

_BCP47 = re.compile(
    r"^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-[a-zA-Z0-9]{5,8})*(-x(-[a-zA-Z0-9]{1,8})+)?$"
)
_MIME = re.compile(r"^[a-zA-Z0-9!#$&^_.+-]+/[a-zA-Z0-9!#$&^_.+-]+(\s*;.*)?$")
_GRAMMAR_SYSTEMS = {"urn:ietf:bcp:47": _BCP47, "urn:ietf:bcp:13": _MIME}
_HIERARCHY_PROPERTIES = ("parent", "subsumedBy")


class CodeValidity(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"  # the hub cannot tell (system not loaded, server-only terminology)


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The outcome of checking one code, with a human-readable reason."""

    validity: CodeValidity
    message: str = ""


def grammar_check(system: str, code: str) -> CodeCheck | None:
    """A syntax verdict for grammar-defined systems; None for every other system."""
    pattern = _GRAMMAR_SYSTEMS.get(system)
    if pattern is None:
        return None
    if pattern.match(code):
        return CodeCheck(CodeValidity.VALID)
    return CodeCheck(CodeValidity.INVALID, f"'{code}' is not a valid code in {system}")


@dataclass(slots=True)
class LoadedCodeSystem:
    """One CodeSystem flattened: codes, parent links and property values."""

    url: str
    content: str
    case_sensitive: bool
    codes: set[str] = field(default_factory=set)
    parents: dict[str, set[str]] = field(default_factory=dict)
    properties: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # property -> value -> codes
    lowered: set[str] = field(default_factory=set)
    displays: dict[str, set[str]] = field(default_factory=dict)  # code -> display and designations

    @property
    def complete(self) -> bool:
        return self.content == "complete"

    def has(self, code: str) -> bool:
        return code in self.codes if self.case_sensitive else code.lower() in self.lowered

    def descendants(self, code: str) -> set[str]:
        children: dict[str, set[str]] = {}
        for child, parents in self.parents.items():
            for parent in parents:
                children.setdefault(parent, set()).add(child)
        found: set[str] = set()
        stack = [code]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def filter(self, prop: Any, op: Any, value: Any) -> set[str] | None:
        """Codes matching one ``compose.include.filter``; None when the filter is not supported."""
        if not isinstance(prop, str) or not isinstance(op, str) or not isinstance(value, str):
            return None
        if op in ("is-a", "descendent-of", "is-not-a", "generalizes") and prop in (
            "concept",
            "code",
            "parent",
        ):
            below = self.descendants(value) if value in self.codes else set()
            if op == "is-a":
                return below | ({value} & self.codes)
            if op == "descendent-of":
                return below
            if op == "is-not-a":
                return self.codes - below - {value}
            return {c for c in self.codes if value in self.descendants(c) or c == value}
        if prop in ("concept", "code"):
            if op == "=":
                return {value} & self.codes
            if op == "in":
                return set(value.split(",")) & self.codes
            if op == "regex":
                pattern = re.compile(value)
                return {c for c in self.codes if pattern.fullmatch(c)}
            return None
        values = self.properties.get(prop)
        if op == "exists":
            having = set().union(*values.values()) if values else set()
            return having if value == "true" else self.codes - having
        if values is None:
            return set() if op in ("=", "in") else None
        if op == "=":
            return set(values.get(value, ()))
        if op == "in":
            return set().union(*(values.get(v, set()) for v in value.split(",")))
        if op == "regex":
            pattern = re.compile(value)
            return set().union(*(codes for v, codes in values.items() if pattern.fullmatch(v)))
        return None


def _property_value(prop: Mapping[str, Any]) -> str | None:
    for key, value in prop.items():
        if key.startswith("value"):
            if isinstance(value, dict):
                return str(value.get("code", ""))
            return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def load_code_system(resource: Mapping[str, Any]) -> LoadedCodeSystem:
    """Flatten a CodeSystem resource (nested concepts become parent links)."""
    cs = LoadedCodeSystem(
        url=str(resource.get("url", "")),
        content=str(resource.get("content", "complete")),
        case_sensitive=resource.get("caseSensitive") is not False,
    )
    stack: list[tuple[Iterable[Any], str | None]] = [(resource.get("concept") or (), None)]
    while stack:
        concepts, parent = stack.pop()
        for concept in concepts:
            if not isinstance(concept, dict) or not isinstance(concept.get("code"), str):
                continue
            code = concept["code"]
            cs.codes.add(code)
            names = {
                d["value"]
                for d in concept.get("designation") or ()
                if isinstance(d, dict) and isinstance(d.get("value"), str)
            }
            if isinstance(concept.get("display"), str):
                names.add(concept["display"])
            if names:
                cs.displays[code] = {n.strip().lower() for n in names}
            if parent is not None:
                cs.parents.setdefault(code, set()).add(parent)
            for prop in concept.get("property") or ():
                if not isinstance(prop, dict) or not isinstance(prop.get("code"), str):
                    continue
                value = _property_value(prop)
                if value is None:
                    continue
                cs.properties.setdefault(prop["code"], {}).setdefault(value, set()).add(code)
                if prop["code"] in _HIERARCHY_PROPERTIES:
                    cs.parents.setdefault(code, set()).add(value)
            stack.append((concept.get("concept") or (), code))
    cs.lowered = {c.lower() for c in cs.codes}
    return cs


class CodeSystemIndex:
    """Lazily flattened CodeSystems of a registry (cleared by the owner when the registry changes)."""

    def __init__(self, registry: CanonicalRegistry) -> None:
        self.registry = registry
        self._cache: dict[str, LoadedCodeSystem | None] = {}

    def clear(self) -> None:
        self._cache.clear()

    def get(self, system: str) -> LoadedCodeSystem | None:
        if system in self._cache:
            return self._cache[system]
        resource = self.registry.resolve(system)
        loaded = None
        if resource is not None and resource.get("resourceType") == "CodeSystem":
            loaded = load_code_system(resource)
        self._cache[system] = loaded
        return loaded
