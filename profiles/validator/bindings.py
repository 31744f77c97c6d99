"""Terminology rules: bindings with their strength, and codes checked against their CodeSystem.

See https://hl7.org/fhir/R4/terminologies.html#strength (required / extensible / preferred /
example) and https://hl7.org/fhir/R4/datatypes.html#Coding.  Membership comes from
:class:`~profiles.terminology.TerminologyService` (local expansion only).  When the hub cannot
decide (SNOMED CT, LOINC, an unknown ValueSet), the result is an information or warning issue
saying so - never a silent pass.
"""

from __future__ import annotations

from typing import Any

from hub.core.issues import IssueSeverity, IssueType
from profiles.code_systems import CodeValidity
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId
from profiles.validator.model import BindingStrength, ElementNode, TypeRef

CODE_TYPES = frozenset({"code", "string", "uri", "url", "canonical"})
_INVALID_SEVERITY = {
    BindingStrength.REQUIRED: IssueSeverity.ERROR,
    BindingStrength.EXTENSIBLE: IssueSeverity.WARNING,
    BindingStrength.PREFERRED: IssueSeverity.INFORMATION,
}
_UNCHECKED_SEVERITY = {
    BindingStrength.REQUIRED: IssueSeverity.WARNING,
    BindingStrength.EXTENSIBLE: IssueSeverity.INFORMATION,
    BindingStrength.PREFERRED: IssueSeverity.INFORMATION,
}
_MESSAGE = {
    BindingStrength.REQUIRED: MessageId.BINDING_REQUIRED,
    BindingStrength.EXTENSIBLE: MessageId.BINDING_EXTENSIBLE,
    BindingStrength.PREFERRED: MessageId.BINDING_PREFERRED,
}


def codings_of(value: Any, type_code: str) -> list[tuple[str | None, str]]:
    """(system, code) pairs carried by a coded value of ``type_code``."""
    if type_code in CODE_TYPES:
        return [(None, value)] if isinstance(value, str) else []
    if not isinstance(value, dict):
        return []
    if type_code in ("Coding", "Quantity"):
        code = value.get("code")
        system = value.get("system")
        return [(system if isinstance(system, str) else None, code)] if isinstance(code, str) else []
    if type_code == "CodeableConcept":
        out: list[tuple[str | None, str]] = []
        for coding in value.get("coding") or ():
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                system = coding.get("system")
                out.append((system if isinstance(system, str) else None, coding["code"]))
        return out
    return []


def check(value: Any, node: ElementNode, type_ref: TypeRef, path: str, ctx: ValidationContext) -> None:
    """The binding of ``node`` applied to ``value``."""
    binding = node.binding
    if binding is None or binding.strength is BindingStrength.EXAMPLE or binding.value_set is None:
        return
    if type_ref.code not in CODE_TYPES and type_ref.code not in ("Coding", "CodeableConcept", "Quantity"):
        return
    codings = codings_of(value, type_ref.code)
    strength = binding.strength
    if not codings:
        if type_ref.code == "CodeableConcept" and strength in (
            BindingStrength.REQUIRED,
            BindingStrength.EXTENSIBLE,
        ):
            severity = IssueSeverity.ERROR if strength is BindingStrength.REQUIRED else IssueSeverity.WARNING
            verb = "must" if strength is BindingStrength.REQUIRED else "should"
            ctx.add(
                severity,
                IssueType.CODE_INVALID,
                f"No code provided, and a code {verb} be provided from the value set '{binding.value_set}'",
                path,
                MessageId.BINDING_NO_CODE,
            )
        return
    terminology = ctx.services.terminology
    checks = [terminology.check_in_value_set(binding.value_set, system, code) for system, code in codings]
    if any(c.validity is CodeValidity.VALID for c in checks):
        return
    unchecked = [c for c in checks if c.validity is CodeValidity.UNKNOWN]
    if unchecked:
        ctx.add(
            _UNCHECKED_SEVERITY[strength],
            IssueType.INFORMATIONAL if strength is not BindingStrength.REQUIRED else IssueType.NOT_FOUND,
            f"{unchecked[0].message} ({strength.value} binding not checked)",
            path,
            MessageId.BINDING_UNCHECKED,
        )
        return
    if type_ref.code == "CodeableConcept" and len(checks) > 1:
        message = f"None of the codings provided are in the value set '{binding.value_set}'"
    else:
        message = checks[0].message
    if strength is BindingStrength.REQUIRED:
        message += ", and a code from this value set is required"
    ctx.add(_INVALID_SEVERITY[strength], IssueType.CODE_INVALID, message, path, _MESSAGE[strength])


def check_codings_known(value: dict[str, Any], type_ref: TypeRef, path: str, ctx: ValidationContext) -> None:
    """A Coding's system/code against the CodeSystem, when the hub has it.

    CodeableConcepts need nothing here: the walker reaches each of their codings as a Coding.
    """
    if type_ref.code == "Coding":
        _coding(value, path, ctx)


def _coding(coding: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    system, code = coding.get("system"), coding.get("code")
    if not isinstance(system, str):
        if isinstance(code, str):
            ctx.warning(
                IssueType.CODE_INVALID,
                "A code with no system has no defined meaning, and it cannot be validated",
                path,
                MessageId.CODE_UNKNOWN,
            )
        return
    if ":" not in system:
        ctx.error(
            IssueType.CODE_INVALID,
            f"Coding.system must be an absolute reference, not a local reference ('{system}')",
            f"{path}.system",
            MessageId.CODE_SYSTEM_RELATIVE,
        )
        return
    if not isinstance(code, str):
        return
    terminology = ctx.services.terminology
    version = coding.get("version")
    check = terminology.check_system_code(system, code, version if isinstance(version, str) else None)
    if check.validity is CodeValidity.INVALID:
        ctx.error(IssueType.CODE_INVALID, check.message, f"{path}.code", MessageId.CODE_UNKNOWN)
    elif check.validity is CodeValidity.VALID and isinstance(coding.get("display"), str):
        display = coding["display"]
        wrong = terminology.check_display(system, code, display)
        if wrong is not None and not any(
            terminology.display_in_value_set(vs, system, code, display) for vs in ctx.bound_value_sets
        ):
            ctx.error(IssueType.CODE_INVALID, wrong, f"{path}.display", MessageId.CODE_DISPLAY)
    elif check.validity is CodeValidity.UNKNOWN:
        if terminology.is_value_set(system):
            ctx.error(
                IssueType.CODE_INVALID,
                f"The Coding references a value set, not a code system ('{system}')",
                f"{path}.system",
                MessageId.CODE_SYSTEM_IS_VALUESET,
            )
        else:
            ctx.info(
                IssueType.INFORMATIONAL,
                f"{check.message}; code '{code}' not checked",
                path,
                MessageId.CODE_UNCHECKED,
            )
