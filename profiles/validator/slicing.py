"""Slicing: assigning repeated elements to slices by discriminator, and the slice-level rules.

See https://hl7.org/fhir/R4/profiling.html#slicing and
https://hl7.org/fhir/R4/profiling.html#discriminator (value, pattern, type, profile, exists;
paths with ``extension(url)``, ``resolve()`` and ``ofType()``), and the slicing ``rules``
(closed / open / openAtEnd) and ``ordered`` flags.  Without discriminators an item belongs to
the first slice it validates against without errors.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from hub.core.issues import IssueType
from profiles.code_systems import CodeValidity
from profiles.validator import profile_checks
from profiles.validator.bindings import codings_of
from profiles.validator.context import ValidationContext
from profiles.validator.fixed_pattern import matches_fixed, matches_pattern
from profiles.validator.invariants import ValidatorHooks
from profiles.validator.messages import MessageId
from profiles.validator.model import (
    BindingStrength,
    Discriminator,
    DiscriminatorType,
    ElementNode,
    SlicingRules,
    TypeRef,
)

if TYPE_CHECKING:
    from profiles.validator.elements import ElementWalker

_STEP = re.compile(
    r"extension\((['\"])(?P<url>[^'\"]+)\1\)|ofType\((?P<type>[A-Za-z]+)\)|resolve\(\)|[^.()]+"
)
Item = tuple[Any, Any]


@functools.lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str, ...]:
    steps = [m.group(0) for m in _STEP.finditer(path)]
    return tuple(s for s in steps if s != "$this")


def _navigate(
    values: list[tuple[Any, str | None]], step: str, ctx: ValidationContext
) -> list[tuple[Any, str | None]]:
    """One discriminator path step; each value carries the type its JSON name implies (choice keys)."""
    out: list[tuple[Any, str | None]] = []
    for value, _hint in values:
        if step == "resolve()":
            reference = value.get("reference") if isinstance(value, dict) else value
            target = ValidatorHooks(ctx).resolve(reference) if isinstance(reference, str) else None
            if target is not None:
                out.append((target, str(target.get("resourceType"))))
            continue
        if not isinstance(value, dict):
            continue
        if step.startswith("extension("):
            url = step[11:-2]
            out.extend(
                (e, "Extension")
                for e in value.get("extension") or ()
                if isinstance(e, dict) and e.get("url") == url
            )
        elif step.startswith("ofType("):
            wanted = step[7:-1]
            out.append((value, wanted))
        elif step in value:
            found = value[step]
            out.extend((f, None) for f in (found if isinstance(found, list) else [found]))
        else:  # choice element named without its type suffix: the suffix is the instance's type
            size = len(step)
            for key, found in value.items():
                if key.startswith(step) and key[size : size + 1].isupper():
                    out.append((found, key[size:]))
    return out


def _slice_target(
    slice_node: ElementNode, steps: tuple[str, ...], ctx: ValidationContext
) -> ElementNode | None:
    """The element of ``slice_node`` a discriminator path points at (worked out once per slice and path)."""
    cache = slice_node.discriminator_targets
    if steps in cache:
        return cache[steps]
    target = cache[steps] = _find_target(slice_node, steps, ctx)
    return target


def _find_target(
    slice_node: ElementNode, steps: tuple[str, ...], ctx: ValidationContext
) -> ElementNode | None:
    current = slice_node
    for step in steps:
        if step == "resolve()" or step.startswith("ofType("):
            continue
        if step.startswith("extension("):
            url = step[11:-2]
            extension = current.children.get("extension")
            match = None
            for candidate in extension.slices if extension else ():
                if any(url in t.profiles for t in candidate.types):
                    match = candidate
            if match is None:
                return None
            current = match
            continue
        child = current.children.get(step)
        if child is None:
            profile_url = next((p for t in current.types for p in t.profiles), None)
            compiled = ctx.services.compiler.compile_url(profile_url) if profile_url else None
            child = compiled.root.children.get(step) if compiled else None
        if child is None:
            return None
        current = child
    return current


def _matches_one(
    walker: ElementWalker,
    value: Any,
    type_ref: TypeRef | None,
    slice_node: ElementNode,
    d: Discriminator,
    ctx: ValidationContext,
) -> bool:
    steps = _steps(d.path)
    pairs: list[tuple[Any, str | None]] = [(value, type_ref.suffix if type_ref else None)]
    for step in steps:
        pairs = _navigate(pairs, step, ctx)
    found = [v for v, _ in pairs]
    target = _slice_target(slice_node, steps, ctx)
    if d.type is DiscriminatorType.EXISTS:
        if target is None:
            return True
        return bool(found) if target.min >= 1 else not found if target.max == 0 else True
    if target is None:
        return False
    if d.type in (DiscriminatorType.VALUE, DiscriminatorType.PATTERN):
        return _value_match(found, target, steps, ctx)
    if d.type is DiscriminatorType.TYPE:
        return _type_match(pairs, {t.code.lower() for t in target.types})
    profiles = [p for t in target.types for p in (t.target_profiles if "resolve()" in steps else t.profiles)]
    return any(
        isinstance(item, dict) and any(profile_checks.conforms(item, url, ctx) for url in profiles)
        for item in found
    )


def _type_match(pairs: list[tuple[Any, str | None]], allowed: set[str]) -> bool:
    for item, hint in pairs:
        if isinstance(item, dict) and "resourceType" in item:
            if str(item["resourceType"]).lower() in allowed or allowed & {"resource", "domainresource"}:
                return True
        elif (hint is not None and hint.lower() in allowed) or (hint is None and len(allowed) == 1):
            return True
    return False


def _value_match(
    found: list[Any], target: ElementNode, steps: tuple[str, ...], ctx: ValidationContext
) -> bool:
    if target.fixed is not None:
        return any(matches_fixed(target.fixed[1], item) for item in found)
    if target.pattern is not None:
        return any(matches_pattern(target.pattern[1], item) for item in found)
    if target.max == 0:
        return not found  # the slice is defined by the element being absent
    binding = target.binding
    if binding is not None and binding.strength is BindingStrength.REQUIRED and binding.value_set:
        terminology = ctx.services.terminology
        kind = target.types[0].code if target.types else "code"
        for item in found:
            codes = codings_of(item, kind)
            if any(
                terminology.check_in_value_set(binding.value_set, s, c).validity is CodeValidity.VALID
                for s, c in codes
            ):
                return True
        return False
    return True  # the slice does not constrain this discriminator: no restriction


def _extension_url_match(value: Any, slice_node: ElementNode) -> bool | None:
    urls = [p for t in slice_node.types for p in t.profiles]
    if not urls or not isinstance(value, dict):
        return None
    return value.get("url") in urls


def matches(
    walker: ElementWalker,
    value: Any,
    type_ref: TypeRef | None,
    owner: ElementNode,
    slice_node: ElementNode,
    ctx: ValidationContext,
) -> bool:
    """Whether ``value`` belongs to ``slice_node``."""
    discriminators = owner.slicing.discriminators if owner.slicing else ()
    if owner.name in ("extension", "modifierExtension") and (
        not discriminators or discriminators == (Discriminator(DiscriminatorType.VALUE, "url"),)
    ):
        by_url = _extension_url_match(value, slice_node)
        if by_url is not None:
            return by_url
    if not discriminators:
        trial = ctx.sub_context()
        walker.item(value, None, slice_node, type_ref, "", trial)
        return not any(i.is_error for i in trial.issues)
    return all(_matches_one(walker, value, type_ref, slice_node, d, ctx) for d in discriminators)


def assign(
    walker: ElementWalker,
    items: list[Item],
    owner: ElementNode,
    type_ref: TypeRef | None,
    path: str,
    ctx: ValidationContext,
) -> list[ElementNode]:
    """The node each item is validated against (its slice, or ``owner``), reporting slice rules."""
    rules = owner.slicing.rules if owner.slicing else SlicingRules.OPEN
    chosen: list[int] = []
    for value, _ext in items:
        index = -1
        for position, slice_node in enumerate(owner.slices):
            if matches(walker, value, type_ref, owner, slice_node, ctx):
                index = position
                break
        chosen.append(index)
    for position, slice_node in enumerate(owner.slices):
        count = chosen.count(position)
        if count < slice_node.min:
            ctx.error(
                IssueType.STRUCTURE,
                f"Slice '{owner.path}:{slice_node.slice_name}': a matching slice is required, but not found "
                f"(minimum {slice_node.min}, found {count})",
                path,
                MessageId.SLICE_MIN,
            )
        if slice_node.max is not None and count > slice_node.max:
            ctx.error(
                IssueType.STRUCTURE,
                f"Slice '{owner.path}:{slice_node.slice_name}': max allowed = {slice_node.max}, "
                f"but found {count}",
                path,
                MessageId.SLICE_MAX,
            )
    _order_rules(owner, chosen, rules, path, ctx)
    return [owner.slices[i] if i >= 0 else owner for i in chosen]


def _order_rules(
    owner: ElementNode, chosen: list[int], rules: SlicingRules, path: str, ctx: ValidationContext
) -> None:
    seen_unmatched = False
    last = -1
    for index, slice_index in enumerate(chosen):
        item_path = f"{path}[{index}]"
        if slice_index < 0:
            seen_unmatched = True
            if rules is SlicingRules.CLOSED:
                ctx.error(
                    IssueType.STRUCTURE,
                    "This element does not match any known slice defined in the profile "
                    f"(slicing of {owner.path} is closed)",
                    item_path,
                    MessageId.SLICE_CLOSED,
                )
            else:
                ctx.info(
                    IssueType.INFORMATIONAL,
                    f"This element does not match any known slice defined in the profile ({owner.path})",
                    item_path,
                    MessageId.SLICE_NO_MATCH,
                )
            continue
        if rules is SlicingRules.OPEN_AT_END and seen_unmatched:
            ctx.error(
                IssueType.STRUCTURE,
                f"Slicing of {owner.path} is openAtEnd: unmatched elements must come after all slices",
                item_path,
                MessageId.SLICE_ORDER,
            )
        if owner.slicing is not None and owner.slicing.ordered and slice_index < last:
            ctx.error(
                IssueType.STRUCTURE,
                f"Slices of {owner.path} are ordered: this element is out of order",
                item_path,
                MessageId.SLICE_ORDER,
            )
        last = max(last, slice_index)
