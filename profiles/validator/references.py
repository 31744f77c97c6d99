"""References and resources inside resources: target types, contained resources, Bundle entries.

See https://hl7.org/fhir/R4/references.html (literal references, ``Type/id``, ``#id`` for
contained resources, ``targetProfile``), https://hl7.org/fhir/R4/references.html#contained and
https://hl7.org/fhir/R4/bundle.html#references (resolving inside a Bundle by ``fullUrl``) and
aggregation modes (https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.type.aggregation).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hub.core.issues import IssueType
from profiles.canonical import CORE_SD_PREFIX
from profiles.structure import RESOURCE_ID
from profiles.validator import bundles, profile_checks
from profiles.validator.context import ValidationContext
from profiles.validator.invariants import ValidatorHooks
from profiles.validator.messages import MessageId
from profiles.validator.model import ElementNode, TypeRef

if TYPE_CHECKING:
    from profiles.validator.elements import ElementWalker

_TYPED = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$")
_ABSTRACT = frozenset({"Resource", "DomainResource"})
_GROUPING = frozenset({"Bundle", "Parameters"})


def _allowed_types(type_ref: TypeRef, ctx: ValidationContext) -> tuple[set[str] | None, list[str]]:
    """Resource types a Reference may point at (None: any) and the target profiles that are unknown.

    Worked out once per set of target profiles and registry generation.
    """
    return ctx.services.compiler.memo(
        ("allowed-targets", type_ref.target_profiles), lambda: _targets(type_ref, ctx)
    )


def _targets(type_ref: TypeRef, ctx: ValidationContext) -> tuple[set[str] | None, list[str]]:
    allowed: set[str] = set()
    unknown: list[str] = []
    for url in type_ref.target_profiles:
        if url.startswith(CORE_SD_PREFIX) and "/" not in url[len(CORE_SD_PREFIX) :]:
            allowed.add(url[len(CORE_SD_PREFIX) :])
            continue
        sd = ctx.services.registry.resolve(url)
        if sd is None:
            unknown.append(url)
            continue
        allowed.add(str(sd.get("type", "")))
    if not allowed or allowed & _ABSTRACT:
        return None, unknown
    return allowed, unknown


def check(
    value: dict[str, Any], node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext
) -> None:
    """A Reference value: format, target type, and target profile where the target is at hand."""
    reference = value.get("reference")
    if not isinstance(reference, str):
        return
    target: dict[str, Any] | None = None
    implied: str | None = None
    if reference.startswith("#"):
        target = ValidatorHooks(ctx).resolve(reference)
    else:
        match = _TYPED.search(reference)
        implied = match.group(1) if match else None
        frame = ctx.frame
        bundle = frame.bundle if frame is not None else None
        if frame is not None and bundle is not None and bundle.get("type") in ("document", "message"):
            found = bundles.resolve(bundle, reference, bundles.entry_full_url(bundle, frame.resource))
            if len(found) > 1:
                ctx.error(
                    IssueType.INVALID,
                    f"Found {len(found)} matches for '{reference}' in the bundle",
                    path,
                    MessageId.REFERENCE_BUNDLE,
                )
            elif not found and ctx.bundle_lookup(bundle, reference) is not None:
                # a resource with that type and id is in the bundle, but the fullUrl rules do not
                # lead to it (the HL7 validator reports exactly this case)
                ctx.error(
                    IssueType.NOT_FOUND,
                    f"Can't find '{reference}' in the bundle: an entry has that type and id, but it does not "
                    "match by the fullUrl rules for relative references",
                    path,
                    MessageId.REFERENCE_BUNDLE,
                )
            target = found[0] if len(found) == 1 else None
        elif frame is not None and bundle is not None:
            target = ValidatorHooks(ctx).resolve(reference)
            if target is None and reference.startswith("urn:"):
                ctx.warning(
                    IssueType.NOT_FOUND,
                    f"URN reference is not locally contained within the bundle {reference}",
                    f"{path}.reference",
                    MessageId.REFERENCE_BUNDLE,
                )
    if target is not None and isinstance(target.get("resourceType"), str):
        implied = target["resourceType"]
    elif target is None:
        _unresolved(reference, path, ctx)
    if type_ref.aggregation:
        _aggregation(reference, target, type_ref.aggregation, path, ctx)
    declared = value.get("type")
    if isinstance(declared, str) and implied is not None and declared != implied:
        ctx.error(
            IssueType.STRUCTURE,
            f"The reference is to a {implied}, but Reference.type says {declared}",
            path,
            MessageId.REFERENCE_TARGET_TYPE,
        )
    if target is None and not ctx.options.assume_valid_rest_references:
        # the URL only suggests a type; without the target at hand it is not held against the element
        implied = None
    implied = implied or (declared if isinstance(declared, str) else None)
    allowed, unknown = _allowed_types(type_ref, ctx)
    if target is not None:
        # a resolved target is checked against its target profiles, so unknown ones are a problem
        for url in unknown:
            ctx.error(
                IssueType.NOT_FOUND,
                f"Unable to resolve the profile reference '{url}'",
                path,
                MessageId.PROFILE_UNKNOWN,
            )
    if implied is not None and allowed is not None and implied not in allowed:
        ctx.error(
            IssueType.STRUCTURE,
            f"The type '{implied}' implied by the reference URL {reference} is not a valid Target for this "
            f"element (must be one of {sorted(allowed)})",
            f"{path}.reference",
            MessageId.REFERENCE_TARGET_TYPE,
        )
        return
    if target is None:
        return
    specific = [u for u in type_ref.target_profiles if not u.startswith(CORE_SD_PREFIX)]
    if specific and not any(profile_checks.conforms(target, u, ctx) for u in specific):
        ctx.error(
            IssueType.STRUCTURE,
            f"Unable to find a match for the specified profile among choices: {', '.join(specific)}",
            path,
            MessageId.REFERENCE_TARGET_TYPE,
        )


def _aggregation(
    reference: str, target: dict[str, Any] | None, modes: tuple[str, ...], path: str, ctx: ValidationContext
) -> None:
    """ElementDefinition.type.aggregation: where the target may live (contained | bundled | referenced).

    https://hl7.org/fhir/R4/valueset-resource-aggregation-mode.html: a ``#id`` target is contained,
    one found among the resources of the Bundle (or Parameters) is bundled, anything else is
    referenced (external).  A resource validated on its own (not inside a Bundle) may still be
    bundled later, so its non-contained references are not judged.
    """
    frame = ctx.frame
    grouped = frame is not None and frame.bundle is not None
    if reference.startswith("#"):
        mode = "contained"
    elif not grouped:
        return
    elif target is not None:
        mode = "bundled"
    else:
        mode = "referenced"
    if mode in modes:
        return
    allowed = ", ".join(modes)
    if mode == "referenced":
        message = (
            f"The reference {reference} is not to a contained or bundled resource: it is external, which the "
            f"aggregation mode(s) of this element ({allowed}) do not allow"
        )
    else:
        message = (
            f"Reference is {mode}, which the aggregation mode(s) of this element ({allowed}) do not allow"
        )
    ctx.error(IssueType.STRUCTURE, message, path, MessageId.REFERENCE_AGGREGATION)


def _unresolved(reference: str, path: str, ctx: ValidationContext) -> None:
    """A relative reference between the resources of a Parameters that does not resolve.

    Only checked when the options ask for targets to exist.  Parameters has no base URL, so a
    relative reference from one of its resources can only mean another of its resources.  A
    standalone resource's targets live on some server (no store is consulted here), and inside a
    Bundle a relative reference is relative to the entry's fullUrl, possibly another server.
    """
    frame = ctx.frame
    grouping = frame.bundle if frame is not None else None
    if grouping is None or grouping.get("resourceType") != "Parameters":
        return
    if not ctx.options.reference_policy.checks_existence or reference.startswith(("#", "urn:")):
        return
    if "://" in reference:
        return
    ctx.error(
        IssueType.NOT_FOUND,
        f"Unable to resolve resource with reference '{reference}'",
        path,
        MessageId.REFERENCE_UNRESOLVED,
    )


def contained_or_inline(
    walker: ElementWalker,
    value: dict[str, Any],
    node: ElementNode,
    type_ref: TypeRef,
    path: str,
    ctx: ValidationContext,
) -> None:
    """A resource held inside another (``contained``, ``Bundle.entry.resource``, parameters)."""
    resource_type = value.get("resourceType")
    if not isinstance(resource_type, str):
        ctx.error(
            IssueType.STRUCTURE,
            "A nested resource needs a resourceType",
            path,
            MessageId.RESOURCE_TYPE_MISSING,
        )
        return
    if type_ref.code not in _ABSTRACT and type_ref.code != resource_type:
        ctx.error(
            IssueType.STRUCTURE,
            f"Resource type '{resource_type}' is not allowed here (expected {type_ref.code})",
            path,
            MessageId.RESOURCE_TYPE_WRONG,
        )
        return
    ident = value.get("id")
    if isinstance(ident, str) and not RESOURCE_ID.fullmatch(ident):
        ctx.error(IssueType.VALUE, f"Invalid resource id '{ident}'", f"{path}.id", MessageId.RESOURCE_ID)
    profile = ctx.services.compiler.compile_type(resource_type)
    if profile is None or profile.kind != "resource":
        if ctx.services.has_core():
            ctx.error(
                IssueType.STRUCTURE,
                f"Unknown resource type '{resource_type}'",
                path,
                MessageId.RESOURCE_TYPE_UNKNOWN,
            )
        return
    frame = ctx.frame
    if node.path.endswith(".contained"):
        if value.get("contained"):
            ctx.error(
                IssueType.STRUCTURE,
                "Contained resources SHALL NOT contain additional contained resources",
                path,
                MessageId.CONTAINED_NESTED,
            )
        root = frame.root if frame else value
        walker.resource(value, profile, path, ctx, root=root)
        return
    # resources grouped in a Bundle or a Parameters resolve references among each other
    bundle = frame.resource if frame and frame.resource.get("resourceType") in _GROUPING else None
    if not profile_checks.covers_base(value, profile, type_ref.profiles, ctx):
        walker.resource(value, profile, path, ctx, root=value, bundle=bundle)
    profile_checks.declared(walker, value, path, ctx)
    for url in type_ref.profiles:
        profile_checks.against(walker, value, url, path, ctx)
    profile_checks.vital_sign(walker, value, path, ctx, type_ref.profiles)
