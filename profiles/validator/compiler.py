"""Compiling StructureDefinition snapshots into :class:`~profiles.validator.model.ElementNode` trees.

See https://hl7.org/fhir/R4/structuredefinition.html and
https://hl7.org/fhir/R4/elementdefinition.html#slicing.  Each profile is compiled once; the
:class:`ProfileCompiler` caches by canonical URL and drops the cache when the registry changes.
FHIRPath invariants are parsed here, so a profile with an unparseable invariant is reported
when it is loaded (as a load issue), and the broken invariant is then skipped.

Without ``hl7.fhir.r4.core`` no snapshot can be generated; the profile is then compiled from
its differential alone (``from_differential``), and only what the differential states is
checked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles.canonical import CanonicalRegistry
from profiles.element_list import child_segments, id_to_path
from profiles.fhirpath import FhirPathEngine, FhirPathSyntaxError
from profiles.snapshot import SnapshotError, SnapshotGenerator
from profiles.validator import element_rules
from profiles.validator.messages import MessageId
from profiles.validator.model import (
    SYSTEM_STRING,
    Binding,
    BindingStrength,
    CompiledProfile,
    Discriminator,
    DiscriminatorType,
    ElementNode,
    Invariant,
    Slicing,
    SlicingRules,
    TypeRef,
)
from profiles.validator.natives import NATIVES

_T = TypeVar("_T")
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
# Checked structurally by the walker (same meaning, no FHIRPath cost on every element).
STRUCTURAL_INVARIANTS = frozenset({"ele-1", "ext-1"})
# R4 invariants whose expression contradicts their own human text, as corrected in R4B/R5 (the HL7
# validator applies the same corrections to the R4 package): que-12 says "more than one enableWhen".
CORRECTED_INVARIANTS = {
    ("que-12", "enableWhen.count() > 2 implies enableBehavior.exists()"): (
        "enableWhen.count() > 1 implies enableBehavior.exists()"
    ),
}


def _cardinality(value: Any) -> int | None:
    if value == "*" or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _type_refs(raw: Iterable[Any]) -> tuple[TypeRef, ...]:
    refs: list[TypeRef] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        code = item["code"]
        if code.startswith("http://hl7.org/fhirpath/System."):
            for ext in item.get("extension") or ():
                if (
                    isinstance(ext, dict)
                    and ext.get("url") == FHIR_TYPE_EXT
                    and isinstance(ext.get("valueUrl"), str)
                ):
                    code = ext["valueUrl"]
            if code.startswith("http://"):
                code = "string" if code == SYSTEM_STRING else code.rsplit(".", 1)[-1].lower()
        refs.append(
            TypeRef(
                code=code,
                profiles=tuple(p for p in item.get("profile") or () if isinstance(p, str)),
                target_profiles=tuple(p for p in item.get("targetProfile") or () if isinstance(p, str)),
                aggregation=tuple(a for a in item.get("aggregation") or () if isinstance(a, str)),
            )
        )
    return tuple(refs)


def _prefixed(element: dict[str, Any], prefix: str) -> tuple[str, Any] | None:
    for key, value in element.items():
        if key.startswith(prefix) and len(key) > len(prefix) and key[len(prefix)].isupper():
            return key[len(prefix) :], value
    return None


def _slicing(raw: Any) -> Slicing | None:
    if not isinstance(raw, dict):
        return None
    discriminators = []
    for d in raw.get("discriminator") or ():
        try:
            discriminators.append(
                Discriminator(DiscriminatorType(d.get("type")), str(d.get("path", "$this")))
            )
        except (ValueError, AttributeError):
            continue
    try:
        rules = SlicingRules(raw.get("rules", "open"))
    except ValueError:
        rules = SlicingRules.OPEN
    return Slicing(tuple(discriminators), rules, raw.get("ordered") is True)


# The R4 vital signs profiles bind Observation.component.value[x] to the common vital signs units
# as required, which would refuse a component in any other unit (a flow rate in L/min); R5 made it
# extensible and the HL7 validator applies the same correction to the R4 package.
_RELAXED_BINDINGS = {("Observation.component.value[x]", "http://hl7.org/fhir/ValueSet/ucum-vitals-common")}


def _binding(raw: Any, path: str = "") -> Binding | None:
    if not isinstance(raw, dict):
        return None
    try:
        strength = BindingStrength(raw.get("strength"))
    except ValueError:
        return None
    value_set = raw.get("valueSet")
    if (
        strength is BindingStrength.REQUIRED
        and isinstance(value_set, str)
        and (path, value_set.split("|", 1)[0]) in _RELAXED_BINDINGS
    ):
        strength = BindingStrength.EXTENSIBLE
    return Binding(
        strength, value_set if isinstance(value_set, str) else None, str(raw.get("description", ""))
    )


class ProfileCompiler:
    """Compiles and caches profiles; ``compile_type`` gives the base definition of a data type."""

    def __init__(
        self, registry: CanonicalRegistry, engine: FhirPathEngine, snapshots: SnapshotGenerator
    ) -> None:
        self.registry = registry
        self.engine = engine
        self.snapshots = snapshots
        self._cache: dict[str, CompiledProfile | None] = {}
        self._resource_types: dict[str, bool] = {}
        self._memos: dict[Hashable, Any] = {}
        self._generation = registry.generation
        self._lock = threading.RLock()

    def _fresh(self) -> None:
        if self._generation != self.registry.generation:
            self._cache = {}
            self._resource_types = {}
            self._memos = {}
            self._generation = self.registry.generation

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """A value derived from the definitions, computed once per registry generation."""
        memos = self._memos
        if self._generation != self.registry.generation:
            with self._lock:
                self._fresh()
            memos = self._memos
        if key in memos:
            found: _T = memos[key]
            return found
        value = memos[key] = compute()
        return value

    def is_resource_type(self, code: str) -> bool:
        """Whether ``code`` names a resource (not a data type) in the loaded definitions."""
        known = self._resource_types.get(code)
        if known is None or self._generation != self.registry.generation:
            compiled = self.compile_type(code)
            known = compiled is not None and compiled.kind == "resource"
            self._resource_types[code] = known
        return known

    def compile_url(self, url: str) -> CompiledProfile | None:
        """The compiled profile for ``url`` (``url|version`` allowed); None when unknown."""
        # lock-free hit path: the cache is only ever replaced as a whole under the lock
        cache = self._cache
        if self._generation == self.registry.generation and url in cache:
            return cache[url]
        with self._lock:
            self._fresh()
            if url in self._cache:
                return self._cache[url]
            sd = self.registry.resolve(url)
            compiled = None
            if sd is not None and sd.get("resourceType") == "StructureDefinition":
                self._cache[url] = None  # recursion guard while compiling
                compiled = self.compile(sd)
            self._cache[url] = compiled
            return compiled

    def compile_type(self, type_code: str) -> CompiledProfile | None:
        """The compiled core definition of a type or resource (``Quantity``, ``Patient``)."""
        if type_code.startswith(("http://", "https://")):
            return self.compile_url(type_code)
        return self.compile_url("http://hl7.org/fhir/StructureDefinition/" + type_code)

    def compile(self, sd: dict[str, Any]) -> CompiledProfile:
        """Compile one StructureDefinition (generating its snapshot when it has none)."""
        issues: list[Issue] = []
        from_differential = False
        try:
            result = self.snapshots.snapshot(sd)
            elements = result.structure["snapshot"]["element"]
            issues.extend(result.issues)
        except SnapshotError as exc:
            if self.registry.structure_definition_for_type("Resource") is None:
                # no core package: expected, and already announced by the validator as information
                issues.extend(replace(i, severity=IssueSeverity.INFORMATION) for i in exc.issues)
            else:
                issues.extend(exc.issues)
            elements = (sd.get("differential") or {}).get("element") or []
            from_differential = True
        url = str(sd.get("url", ""))
        profile = CompiledProfile(
            url=url,
            type=str(sd.get("type", "")),
            kind=str(sd.get("kind", "")),
            root=ElementNode(
                id=str(sd.get("type", "")), path=str(sd.get("type", "")), name=str(sd.get("type", ""))
            ),
            name=str(sd.get("name", "")),
            abstract=sd.get("abstract") is True,
            derivation=str(sd.get("derivation", "")),
            base_definition=str(sd.get("baseDefinition", "")),
            from_differential=from_differential,
            load_issues=issues,
            context=tuple(
                (str(c.get("type", "")), str(c.get("expression", "")))
                for c in sd.get("context") or ()
                if isinstance(c, dict)
            ),
            context_invariants=tuple(str(c) for c in sd.get("contextInvariant") or ()),
            status=str(sd.get("status", "")),
        )
        self._build_tree(
            profile, [e for e in elements if isinstance(e, dict) and isinstance(e.get("path"), str)]
        )
        return profile

    # -- tree building -------------------------------------------------------
    def _build_tree(self, profile: CompiledProfile, elements: list[dict[str, Any]]) -> None:
        nodes: dict[str, ElementNode] = {}
        from_differential = profile.from_differential
        profile.root.partial = from_differential
        for position, element in enumerate(elements):
            element_id = element.get("id")
            if not isinstance(element_id, str) or id_to_path(element_id) != element["path"]:
                name = element.get("sliceName")
                element_id = str(element["path"]) + (f":{name}" if name else "")
            node = self._node(profile, element, element_id)
            if position == 0 and "." not in element_id:
                node.min, node.max, node.partial = 0, None, from_differential
                profile.root = node
                nodes[element_id] = node
                continue
            nodes[element_id] = node
            self._attach(profile, nodes, node, element_id)
        for node in nodes.values():
            _index_choices(node)

    def _attach(
        self, profile: CompiledProfile, nodes: dict[str, ElementNode], node: ElementNode, element_id: str
    ) -> None:
        segments = child_segments(element_id)
        last_name, last_slice = segments[-1]
        if last_slice is not None:
            # a slice: attach to the sliced element (same id without this slice name / reslice part)
            base_slice = last_slice.rsplit("/", 1)[0] if "/" in last_slice else None
            sliced_id = element_id[: -(len(last_slice) + 1)] + (f":{base_slice}" if base_slice else "")
            sliced = nodes.get(sliced_id)
            if sliced is not None:
                sliced.slices.append(node)
                return
        parent_id = ".".join(
            name + (f":{slice_name}" if slice_name else "") for name, slice_name in segments[:-1]
        )
        parent = nodes.get(parent_id) or self._synthesize(profile, nodes, parent_id)
        parent.children[node.name] = node
        parent.has_children = True
        del last_name

    def _synthesize(
        self, profile: CompiledProfile, nodes: dict[str, ElementNode], element_id: str
    ) -> ElementNode:
        """A placeholder for an element a differential skips (only happens without a snapshot)."""
        if "." not in element_id:
            return profile.root
        node = ElementNode(
            id=element_id, path=id_to_path(element_id), name=_stem(id_to_path(element_id)), partial=True
        )
        nodes[element_id] = node
        self._attach(profile, nodes, node, element_id)
        return node

    def _node(self, profile: CompiledProfile, element: dict[str, Any], element_id: str) -> ElementNode:
        path = str(element["path"])
        last = path.rsplit(".", 1)[-1]
        node = ElementNode(
            id=element_id,
            path=path,
            name=_stem(path),
            min=int(element["min"]) if isinstance(element.get("min"), int) else 0,
            max=_cardinality(element.get("max")),
            types=_type_refs(element.get("type") or ()),
            is_choice=last.endswith("[x]"),
            fixed=_prefixed(element, "fixed"),
            pattern=_prefixed(element, "pattern"),
            binding=_binding(element.get("binding"), path),
            max_length=element["maxLength"] if isinstance(element.get("maxLength"), int) else None,
            min_value=_prefixed(element, "minValue"),
            max_value=_prefixed(element, "maxValue"),
            is_modifier=element.get("isModifier") is True,
            must_support=element.get("mustSupport") is True,
            content_reference=element.get("contentReference")
            if isinstance(element.get("contentReference"), str)
            else None,
            slice_name=element.get("sliceName") if isinstance(element.get("sliceName"), str) else None,
            slicing=_slicing(element.get("slicing")),
            owner=profile.url,
            partial=profile.from_differential,
        )
        base = element.get("base")
        if isinstance(base, dict) and "max" in base:
            node.base_array = base["max"] != "1"
        elif not profile.from_differential:
            node.base_array = node.max != 1
        if node.binding is not None and node.binding.value_set and node.binding.value_set.startswith("#"):
            # a ValueSet contained in this profile: canonical#id, which terminology resolves
            node.binding = replace(node.binding, value_set=profile.url + node.binding.value_set)
        node.invariants = tuple(self._invariants(profile, element, element_id))
        node.extension_rules = element_rules.compile_rules(element, profile.url, element_id)
        return node

    def _invariants(
        self, profile: CompiledProfile, element: dict[str, Any], element_id: str
    ) -> Iterable[Invariant]:
        for raw in element.get("constraint") or ():
            if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
                continue
            key = raw["key"]
            if key in STRUCTURAL_INVARIANTS:
                continue
            expression = raw.get("expression")
            if isinstance(expression, str):
                expression = CORRECTED_INVARIANTS.get((key, expression), expression)
            compiled = None
            if isinstance(expression, str) and expression.strip():
                try:
                    compiled = self.engine.compile(expression)
                except FhirPathSyntaxError as exc:
                    profile.load_issues.append(
                        Issue(
                            IssueSeverity.ERROR,
                            IssueType.INVARIANT,
                            f"Profile {profile.url}: invariant {key} on {element_id} cannot be used: "
                            f"{exc.message}",
                            expression=(element_id,),
                            message_id=MessageId.PROFILE_BAD_FHIRPATH.value,
                        )
                    )
                    continue
            else:
                continue
            yield Invariant(
                key=key,
                severity=str(raw.get("severity", "error")),
                human=str(raw.get("human", "")),
                expression=compiled,
                source=str(raw.get("source", "")),
                native=NATIVES.get((key, compiled.text)),
            )


def _stem(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return last[:-3] if last.endswith("[x]") else last


def _index_choices(node: ElementNode) -> None:
    for child in node.children.values():
        if child.is_choice:
            for type_ref in child.types:
                node.choice_names[child.name + type_ref.suffix] = (child, type_ref)
