"""Walking an instance against a compiled element tree: properties, cardinality, types.

See https://hl7.org/fhir/R4/json.html (JSON representation: arrays, ``_name`` primitive
extensions, no nulls or empty values), https://hl7.org/fhir/R4/elementdefinition.html
(cardinality, types, choice types ``[x]``) and https://hl7.org/fhir/R4/validation.html.

The walker owns structure: it maps every JSON property to an element (unknown properties are
errors), checks arrays against the base cardinality, counts occurrences against the profile's
cardinality, dispatches each value on its type and hands the element-level rules (fixed,
pattern, bindings, invariants, references, slicing, extensions) to their modules.
"""

from __future__ import annotations

from typing import Any

from hub.core.issues import IssueType
from profiles.validator import (
    element_extensions,
    extensions,
    invariants,
    profile_checks,
    references,
    slicing,
    value_rules,
)
from profiles.validator.context import MAX_DEPTH, ResourceFrame, ValidationContext
from profiles.validator.messages import MessageId
from profiles.validator.model import CompiledProfile, ElementNode, TypeRef
from profiles.validator.primitives import (
    PRIMITIVE_TYPES,
    is_primitive_type,
)

RESOURCE_TYPES = frozenset({"Resource", "DomainResource"})
Item = tuple[Any, Any]  # (value, "_name" primitive extension object)


_PRIMITIVE, _RESOURCE, _EXTENSION, _COMPLEX = range(4)
_CODED = frozenset({"CodeableConcept", "Coding"})


