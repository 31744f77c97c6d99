"""Extensions and modifierExtensions: resolved by url and validated against their own definition.

See https://hl7.org/fhir/R4/extensibility.html (url, value[x] xor nested extensions: ext-1;
modifier extensions SHALL be understood) and https://hl7.org/fhir/R4/defining-extensions.html.
An extension whose definition cannot be found is an error, as in the HL7 reference validator;
for a modifierExtension that is required by the specification (it may change the meaning).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hub.core.errors import HubError
from hub.core.issues import IssueType
from profiles.validator import invariants
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId
from profiles.validator.model import CompiledProfile, ElementNode, TypeRef
from profiles.validator.resource_rules import CANONICAL_TYPES

if TYPE_CHECKING:
    from profiles.validator.elements import ElementWalker

_EXTENSION = TypeRef("Extension")
# Extension URLs the HL7 validator accepts without a definition: example domains (specification
# examples), its own tooling extensions and cross-version extensions (which it synthesises).
_ALLOWED_UNKNOWN = re.compile(
    r"^https?://(?:[^/]*\.)?(?:example\.org|example\.com|acme\.com|acme\.org|nema\.org)(?:/|$)"
    r"|^http://hl7\.org/fhir/tools/StructureDefinition/"
    r"|^http://hl7\.org/fhir/\d\.\d/StructureDefinition/extension-"
)
# HL7-published extensions outside the core package (the extensions pack): known to exist, not loaded.
_HL7_EXTENSION_SPACE = "http://hl7.org/fhir/StructureDefinition/"

R5_INTERFACES = frozenset({"CanonicalResource", "MetadataResource"})


def _has_value(value: dict[str, Any]) -> bool:
    return any(k.startswith(("value", "_value")) and k.lstrip("_")[5:6].isupper() for k in value)


def check(
    walker: ElementWalker,
    value: dict[str, Any],
    node: ElementNode,
    type_ref: TypeRef,
    path: str,
    ctx: ValidationContext,
) -> None:
    """One extension (or modifierExtension) instance."""
    url = value.get("url")
    if not isinstance(url, str) or not url:
        ctx.error(IssueType.STRUCTURE, "Extension.url is required", path, MessageId.EXTENSION_NO_URL)
        walker.complex(value, node, _EXTENSION, path, ctx)
        return
    if ("extension" in value) == _has_value(value):
        ctx.error(
            IssueType.INVARIANT,
            "Constraint failed: ext-1: 'Must have either extensions or value[x], not both'",
            path,
            MessageId.EXTENSION_VALUE_AND_CHILDREN,
        )
    if ":" not in url and node.path.endswith("xtension.extension"):
        # a child of a complex extension: its definition is the parent's slice (already matched)
        walker.complex(value, node, _EXTENSION, path, ctx)
        return
    definition_url = type_ref.profiles[0] if type_ref.profiles else url
    definition = ctx.services.compiler.compile_url(definition_url)
    if definition is None and definition_url != url:
        definition = ctx.services.compiler.compile_url(url)
    if definition is None:
        modifier = node.name == "modifierExtension"
        if ":" not in url:
            ctx.error(
                IssueType.STRUCTURE,
                f"Extension url '{url}' is not an absolute URL",
                f"{path}.url",
                MessageId.EXTENSION_UNKNOWN,
            )
        elif _ALLOWED_UNKNOWN.match(url) or (not modifier and url.startswith(_HL7_EXTENSION_SPACE)):
            ctx.warning(
                IssueType.NOT_FOUND,
                f"The extension {url} is not loaded, so its content was not checked",
                path,
                MessageId.EXTENSION_UNCHECKED,
            )
        else:
            ctx.error(
                IssueType.STRUCTURE,
                f"The {'modifier ' if modifier else ''}extension {url} could not be found "
                "so is not allowed here",
                path,
                MessageId.MODIFIER_EXTENSION_UNKNOWN if modifier else MessageId.EXTENSION_UNKNOWN,
            )
        walker.complex(value, node, _EXTENSION, path, ctx)
        return
    if definition.type != "Extension":
        ctx.error(
            IssueType.STRUCTURE,
            f"The url {url} resolves to a {definition.type} definition, not an extension",
            path,
            MessageId.EXTENSION_UNKNOWN,
        )
        return
    _check_context(definition, url, path, ctx)
    _check_sub_extensions(definition, value, url, path, ctx)
    if ("load", definition.url) not in ctx.reported:
        ctx.reported.add(("load", definition.url))
        ctx.issues.extend(definition.load_issues)
    if definition.root.has_children:
        walker.complex(value, definition.root, _EXTENSION, path, ctx)
    else:
        walker.complex(value, node, _EXTENSION, path, ctx)
    invariants.check(definition.root.invariants, value, "Extension", path, ctx)


def _ancestors(type_code: str, ctx: ValidationContext) -> set[str]:
    names = {type_code}
    compiled = ctx.services.compiler.compile_type(type_code)
    seen = 0
    while compiled is not None and compiled.base_definition and seen < 10:
        name = compiled.base_definition.rsplit("/", 1)[-1]
        names.add(name)
        compiled = ctx.services.compiler.compile_type(name)
        seen += 1
    return names


def _context_names(ctx: ValidationContext) -> set[str]:
    """Every way the current holder can be named: type ancestors and ``Type.path`` per enclosing type."""
    holder_type, holder_path, _ = ctx.holders[-1]
    names = _ancestors(holder_type, ctx) | {"Element", "Base", holder_path}
    if holder_type in CANONICAL_TYPES:
        # R5 interface types that cross-version extension contexts name (R4 has no such base types)
        names |= R5_INTERFACES
    for outer_type, outer_path, _ in ctx.holders[:-1]:
        if holder_path.startswith(outer_path + "."):
            rest = holder_path[len(outer_path) + 1 :]
            names.update(f"{kind}.{rest}" for kind in _ancestors(outer_type, ctx))
    if "." in holder_path:
        root, rest = holder_path.split(".", 1)
        names.update(f"{kind}.{rest}" for kind in _ancestors(root, ctx))
    return names


def _check_sub_extensions(
    definition: CompiledProfile, value: dict[str, Any], url: str, path: str, ctx: ValidationContext
) -> None:
    """A complex extension's children with relative urls must be among the ones it defines."""
    node = definition.root.children.get("extension")
    if node is None or not node.slices:
        return
    defined = {
        s.children["url"].fixed[1] for s in node.slices if "url" in s.children and s.children["url"].fixed
    }
    for index, child in enumerate(value.get("extension") or ()):
        child_url = child.get("url") if isinstance(child, dict) else None
        if isinstance(child_url, str) and ":" not in child_url and child_url not in defined:
            ctx.error(
                IssueType.STRUCTURE,
                f"Sub-extension url '{child_url}' is not defined by the Extension {url}",
                f"{path}.extension[{index}]",
                MessageId.EXTENSION_UNKNOWN,
            )


