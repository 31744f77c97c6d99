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
    bindings,
    extensions,
    invariants,
    profile_checks,
    references,
    resource_rules,
    slicing,
)
from profiles.validator.context import MAX_DEPTH, ResourceFrame, ValidationContext
from profiles.validator.fixed_pattern import describe, matches_fixed, matches_pattern
from profiles.validator.messages import MessageId
from profiles.validator.model import CompiledProfile, ElementNode, TypeRef
from profiles.validator.primitives import (
    QUANTITY_TYPES,
    check_primitive,
    is_primitive_type,
    quantity_range_problem,
    range_problem,
)

RESOURCE_TYPES = frozenset({"Resource", "DomainResource"})
Item = tuple[Any, Any]  # (value, "_name" primitive extension object)


class ElementWalker:
    """Validates JSON values against element nodes; one instance serves every call of a validator."""

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
            ctx.frames.pop()
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
        type_profile = None if is_resource else ctx.services.compiler.compile_type(type_ref.code)
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
            self._properties(value, source, path, ctx, is_resource=is_resource)
        finally:
            ctx.depth -= 1
            ctx.holders.pop()
        if type_profile is not None and type_profile.root is not node:
            invariants.check(type_profile.root.invariants, value, type_ref.code, path, ctx)

    def _properties(
        self,
        value: dict[str, Any],
        source: ElementNode,
        path: str,
        ctx: ValidationContext,
        *,
        is_resource: bool,
    ) -> None:
        children = source.children
        found: dict[str, list[tuple[str, TypeRef | None]]] = {}
        for key in value:
            if key[0] == "_":
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
            occurrences = found.get(child.name)
            if occurrences is None:
                found[child.name] = [(name, type_ref)]
            else:
                occurrences.append((name, type_ref))
        for child in _required(source):
            if child.name not in found:
                self._missing(child, path, ctx)
        for child_name, occurrences in found.items():
            child = children[child_name]
            if len(occurrences) > 1:
                names = ", ".join(n for n, _ in occurrences)
                ctx.error(
                    IssueType.STRUCTURE,
                    f"Only one of the choice properties is allowed for {child.path} (found {names})",
                    path,
                    MessageId.CHOICE_MULTIPLE,
                )
            for name, type_ref in occurrences:
                self._occurrences(value, name, child, type_ref, path, ctx)

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
        items = self._items(raw, ext, child, shown, ctx)
        if items is None:
            return
        count = len(items)
        if child.max is not None and count > child.max:
            ctx.error(
                IssueType.STRUCTURE,
                f"{child.path}: max allowed = {child.max}, but found {count}",
                shown,
                MessageId.MAX,
            )
        if count < child.min:
            ctx.error(
                IssueType.STRUCTURE,
                f"{child.path}: minimum required = {child.min}, but only found {count}",
                shown,
                MessageId.MIN,
            )
        targets: list[ElementNode] = (
            slicing.assign(self, items, child, type_ref, shown, ctx) if child.slices else []
        )
        indexed = isinstance(raw, list) or (raw is None and isinstance(ext, list))
        for index, (value, extension) in enumerate(items):
            item_path = f"{shown}[{index}]" if indexed else shown
            self.item(value, extension, targets[index] if targets else child, type_ref, item_path, ctx)

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
        chosen = type_ref or self._type_of(node, value)
        if chosen is None:
            # no type known (a differential-only profile): the element's own rules still apply
            if isinstance(value, dict) and node.has_children:
                self._properties(value, node, path, ctx, is_resource=False)
            self._element_rules(value, node, TypeRef(_json_type(value)), path, ctx)
            return
        code = chosen.code
        if value is None:
            if ext is None:
                ctx.error(IssueType.STRUCTURE, "null is not a valid value", path, MessageId.JSON_NULL)
            else:
                self._primitive_extension(ext, node, chosen, path, ctx)
            return
        if is_primitive_type(code):
            self._primitive(value, ext, node, chosen, path, ctx)
            return
        if not isinstance(value, dict):
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
        if not value:
            ctx.error(
                IssueType.INVARIANT, "Object must have some content (ele-1)", path, MessageId.EMPTY_ELEMENT
            )
            return
        if code in RESOURCE_TYPES or self._is_resource_type(code, ctx):
            references.contained_or_inline(self, value, node, chosen, path, ctx)
            return
        if code == "Extension":
            extensions.check(self, value, node, chosen, path, ctx)
        else:
            self.complex(value, node, chosen, path, ctx)
        self._element_rules(value, node, chosen, path, ctx)
        if code != "Extension":
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

    def _primitive(
        self, value: Any, ext: Any, node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext
    ) -> None:
        if isinstance(value, dict | list):
            ctx.error(
                IssueType.STRUCTURE,
                f"Expected a primitive {type_ref.code} value",
                path,
                MessageId.JSON_PRIMITIVE_EXPECTED,
            )
            return
        problem = check_primitive(type_ref.code, value)
        if problem is not None:
            ctx.error(IssueType.INVALID, f"The value {problem}", path, MessageId.PRIMITIVE_FORMAT)
            return
        if isinstance(value, str) and type_ref.code in ("string", "markdown") and value != value.strip():
            ctx.warning(
                IssueType.INVALID,
                "The value has leading or trailing whitespace",
                path,
                MessageId.PRIMITIVE_WHITESPACE,
            )
        if node.max_length is not None and isinstance(value, str) and len(value) > node.max_length:
            ctx.error(
                IssueType.TOO_LONG,
                f"The value is longer than maxLength {node.max_length}",
                path,
                MessageId.MAX_LENGTH,
            )
        if ext is not None:
            self._primitive_extension(ext, node, type_ref, path, ctx)
        out_of_range = range_problem(value, node.min_value, node.max_value)
        if out_of_range is not None:
            ctx.error(IssueType.VALUE, out_of_range, path, MessageId.MIN_VALUE)
        self._element_rules(value, node, type_ref, path, ctx)

    def _primitive_extension(
        self, ext: Any, node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext
    ) -> None:
        if not isinstance(ext, dict) or not ext:
            ctx.error(
                IssueType.STRUCTURE,
                "A '_' property must be a non-empty JSON object",
                path,
                MessageId.JSON_OBJECT_EXPECTED,
            )
            return
        element = ctx.services.compiler.compile_type("Element")
        if element is not None:
            # extensions here extend the primitive element itself (their context is its path)
            ctx.holders.append((type_ref.code, node.path, ext))
            try:
                self._properties(ext, element.root, path, ctx, is_resource=False)
            finally:
                ctx.holders.pop()

    def _element_rules(
        self, value: Any, node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext
    ) -> None:
        if node.fixed is not None and not matches_fixed(node.fixed[1], value):
            ctx.error(
                IssueType.VALUE,
                f"Value is '{describe(value)}' but is fixed to '{describe(node.fixed[1])}' in the profile",
                path,
                MessageId.FIXED,
            )
        if node.pattern is not None and not matches_pattern(node.pattern[1], value):
            ctx.error(
                IssueType.VALUE,
                f"The value does not match the pattern {describe(node.pattern[1])} required by the profile",
                path,
                MessageId.PATTERN,
            )
        if node.binding is not None:
            bindings.check(value, node, type_ref, path, ctx)
        if (node.min_value or node.max_value) and type_ref.code in QUANTITY_TYPES and isinstance(value, dict):
            problem = quantity_range_problem(value, node.min_value, node.max_value)
            if problem is not None:
                ctx.error(IssueType.VALUE, problem, path, MessageId.MIN_VALUE)
        if type_ref.code == "Coding" and isinstance(value, dict):
            bindings.check_codings_known(value, type_ref, path, ctx)
        if type_ref.code == "Identifier" and isinstance(value, dict):
            resource_rules.identifiers(value, path, ctx)
        if type_ref.code == "Reference" and isinstance(value, dict):
            references.check(value, node, type_ref, path, ctx)
        if node.invariants:
            type_path = node.path if type_ref.code in ("BackboneElement", "Element") else type_ref.code
            invariants.check(node.invariants, value, type_path, path, ctx)
        checks = node.custom
        if checks is None:
            checks = node.custom = tuple(ctx.services.custom_checks.get((node.owner, node.path), ()))
        for check in checks:
            ctx.issues.extend(check(value, path))


def _json_type(value: Any) -> str:
    """A FHIR type name for a JSON value whose element type is unknown."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    return "BackboneElement"


def _required(node: ElementNode) -> tuple[ElementNode, ...]:
    """Children that must appear (min > 0, or a slice with min > 0); computed once per node."""
    required = node.required
    if required is None:
        required = tuple(c for c in node.children.values() if c.min > 0 or any(s.min > 0 for s in c.slices))
        node.required = required
    return required