class ElementWalker:
    """Validates JSON values against element nodes; one instance serves every call of a validator."""

    def __init__(self) -> None:
        # how values of each type code are walked, for the registry generation it was worked out in
        self._kinds: dict[str, int] = {}
        self._kinds_generation = -1

    def _kind(self, code: str, ctx: ValidationContext) -> int:
        generation = ctx.services.registry.generation
        if generation != self._kinds_generation:
            self._kinds, self._kinds_generation = {}, generation
        kind = self._kinds.get(code)
        if kind is None:
            if is_primitive_type(code):
                kind = _PRIMITIVE
            elif code in RESOURCE_TYPES or self._is_resource_type(code, ctx):
                kind = _RESOURCE
            elif code == "Extension":
                kind = _EXTENSION
            else:
                kind = _COMPLEX
            self._kinds[code] = kind
        return kind

    # -- resources -----------------------------------------------------------
    def resource(
        self,
        resource: dict[str, Any],
        profile: CompiledProfile,
        path: str,
        ctx: ValidationContext,
        *,
        root: dict[str, Any] | None = None,
        bundle: dict[str, Any] | None = None,
    ) -> None:
        """Validate ``resource`` against ``profile`` (a base resource definition or a profile on it)."""
        if profile.type and resource.get("resourceType") != profile.type and profile.kind == "resource":
            ctx.error(
                IssueType.STRUCTURE,
                f"Resource type '{resource.get('resourceType')}' does not match profile {profile.url}"
                f" (type {profile.type})",
                path,
                MessageId.PROFILE_WRONG_TYPE,
            )
            return
        guard = (id(resource), profile.url)
        if guard in ctx.guard:
            return
        ctx.guard.add(guard)
        outer = ctx.frame
        ctx.frames.append(
            ResourceFrame(
                resource=resource,
                root=root if root is not None else resource,
                bundle=bundle
                if bundle is not None
                else resource
                if resource.get("resourceType") == "Bundle"
                else (outer.bundle if outer else None),
                path=path,
            )
        )
        try:
            self.complex(resource, profile.root, TypeRef(profile.type), path, ctx, is_resource=True)
            invariants.check(profile.root.invariants, resource, profile.type, path, ctx)
        finally:
            # ids seen in this walk are keyed by the frame's id(), which Python reuses once it is gone
            ctx.element_ids.pop(id(ctx.frames.pop()), None)
            ctx.guard.discard(guard)

    # -- objects ---------------------------------------------------------------
    def complex(
        self,
        value: dict[str, Any],
        node: ElementNode,
        type_ref: TypeRef,
        path: str,
        ctx: ValidationContext,
        *,
        is_resource: bool = False,
    ) -> None:
        """Check the properties of a JSON object against ``node``'s children (or its type's)."""
        if ctx.depth >= MAX_DEPTH:
            ctx.error(
                IssueType.TOO_COSTLY, f"Nesting deeper than {MAX_DEPTH} levels", path, MessageId.JSON_TOO_DEEP
            )
            return
        type_profile = None
        if not is_resource:
            ident = value.get("id")
            if ident is not None and type_ref.code != "ElementDefinition":
                # (a profile's snapshot and differential carry the same element ids by design)
                self._element_id(ident, value, path, ctx)
            cache = node.type_cache
            code = type_ref.code
            if code in cache:
                type_profile = cache[code]
            else:
                type_profile = cache[code] = ctx.services.compiler.compile_type(code)
        source = node
        # a choice of several types only unrolls the children all types share: use the value's type
        shared_only = node.is_choice and len(node.types) > 1
        if (not node.has_children or shared_only) and type_profile is not None:
            source = type_profile.root
        if not source.has_children:
            return  # nothing known about this type (no core package): structure cannot be checked
        ctx.depth += 1
        ctx.holders.append((type_ref.code, type_ref.code if is_resource else node.path, value))
        try:
            self.properties(value, source, path, ctx, is_resource=is_resource)
        finally:
            ctx.depth -= 1
            ctx.holders.pop()
        if type_profile is not None and type_profile.root is not node and type_profile.root.invariants:
            invariants.check(type_profile.root.invariants, value, type_ref.code, path, ctx)

    @staticmethod
    def _element_id(ident: Any, value: dict[str, Any], path: str, ctx: ValidationContext) -> None:
        """Element ids are unique within a resource (https://hl7.org/fhir/R4/element.html: id).

        The same object walked again (against a type profile, say) is not a second element.
        """
        frame = ctx.frame
        if frame is None or not isinstance(ident, str):
            return
        seen = ctx.element_ids.setdefault(id(frame), {})
        holder = seen.setdefault(ident, id(value))
        if holder != id(value):
            ctx.error(IssueType.BUSINESS_RULE, f"Duplicate id value '{ident}'", path, MessageId.DUPLICATE_ID)

    def properties(
        self,
        value: dict[str, Any],
        source: ElementNode,
        path: str,
        ctx: ValidationContext,
        *,
        is_resource: bool,
    ) -> None:
        children = source.children
        required = source.required
        if required is None:
            required = _required(source)
        for needed, json_names in required:
            for json_name in json_names:
                if json_name in value:
                    break
            else:
                self._missing(needed, path, ctx)
        choices: dict[str, list[str]] | None = None
        for key in value:
            if key[:1] == "_":
                name = key[1:]
                if name in value:
                    continue  # handled together with its value
            elif key == "resourceType" and is_resource:
                continue
            else:
                name = key
            child = children.get(name)
            type_ref: TypeRef | None = None
            if child is None or child.is_choice:
                choice = source.choice_names.get(name)
                if choice is None:
                    if not source.partial:
                        ctx.error(
                            IssueType.STRUCTURE,
                            f"Unrecognized property '{key}'",
                            f"{path}.{key}",
                            MessageId.UNKNOWN_ELEMENT,
                        )
                    continue
                child, type_ref = choice
                if choices is None:
                    choices = {}
                choices.setdefault(child.name, []).append(name)
            self._occurrences(value, name, child, type_ref, path, ctx)
        if choices:
            for child_name, seen in choices.items():
                if len(seen) > 1:
                    ctx.error(
                        IssueType.STRUCTURE,
                        f"Only one of the choice properties is allowed for {children[child_name].path} "
                        f"(found {', '.join(seen)})",
                        path,
                        MessageId.CHOICE_MULTIPLE,
                    )

    @staticmethod
    def _missing(child: ElementNode, path: str, ctx: ValidationContext) -> None:
        for slice_node in child.slices:
            if slice_node.min > 0:
                ctx.error(
                    IssueType.STRUCTURE,
                    f"Slice '{child.path}:{slice_node.slice_name}': a matching slice is required, "
                    "but not found",
                    path,
                    MessageId.SLICE_MIN,
                )
        if child.min > 0:
            ctx.error(
                IssueType.REQUIRED,
                f"{child.path}: minimum required = {child.min}, but only found 0",
                path,
                MessageId.MIN,
            )

    def _occurrences(
        self,
        owner: dict[str, Any],
        name: str,
        child: ElementNode,
        type_ref: TypeRef | None,
        path: str,
        ctx: ValidationContext,
    ) -> None:
        raw, ext = owner.get(name), owner.get("_" + name)
        shown = (
            f"{path}.{child.name}.ofType({type_ref.code})"
            if type_ref and child.is_choice
            else f"{path}.{child.name}"
        )
        if ext is None and raw is not None and not isinstance(raw, list) and child.base_array is not True:
            # the common case: one value, no "_name" object
            if child.min > 1:
                ctx.error(
                    IssueType.STRUCTURE,
                    f"{child.path}: minimum required = {child.min}, but only found 1",
                    shown,
                    MessageId.MIN,
                )
            if child.max == 0:
                ctx.error(
                    IssueType.STRUCTURE, f"{child.path}: max allowed = 0, but found 1", shown, MessageId.MAX
                )
            target = (
                slicing.assign(self, [(raw, None)], child, type_ref, shown, ctx)[0] if child.slices else child
            )
            self.item(raw, None, target, type_ref, shown, ctx)
            return
        if ext is None and type(raw) is list and raw and child.base_array is not False:
            # the common array case: values only, no "_name" partner array
            self._array(raw, child, type_ref, shown, ctx)
            return
        items = self._items(raw, ext, child, shown, ctx)
        if items is None:
            return
        _count(child, len(items), shown, ctx)
        targets: list[ElementNode] = (
            slicing.assign(self, items, child, type_ref, shown, ctx) if child.slices else []
        )
        indexed = isinstance(raw, list) or (raw is None and isinstance(ext, list))
        for index, (value, extension) in enumerate(items):
            item_path = f"{shown}[{index}]" if indexed else shown
            self.item(value, extension, targets[index] if targets else child, type_ref, item_path, ctx)

    def _array(
        self,
        values: list[Any],
        child: ElementNode,
        type_ref: TypeRef | None,
        path: str,
        ctx: ValidationContext,
    ) -> None:
        _count(child, len(values), path, ctx)
        if child.slices:
            targets = slicing.assign(self, [(v, None) for v in values], child, type_ref, path, ctx)
            for index, value in enumerate(values):
                self.item(value, None, targets[index], type_ref, f"{path}[{index}]", ctx)
        else:
            for index, value in enumerate(values):
                self.item(value, None, child, type_ref, f"{path}[{index}]", ctx)

    def _items(
        self, raw: Any, ext: Any, child: ElementNode, path: str, ctx: ValidationContext
    ) -> list[Item] | None:
        if raw is None and ext is None:
            ctx.error(IssueType.STRUCTURE, "null is not a valid value", path, MessageId.JSON_NULL)
            return None
        is_array = isinstance(raw, list) or (raw is None and isinstance(ext, list))
        if is_array and child.base_array is False:
            ctx.error(
                IssueType.STRUCTURE,
                f"The property {child.name} must be a single value, not an array",
                path,
                MessageId.JSON_ARRAY_UNEXPECTED,
            )
        elif not is_array and child.base_array is True:
            ctx.error(
                IssueType.STRUCTURE,
                f"The property {child.name} must be a JSON array, not a single value",
                path,
                MessageId.JSON_ARRAY_EXPECTED,
            )
        values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        if ext is None:
            if is_array and not values:
                ctx.error(
                    IssueType.STRUCTURE, f"Array {child.name} must not be empty", path, MessageId.JSON_EMPTY
                )
                return None
            return [(v, None) for v in values]
        exts = ext if isinstance(ext, list) else [ext]
        if is_array and not values and not exts:
            ctx.error(
                IssueType.STRUCTURE, f"Array {child.name} must not be empty", path, MessageId.JSON_EMPTY
            )
            return None
        if raw is not None and isinstance(raw, list) != isinstance(ext, list):
            ctx.error(
                IssueType.STRUCTURE,
                f"{child.name} and _{child.name} disagree on being arrays",
                path,
                MessageId.JSON_ARRAY_EXPECTED,
            )
            return None
        size = max(len(values), len(exts))
        if values and len(values) != len(exts):
            ctx.error(
                IssueType.STRUCTURE,
                f"{child.name} and _{child.name} have different lengths",
                path,
                MessageId.JSON_ARRAY_EXPECTED,
            )
        values = values + [None] * (size - len(values))
        exts = exts + [None] * (size - len(exts))
        return list(zip(values, exts, strict=True))

    # -- one value -------------------------------------------------------------
    def item(
        self,
        value: Any,
        ext: Any,
        node: ElementNode,
        type_ref: TypeRef | None,
        path: str,
        ctx: ValidationContext,
    ) -> None:
        """Validate one occurrence of ``node`` (its type taken from ``type_ref`` or the node)."""
        if node.content_reference and not node.types:
            node = self._content_target(node, ctx) or node
        chosen = type_ref or (node.types[0] if len(node.types) == 1 else self._type_of(node, value))
        if node.extension_rules:
            element_extensions.check(
                node.extension_rules, value, ext, chosen.code if chosen else "", path, ctx
            )
        if chosen is None:
            # no type known (a differential-only profile): the element's own rules still apply
            if isinstance(value, dict) and node.has_children:
                self.properties(value, node, path, ctx, is_resource=False)
            value_rules.element_rules(value, node, TypeRef(_json_type(value)), path, ctx)
            return
        code = chosen.code
        if value is None:
            if ext is None:
                ctx.error(IssueType.STRUCTURE, "null is not a valid value", path, MessageId.JSON_NULL)
            elif isinstance(ext, dict) and ext and ext.keys() <= {"id"}:
                # an id is not content: a primitive needs a value or extensions (ele-1)
                ctx.error(
                    IssueType.INVARIANT,
                    "Constraint failed: ele-1: 'All FHIR elements must have a @value or children'",
                    path,
                    MessageId.EMPTY_ELEMENT,
                )
            else:
                value_rules.primitive_extension(self, ext, node, chosen, path, ctx)
            return
        kind = _PRIMITIVE if code in PRIMITIVE_TYPES else self._kind(code, ctx)
        if kind == _PRIMITIVE:
            value_rules.primitive(self, value, ext, node, chosen, path, ctx)
            return
        if type(value) is not dict:
            ctx.error(
                IssueType.STRUCTURE,
                f"Expected a JSON object for type {code}",
                path,
                MessageId.JSON_OBJECT_EXPECTED,
            )
            return
        if ext is not None:
            ctx.error(
                IssueType.STRUCTURE,
                f"'_' properties are only allowed for primitive types, not {code}",
                path,
                MessageId.JSON_PRIMITIVE_EXPECTED,
            )
        if not value or (len(value) == 1 and "id" in value):
            # an element id is not content (ele-1: "@value or children")
            ctx.error(
                IssueType.INVARIANT, "Object must have some content (ele-1)", path, MessageId.EMPTY_ELEMENT
            )
            return
        if kind == _RESOURCE:
            references.contained_or_inline(self, value, node, chosen, path, ctx)
            return
        binding = node.binding
        if binding is not None and binding.value_set and code in _CODED:
            # the bound ValueSet may give its own displays for the codes inside
            ctx.bound_value_sets.append(binding.value_set)
            try:
                self._complex_item(value, node, chosen, kind, path, ctx)
            finally:
                ctx.bound_value_sets.pop()
        else:
            self._complex_item(value, node, chosen, kind, path, ctx)

    def _complex_item(
        self,
        value: dict[str, Any],
        node: ElementNode,
        chosen: TypeRef,
        kind: int,
        path: str,
        ctx: ValidationContext,
    ) -> None:
        if kind == _EXTENSION:
            extensions.check(self, value, node, chosen, path, ctx)
        else:
            self.complex(value, node, chosen, path, ctx)
        value_rules.element_rules(value, node, chosen, path, ctx)
        if kind != _EXTENSION:
            for profile_url in chosen.profiles:
                profile_checks.against_type(self, value, profile_url, chosen, path, ctx)

    @staticmethod
    def _is_resource_type(code: str, ctx: ValidationContext) -> bool:
        if not code[:1].isupper() or code in ("BackboneElement", "Element", "Extension"):
            return False
        return ctx.services.compiler.is_resource_type(code)

    def _type_of(self, node: ElementNode, value: Any) -> TypeRef | None:
        if len(node.types) == 1:
            return node.types[0]
        if isinstance(value, dict) and "resourceType" in value:
            return TypeRef(str(value["resourceType"]))
        return None

    def _content_target(self, node: ElementNode, ctx: ValidationContext) -> ElementNode | None:
        reference = (node.content_reference or "").split("#", 1)[-1]
        type_name = reference.split(".", 1)[0]
        profile = ctx.services.compiler.compile_type(type_name)
        if profile is None:
            return None
        current = profile.root
        for part in reference.split(".")[1:]:
            found = current.children.get(part)
            if found is None:
                return None
            current = found
        return current


