"""Rules on one value of an element: primitives (lexical form, lengths, ranges) and the node's value rules.

See https://hl7.org/fhir/R4/datatypes.html#primitive, https://hl7.org/fhir/R4/elementdefinition.html
(fixed[x], pattern[x], binding, minValue/maxValue, maxLength, constraint) and
https://hl7.org/fhir/R4/json.html#primitive (the ``_name`` object of a primitive).  The walker
(:mod:`profiles.validator.elements`) calls these for every occurrence of an element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.core.issues import IssueType
from profiles.validator import bindings, invariants, references, resource_rules, string_security
from profiles.validator.context import ValidationContext
from profiles.validator.fixed_pattern import describe, matches_fixed, matches_pattern
from profiles.validator.messages import MessageId
from profiles.validator.model import ElementNode, TypeRef
from profiles.validator.primitives import (
    QUANTITY_TYPES,
    check_primitive,
    quantity_range_problem,
    range_problem,
)

if TYPE_CHECKING:
    from profiles.validator.elements import ElementWalker


def primitive(
    walker: ElementWalker,
    value: Any,
    ext: Any,
    node: ElementNode,
    type_ref: TypeRef,
    path: str,
    ctx: ValidationContext,
) -> None:
    """One primitive value: JSON type, lexical form, whitespace, maxLength, range and the node's rules."""
    if type(value) is dict or type(value) is list:
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
    if isinstance(value, str) and type_ref.code in ("string", "markdown"):
        if value != value.strip():
            ctx.warning(
                IssueType.INVALID,
                "The value has leading or trailing whitespace",
                path,
                MessageId.PRIMITIVE_WHITESPACE,
            )
        if "<" in value and type_ref.code == "string":
            string_security.check(value, path, ctx)
    if node.max_length is not None and isinstance(value, str) and len(value) > node.max_length:
        ctx.error(
            IssueType.TOO_LONG,
            f"The value is longer than maxLength {node.max_length}",
            path,
            MessageId.MAX_LENGTH,
        )
    if ext is not None:
        primitive_extension(walker, ext, node, type_ref, path, ctx)
    if node.min_value is not None or node.max_value is not None:
        out_of_range = range_problem(value, node.min_value, node.max_value)
        if out_of_range is not None:
            ctx.error(IssueType.VALUE, out_of_range, path, MessageId.MIN_VALUE)
    has_rules = node.has_rules
    if has_rules is None:
        has_rules = node_has_rules(node, ctx)
    if has_rules:
        element_rules(value, node, type_ref, path, ctx)


def primitive_extension(
    walker: ElementWalker, ext: Any, node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext
) -> None:
    """The ``_name`` object of a primitive: an Element (id, extensions) walked as such."""
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
            walker.properties(ext, element.root, path, ctx, is_resource=False)
        finally:
            ctx.holders.pop()


def element_rules(
    value: Any, node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext
) -> None:
    """The node's own value rules, and the rules of the data type itself that no definition states."""
    has_rules = node.has_rules
    if has_rules is None:
        has_rules = node_has_rules(node, ctx)
    code = type_ref.code
    if has_rules:
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
        if (node.min_value or node.max_value) and code in QUANTITY_TYPES and isinstance(value, dict):
            problem = quantity_range_problem(value, node.min_value, node.max_value)
            if problem is not None:
                ctx.error(IssueType.VALUE, problem, path, MessageId.MIN_VALUE)
    if type(value) is dict:
        # rules of the data type itself that no definition states
        if code == "Coding":
            bindings.check_codings_known(value, type_ref, path, ctx)
        elif code == "Identifier":
            resource_rules.identifiers(value, path, ctx)
        elif code == "Reference":
            references.check(value, node, type_ref, path, ctx)
    if has_rules:
        if node.invariants:
            type_path = node.path if code in ("BackboneElement", "Element") else code
            invariants.check(node.invariants, value, type_path, path, ctx)
        for check in node.custom or ():
            ctx.issues.extend(check(value, path))


def node_has_rules(node: ElementNode, ctx: ValidationContext) -> bool:
    """Whether the node itself states any value rule (fixed, pattern, binding, range, invariants, custom)."""
    checks = node.custom
    if checks is None:
        checks = node.custom = tuple(ctx.services.custom_checks.get((node.owner, node.path), ()))
    node.has_rules = bool(
        node.fixed is not None
        or node.pattern is not None
        or node.binding is not None
        or node.min_value is not None
        or node.max_value is not None
        or node.invariants
        or checks
    )
    return node.has_rules
