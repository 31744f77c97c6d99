"""Consistency rules of StructureDefinitions (profiles) that their own definition does not state.

See https://hl7.org/fhir/R4/profiling.html#profile-rules ("a profile can only constrain what its
base allows") and https://hl7.org/fhir/R4/elementdefinition-definitions.html:

* a type's profile (``type.profile``) is a profile of that very type: its StructureDefinition
  has ``type`` equal to the type code;
* a fixed value in the differential cannot contradict a fixed value of the base definition at
  the same element (a derived extension keeps the url of the extension it constrains);
* a slicing discriminator's path starts with an element the sliced element's type has
  (https://hl7.org/fhir/R4/profiling.html#discriminator);
* the chain of ``baseDefinition`` ends (at a base type), never coming back to the profile itself;
  a base that is not loaded is a warning (nothing it states can be checked).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hub.core.issues import IssueType
from profiles.canonical import split_canonical
from profiles.validator.context import ValidationContext
from profiles.validator.fixed_pattern import describe, matches_fixed
from profiles.validator.messages import MessageId
from profiles.validator.model import ElementNode


def _error(ctx: ValidationContext, message: str, path: str) -> None:
    ctx.error(IssueType.BUSINESS_RULE, message, path, MessageId.RESOURCE_RULE)


def _elements(resource: dict[str, Any], part: str) -> Iterator[tuple[int, dict[str, Any]]]:
    holder = resource.get(part)
    elements = holder.get("element") if isinstance(holder, dict) else None
    for index, element in enumerate(elements or ()):
        if isinstance(element, dict):
            yield index, element


def check(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    for part in ("differential", "snapshot"):
        for e_index, element in _elements(resource, part):
            _type_profiles(element, f"{path}.{part}.element[{e_index}]", ctx)
    if _base_chain(resource, path, ctx):
        _fixed_against_base(resource, path, ctx)
        _discriminator_paths(resource, path, ctx)


def _base_chain(resource: dict[str, Any], path: str, ctx: ValidationContext) -> bool:
    """Whether the base chain is sound (ends, without a cycle); reports what is wrong with it."""
    own = split_canonical(str(resource.get("url", "")))[0]
    current = resource.get("baseDefinition")
    seen = {own}
    for step in range(64):
        if not isinstance(current, str):
            return True
        definition = ctx.services.registry.resolve(current)
        if definition is None:
            if step == 0:
                ctx.warning(
                    IssueType.NOT_FOUND,
                    f"Unable to find the base definition {current}, so the differential cannot be checked",
                    f"{path}.baseDefinition",
                    MessageId.PROFILE_UNKNOWN,
                )
            return step > 0
        base = split_canonical(current)[0]
        if base in seen:
            _error(ctx, f"The baseDefinition chain of {own} is circular (it comes back to {base})", path)
            return False
        seen.add(base)
        current = definition.get("baseDefinition")
    _error(ctx, f"The baseDefinition chain of {own} is too long", path)
    return False


def _type_profiles(element: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    for t_index, type_ref in enumerate(element.get("type") or ()):
        code = type_ref.get("code") if isinstance(type_ref, dict) else None
        if not isinstance(code, str) or "/" in code:
            continue
        for p_index, url in enumerate(type_ref.get("profile") or ()):
            profile = ctx.services.registry.resolve(url) if isinstance(url, str) else None
            if profile is None or profile.get("resourceType") != "StructureDefinition":
                continue
            if profile.get("type") != code:
                _error(
                    ctx,
                    f"Profile {url} is for type {profile.get('type')}, but the {element.get('path')} "
                    f"element has type {code}",
                    f"{path}.type[{t_index}].profile[{p_index}]",
                )


def _fixed_against_base(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    base_url = resource.get("baseDefinition")
    if resource.get("derivation") != "constraint" or not isinstance(base_url, str):
        return
    base = ctx.services.compiler.compile_url(base_url)
    if base is None:
        return
    by_id = ctx.services.compiler.memo(("elements-by-id", base.url), lambda: dict(_by_id(base.root)))
    for e_index, element in _elements(resource, "differential"):
        fixed = next(((k, v) for k, v in element.items() if k.startswith("fixed") and k[5:6].isupper()), None)
        element_id = element.get("id") or element.get("path")
        node = by_id.get(element_id) if fixed is not None and isinstance(element_id, str) else None
        if node is None or node.fixed is None or fixed is None:
            continue
        if not matches_fixed(node.fixed[1], fixed[1]):
            _error(
                ctx,
                f"Value is '{describe(fixed[1])}' but is fixed to '{describe(node.fixed[1])}' in the "
                f"profile, because the value must match the fixed value defined in '{base.url}'",
                f"{path}.differential.element[{e_index}]",
            )


def _discriminator_paths(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    base_url = resource.get("baseDefinition")
    base = ctx.services.compiler.compile_url(base_url) if isinstance(base_url, str) else None
    if base is None:
        return
    by_id = ctx.services.compiler.memo(("elements-by-id", base.url), lambda: dict(_by_id(base.root)))
    for e_index, element in _elements(resource, "differential"):
        slicing = element.get("slicing")
        element_path = element.get("path")
        if not isinstance(slicing, dict) or not isinstance(element_path, str):
            continue
        children = _type_children(element, by_id, ctx)
        if children is None:
            continue
        for d_index, discriminator in enumerate(slicing.get("discriminator") or ()):
            step = _first_step(discriminator.get("path") if isinstance(discriminator, dict) else None)
            if step is not None and step not in children:
                _error(
                    ctx,
                    f"The discriminator path '{discriminator.get('path')}' does not appear to be valid for "
                    f"the element that is being sliced '{element_path}'",
                    f"{path}.differential.element[{e_index}].slicing.discriminator[{d_index}]",
                )


def _first_step(discriminator_path: Any) -> str | None:
    """The element name a discriminator path starts with (None: nothing to check, e.g. ``$this``)."""
    if not isinstance(discriminator_path, str):
        return None
    first = discriminator_path.split(".", 1)[0]
    if first in ("$this", "resolve()") or "(" in first or not first:
        return None
    return first


def _type_children(
    element: dict[str, Any], by_id: dict[str, ElementNode], ctx: ValidationContext
) -> set[str] | None:
    """Names (choice stems included) the types of ``element`` allow; None when the types are unknown."""
    codes: list[tuple[str, tuple[str, ...]]] = [
        (t["code"], tuple(p for p in t.get("profile") or () if isinstance(p, str)))
        for t in element.get("type") or ()
        if isinstance(t, dict) and isinstance(t.get("code"), str)
    ]
    if not codes:
        plain_id = ".".join(
            part.split(":", 1)[0] for part in str(element.get("id") or element.get("path")).split(".")
        )
        node = by_id.get(plain_id)
        if node is None:
            return None
        if node.has_children:
            return set(node.children) | {n for n in node.choice_names}
        codes = [(t.code, t.profiles) for t in node.types]
    names: set[str] = set()
    for code, profiles in codes:
        compiled = None
        for url in profiles:
            compiled = ctx.services.compiler.compile_url(url)
            if compiled is not None:
                break
        compiled = compiled or ctx.services.compiler.compile_type(code)
        if compiled is None or not compiled.root.has_children:
            return None
        names |= set(compiled.root.children) | set(compiled.root.choice_names)
    return names or None


def _by_id(node: ElementNode) -> Iterator[tuple[str, ElementNode]]:
    yield node.id, node
    for child in node.children.values():
        yield from _by_id(child)
    for slice_node in node.slices:
        yield from _by_id(slice_node)
