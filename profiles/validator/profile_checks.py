"""Validating against named profiles: ``meta.profile``, type profiles, conformsTo() and discriminators.

See https://hl7.org/fhir/R4/resource.html#Meta (declared profiles are claims the validator
checks), https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.type.profile
and https://hl7.org/fhir/R4/fhirpath.html#functions (``conformsTo``); the core vital signs
profiles an Observation's code calls for (https://hl7.org/fhir/R4/observation-vitalsigns.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub.core.issues import IssueType
from profiles.validator import invariants, vital_signs
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId
from profiles.validator.model import CompiledProfile, TypeRef

if TYPE_CHECKING:
    from profiles.validator.elements import ElementWalker


def _walker() -> ElementWalker:
    from profiles.validator.elements import ElementWalker

    return ElementWalker()


def conforms(data: dict[str, Any], url: str, ctx: ValidationContext) -> bool:
    """Whether ``data`` (a resource or data type value) has no errors against profile ``url``."""
    profile = ctx.services.compiler.compile_url(url)
    if profile is None:
        return False
    trial = ctx.sub_context()
    walker = _walker()
    if "resourceType" in data:
        walker.resource(data, profile, str(data.get("resourceType")), trial)
    else:
        walker.complex(data, profile.root, TypeRef(profile.type), profile.type, trial)
        invariants.check(profile.root.invariants, data, profile.type, profile.type, trial)
    return not any(issue.is_error for issue in trial.issues)


def covers_base(
    resource: dict[str, Any],
    base: CompiledProfile,
    profiles: Sequence[str],
    ctx: ValidationContext,
    *,
    declared: bool = True,
) -> bool:
    """Whether a profile to apply is a full-snapshot constraint on the resource's own type.

    Such a profile's snapshot carries every base rule, so walking the base definition as well
    would only repeat the same checks (and report the same issues twice).
    """
    urls = list(profiles)
    meta = resource.get("meta")
    if declared and isinstance(meta, dict) and isinstance(meta.get("profile"), list):
        urls.extend(u for u in meta["profile"] if isinstance(u, str))
    for url in urls:
        compiled = ctx.services.compiler.compile_url(url)
        if (
            compiled is not None
            and not compiled.from_differential
            and compiled.type == base.type
            and compiled.derivation == "constraint"
            and not compiled.load_issues
        ):
            return True
    return False


def declared(walker: ElementWalker, resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    """Validate ``resource`` against every profile in its ``meta.profile``."""
    meta = resource.get("meta")
    for url in (meta.get("profile") if isinstance(meta, dict) else None) or ():
        if isinstance(url, str):
            against(walker, resource, url, path, ctx, declared=True)


def against(
    walker: ElementWalker,
    resource: dict[str, Any],
    url: str,
    path: str,
    ctx: ValidationContext,
    *,
    declared: bool = False,
) -> bool:
    """Validate ``resource`` against profile ``url``; False when the profile is unknown."""
    profile = ctx.services.compiler.compile_url(url)
    if profile is None:
        if declared:
            ctx.warning(
                IssueType.NOT_FOUND,
                f"Profile reference '{url}' has not been checked because it is unknown",
                f"{path}.meta.profile",
                MessageId.PROFILE_UNKNOWN,
            )
        else:
            ctx.error(IssueType.NOT_FOUND, f"Profile '{url}' is unknown", path, MessageId.PROFILE_UNKNOWN)
        return False
    if ("load", profile.url) not in ctx.reported:
        ctx.reported.add(("load", profile.url))
        ctx.issues.extend(profile.load_issues)
    walker.resource(resource, profile, path, ctx)
    return True


def against_type(
    walker: ElementWalker,
    value: dict[str, Any],
    url: str,
    type_ref: TypeRef,
    path: str,
    ctx: ValidationContext,
) -> None:
    """A data type value against a profile on its type (``Quantity`` -> SimpleQuantity, ...)."""
    profile = ctx.services.compiler.compile_url(url)
    if profile is None:
        ctx.error(
            IssueType.NOT_FOUND,
            f"Unknown profile {url} (for type {type_ref.code})",
            path,
            MessageId.PROFILE_UNKNOWN,
        )
        return
    if profile.root.has_children:
        walker.complex(value, profile.root, TypeRef(profile.type or type_ref.code), path, ctx)
    invariants.check(profile.root.invariants, value, type_ref.code, path, ctx)


def vital_sign(
    walker: ElementWalker,
    resource: dict[str, Any],
    path: str,
    ctx: ValidationContext,
    already: Sequence[str] = (),
) -> None:
    """An Observation with a vital sign code, against the core profile for it (unless already applied)."""
    if resource.get("resourceType") != "Observation":
        return
    found = vital_signs.required_profile(resource)
    if found is None:
        return
    sign, system_name, code = found
    meta = resource.get("meta")
    declared_urls = meta.get("profile") if isinstance(meta, dict) else None
    if sign.url in already or (isinstance(declared_urls, list) and sign.url in declared_urls):
        return
    profile = ctx.services.compiler.compile_url(sign.url)
    if profile is None:
        return
    ctx.info(
        IssueType.INFORMATIONAL,
        f"Validate Observation against the {sign.title} profile ({sign.url}) which is required by the FHIR "
        f"specification because the {system_name} code {code} was found",
        path,
        MessageId.VITAL_SIGNS,
    )
    walker.resource(resource, profile, path, ctx)