def _count(child: ElementNode, count: int, path: str, ctx: ValidationContext) -> None:
    """The element's cardinality against the number of occurrences found."""
    if child.max is not None and count > child.max:
        ctx.error(
            IssueType.STRUCTURE,
            f"{child.path}: max allowed = {child.max}, but found {count}",
            path,
            MessageId.MAX,
        )
    if count < child.min:
        ctx.error(
            IssueType.STRUCTURE,
            f"{child.path}: minimum required = {child.min}, but only found {count}",
            path,
            MessageId.MIN,
        )


def _json_type(value: Any) -> str:
    """A FHIR type name for a JSON value whose element type is unknown."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    return "BackboneElement"


def _required(node: ElementNode) -> tuple[tuple[ElementNode, tuple[str, ...]], ...]:
    """Children that must appear (min > 0, or a slice with min > 0) with the JSON names that show them.

    Computed once per node: a choice shows as any of its typed names, a primitive also as ``_name``.
    """
    required = node.required
    if required is None:
        found = []
        for child in node.children.values():
            if child.min > 0 or any(s.min > 0 for s in child.slices):
                if child.is_choice:
                    typed = [n for n, (owner, _) in node.choice_names.items() if owner is child]
                    names = tuple(typed + ["_" + n for n in typed])
                else:
                    names = (child.name, "_" + child.name)
                found.append((child, names))
        required = node.required = tuple(found)
    return required
