"""Snapshot generation: a profile's full element list from its base snapshot and its differential.

See https://hl7.org/fhir/R4/profiling.html#snapshot and
https://hl7.org/fhir/R4/elementdefinition.html#interpretation (paths, ids, slices, choice
types).  The algorithm walks the differential in order and, for each element:

1. works out its element id (``Observation.code.coding:npu.system``) from ``id`` or from its
   path and the slices seen so far;
2. makes sure that id exists in the working snapshot: children of complex types are unrolled
   from the type's (or the type profile's) StructureDefinition when the differential goes
   below them; slices are created as copies of the sliced element and its children; a
   choice-type rename (``valueQuantity``) becomes a type slice of ``value[x]``;
3. merges the differential element onto it (constraints are added, everything else replaces).

Base definitions without a snapshot get one first (recursively).  A cyclic or unknown base
raises :class:`SnapshotError`; differential paths that cannot be placed are reported as issues.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from hub.core.errors import ValidationFailedError
from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles.canonical import CanonicalRegistry
from profiles.element_list import ElementList, child_segments, diff_id, type_slice_name

_EXTENSION_SLICING = {"discriminator": [{"type": "value", "path": "url"}], "ordered": False, "rules": "open"}
_TYPE_SLICING = {"discriminator": [{"type": "type", "path": "$this"}], "ordered": False, "rules": "open"}


class SnapshotError(ValidationFailedError):
    """A snapshot cannot be generated: unknown or cyclic base definition."""


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    structure: dict[str, Any]
    issues: tuple[Issue, ...] = ()


class SnapshotGenerator:
    """Generates (and caches, per registry generation) snapshots of StructureDefinitions."""

    def __init__(self, registry: CanonicalRegistry) -> None:
        self.registry = registry
        self._cache: dict[tuple[str, str], SnapshotResult] = {}
        self._generation = -1
        self._lock = threading.RLock()

    def snapshot(self, sd: dict[str, Any]) -> SnapshotResult:
        """``sd`` with a snapshot: as given when it has one, generated otherwise."""
        with self._lock:
            return self._snapshot(sd, ())

    def _snapshot(self, sd: dict[str, Any], chain: tuple[str, ...]) -> SnapshotResult:
        if (sd.get("snapshot") or {}).get("element"):
            return SnapshotResult(sd)
        if self._generation != self.registry.generation:
            self._cache.clear()
            self._generation = self.registry.generation
        url = str(sd.get("url", ""))
        key = (url, str(sd.get("version", "")))
        cached = self._cache.get(key)
        if cached is not None and url and self.registry.resolve(url) is sd:
            return cached
        if url in chain:
            raise SnapshotError(
                f"StructureDefinition {url} has a cyclic base: {' -> '.join((*chain, url))}",
                message_id="SNAPSHOT_CYCLIC_BASE",
            )
        result = self._generate(sd, (*chain, url))
        if url and self.registry.resolve(url) is sd:
            self._cache[key] = result
        return result

    def _base_elements(self, sd: dict[str, Any], chain: tuple[str, ...]) -> list[dict[str, Any]]:
        base_url = sd.get("baseDefinition")
        if not isinstance(base_url, str):
            raise SnapshotError(
                f"StructureDefinition {sd.get('url')} has no baseDefinition and no snapshot",
                message_id="SNAPSHOT_NO_BASE",
            )
        if base_url in chain:
            raise SnapshotError(
                f"StructureDefinition {sd.get('url')} has a cyclic base: {' -> '.join((*chain, base_url))}",
                message_id="SNAPSHOT_CYCLIC_BASE",
            )
        base = self.registry.resolve(base_url)
        if base is None:
            raise SnapshotError(
                f"Base definition {base_url} of {sd.get('url')} is not loaded",
                message_id="SNAPSHOT_UNKNOWN_BASE",
            )
        elements: list[dict[str, Any]] = self._snapshot(base, chain).structure["snapshot"]["element"]
        result = copy.deepcopy(elements)
        sd_type, base_type = sd.get("type"), base.get("type")
        if sd.get("derivation") == "specialization" and isinstance(sd_type, str) and sd_type != base_type:
            ElementList.rename_root(result, str(result[0]["path"]) if result else "", sd_type)
        return result

    def _generate(self, sd: dict[str, Any], chain: tuple[str, ...]) -> SnapshotResult:
        elements = ElementList(self._base_elements(sd, chain))
        issues: list[Issue] = []
        slice_context: dict[str, str] = {}
        renamed = _Renames()
        specialization = sd.get("derivation") == "specialization"
        for raw in (sd.get("differential") or {}).get("element") or ():
            if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
                continue
            target = diff_id(raw, slice_context)
            index = self._ensure(elements, target, chain, renamed)
            if index is None and specialization:
                index = elements.append_new(target, raw)
            if index is None:
                issues.append(
                    Issue(
                        IssueSeverity.ERROR,
                        IssueType.STRUCTURE,
                        f"Profile {sd.get('url')}: differential element '{target}' does not match "
                        "any element of the base",
                        expression=(str(raw["path"]),),
                        message_id="SNAPSHOT_PATH_NOT_FOUND",
                    )
                )
                continue
            _merge(elements.items[index], raw)
        out = dict(sd)
        out["snapshot"] = {"element": elements.items}
        return SnapshotResult(out, tuple(issues))

    # -- making an element id exist ------------------------------------------
    def _ensure(
        self, elements: ElementList, target: str, chain: tuple[str, ...], renamed: _Renames
    ) -> int | None:
        segments = child_segments(target)
        if not segments or elements.index(segments[0][0]) is None:
            return None
        current = segments[0][0]
        for name, slice_name in segments[1:]:
            child = f"{current}.{name}"
            if elements.index(child) is None:
                self._expand(elements, current, chain)
            if elements.index(child) is None:
                choice = elements.choice_for(current, name)
                if choice is None:
                    return None
                if slice_name is None:
                    # R4: a renamed choice path (valueQuantity) constrains value[x] to that type;
                    # several renames of one choice leave the union of their types.  With a
                    # sliceName it is an explicit type slice instead (created just below).
                    _restrict_choice(elements, choice, name, renamed)
                child = choice
            if slice_name:
                child = self._ensure_slice(elements, child, slice_name)
            current = child
        return elements.index(current)

    def _ensure_slice(self, elements: ElementList, unsliced: str, slice_name: str) -> str:
        slice_id = f"{unsliced}:{slice_name}"
        if elements.index(slice_id) is not None:
            return slice_id
        base = elements.items[elements.index(unsliced) or 0]
        chosen_type = type_slice_name(base, slice_name)
        if "slicing" not in base:
            if chosen_type is not None:
                base["slicing"] = copy.deepcopy(_TYPE_SLICING)
            elif str(base.get("path", "")).endswith(("extension", "modifierExtension")):
                base["slicing"] = copy.deepcopy(_EXTENSION_SLICING)
        created = elements.copy_as_slice(unsliced, slice_name)
        if chosen_type is not None:
            created["type"] = [t for t in created.get("type", ()) if t.get("code") == chosen_type]
        return slice_id

    def _expand(self, elements: ElementList, element_id: str, chain: tuple[str, ...]) -> None:
        """Unroll the children of ``element_id`` from its type (or content reference)."""
        if elements.has_children(element_id):
            return
        index = elements.index(element_id)
        if index is None:
            return
        element = elements.items[index]
        reference = element.get("contentReference")
        if isinstance(reference, str):
            # Copy from the type's own definition, not the working list: the profile may already
            # have constrained the referenced element, and those constraints do not recurse.
            source_id = reference.split("#", 1)[-1]
            owner = self.registry.structure_definition_for_type(source_id.split(".", 1)[0])
            source = owner["snapshot"]["element"] if owner and "snapshot" in owner else elements.items
            elements.copy_children(source_id, element_id, source)
            return
        codes = {t.get("code") for t in element.get("type") or () if isinstance(t, dict)}
        if len(codes) > 1:
            # a choice of several types: only what all share (Element: id, extension) can be constrained
            shared = self.registry.structure_definition_for_type("Element")
            if shared is not None:
                elements.insert_children(
                    index, self._snapshot(shared, chain).structure["snapshot"]["element"]
                )
            return
        if len(codes) != 1:
            return
        type_ref = element["type"][0]
        code = str(type_ref.get("code"))
        type_sd: dict[str, Any] | None = None
        for profile in type_ref.get("profile") or ():
            found = self.registry.resolve(profile)
            if found is not None:
                type_sd = found
                break
        if type_sd is None:
            type_sd = self.registry.structure_definition_for_type(code)
        if type_sd is None:
            return
        type_elements = self._snapshot(type_sd, chain).structure["snapshot"]["element"]
        elements.insert_children(index, type_elements)


@dataclass(slots=True)
class _Renames:
    """Per-snapshot memory of renamed choice paths: the original types and the types named so far."""

    original: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    named: dict[str, set[str]] = field(default_factory=dict)


def _restrict_choice(elements: ElementList, choice_id: str, name: str, renames: _Renames) -> None:
    element = elements.items[elements.index(choice_id) or 0]
    original = renames.original.setdefault(choice_id, copy.deepcopy(element.get("type") or []))
    chosen = type_slice_name({"path": element.get("path"), "type": original}, name)
    if chosen is None:
        return
    named = renames.named.setdefault(choice_id, set())
    named.add(chosen)
    element["type"] = [copy.deepcopy(t) for t in original if t.get("code") in named]


def _merge(target: dict[str, Any], diff: dict[str, Any]) -> None:
    for key, value in diff.items():
        if key in ("id", "path"):
            continue
        if key == "extension":
            # element extensions (minLength, mustHaveValue, narrative controls, ...) add to the base's;
            # one with the same url replaces the base's
            urls = {e.get("url") for e in value if isinstance(e, dict)}
            kept = [
                e for e in target.get("extension") or () if isinstance(e, dict) and e.get("url") not in urls
            ]
            target["extension"] = kept + [copy.deepcopy(e) for e in value if isinstance(e, dict)]
            continue
        if key == "constraint":
            known = {c.get("key") for c in target.get("constraint") or () if isinstance(c, dict)}
            merged = list(target.get("constraint") or ())
            merged.extend(c for c in value if isinstance(c, dict) and c.get("key") not in known)
            target["constraint"] = merged
        elif key.startswith(("fixed", "pattern")):
            for old in [k for k in target if k.startswith(("fixed", "pattern"))]:
                del target[old]
            target[key] = copy.deepcopy(value)
        else:
            target[key] = copy.deepcopy(value)