def _fhirpath_context(expression: str, holder_value: Any, ctx: ValidationContext) -> bool:
    """A FHIRPath context holds when evaluating it on the resource yields the extended element."""
    frame = ctx.frame
    if frame is None:
        return True
    try:
        found = ctx.services.engine.evaluate(
            expression, frame.resource, resource=frame.resource, root_resource=frame.root
        )
    except HubError:
        return True  # an expression the hub cannot evaluate does not reject the extension
    return any(item is holder_value or item == holder_value for item in found)


def _check_context(definition: CompiledProfile, url: str, path: str, ctx: ValidationContext) -> None:
    """https://hl7.org/fhir/R4/defining-extensions.html#context: where the extension may be used."""
    if not ctx.holders:
        return
    holder_type, holder_path, holder_value = ctx.holders[-1]
    if definition.context:
        names = _context_names(ctx)
        allowed = False
        for kind, expression in definition.context:
            if kind == "fhirpath":
                allowed = allowed or _fhirpath_context(expression, holder_value, ctx)
            elif kind == "extension":
                allowed = allowed or (holder_type == "Extension" and holder_value.get("url") == expression)
            # a context naming a child of this element is accepted too (R4 core itself puts
            # structuredefinition-fhir-type on ElementDefinition.type although its context is .type.code)
            elif expression in names or any(expression.startswith(n + ".") for n in names if "." in n):
                allowed = True
        if not allowed:
            shown = ", ".join(f"{k}:{e}" for k, e in definition.context)
            ctx.error(
                IssueType.STRUCTURE,
                f"The extension {url} is not allowed to be used at this point (this element is "
                f"[{holder_type}, {holder_path}]; allowed = {shown})",
                path,
                MessageId.EXTENSION_CONTEXT,
            )
            return
    for expression in definition.context_invariants:
        frame = ctx.frame
        try:
            ok = ctx.services.engine.is_true(
                expression,
                holder_value,
                base_type=holder_type,
                resource=frame.resource if frame else holder_value,
                root_resource=frame.root if frame else holder_value,
            )
        except HubError as exc:
            ctx.warning(
                IssueType.INVARIANT,
                f"Context invariant of {url} not evaluated: {exc.message}",
                path,
                MessageId.EXTENSION_CONTEXT,
            )
            continue
        if not ok:
            ctx.error(
                IssueType.STRUCTURE,
                f"The extension {url} is not allowed to be used "
                f"at this point (based on context invariant '{expression}')",
                path,
                MessageId.EXTENSION_CONTEXT,
            )
