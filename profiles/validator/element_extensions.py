"""Rules that profiles state through extensions on ElementDefinition (R5 tooling and extension-pack features).

* ``minLength`` (http://hl7.org/fhir/extensions/StructureDefinition-minLength.html): a string
  value has at least that many characters;
* ``mustHaveValue`` / ``valueAlternatives`` (R5 ElementDefinition, carried into R4 as
  ``http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.*``,
  https://hl7.org/fhir/R5/elementdefinition-definitions.html#ElementDefinition.mustHaveValue):
  a primitive must carry a value, or when it has none, one of the listed extensions;
* additional bindings (R5 ``ElementDefinition.binding.additional``,
  https://hl7.org/fhir/R5/elementdefinition-definitions.html#ElementDefinition.binding.additional):
  a ``required`` or ``maximum`` additional binding is checked like a required binding;
* narrative controls (https://build.fhir.org/ig/HL7/fhir-extensions/narrative.html):
  ``narrative-language-control`` (``_no``, ``_yes``, ``_resource`` or a language code) and
  ``narrative-source-control`` (every root part of the div says where it comes from with a
  class, at the severity the extension gives).

Each rule is compiled once with its element (:func:`profiles.validator.element_rules.compile_rules`)
and applied by the walker to every occurrence of the element (:func:`check`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.core.issues import IssueType
from profiles.code_systems import CodeValidity
from profiles.narrative import language_sections, unsourced_parts
from profiles.validator.bindings import codings_of
from profiles.validator.context import ValidationContext
from profiles.validator.element_rules import LEVELS, ElementRule, RuleKind, extensions_of
from profiles.validator.messages import MessageId


def check(
    rules: Sequence[ElementRule], value: Any, ext: Any, type_code: str, path: str, ctx: ValidationContext
) -> None:
    """Apply ``rules`` to one occurrence of their element (``value`` None: a primitive with only ``_x``)."""
    for rule in rules:
        kind = rule.kind
        if kind is RuleKind.MIN_LENGTH:
            if isinstance(value, str) and len(value) < rule.number:
                ctx.error(
                    IssueType.INVALID,
                    f"Value '{value}' is shorter than the permitted minimum length of {rule.number}",
                    path,
                    MessageId.MIN_LENGTH,
                )
        elif kind is RuleKind.MUST_HAVE_VALUE:
            if value is None:
                ctx.error(
                    IssueType.INVALID,
                    f"The element definition {rule.element} in the profile '{rule.profile}' requires that a "
                    "value be present in this element",
                    path,
                    MessageId.VALUE_REQUIRED,
                )
        elif kind is RuleKind.VALUE_ALTERNATIVES:
            _alternatives(rule, value, ext, path, ctx)
        elif kind is RuleKind.ADDITIONAL_BINDING:
            _additional_binding(rule, value, type_code, path, ctx)
        elif kind is RuleKind.LANGUAGE_CONTROL:
            _language_control(rule, value, path, ctx)
        else:
            _source_control(rule, value, path, ctx)


def _alternatives(rule: ElementRule, value: Any, ext: Any, path: str, ctx: ValidationContext) -> None:
    if value is not None:
        return
    present = {e.get("url") for e in extensions_of(ext)}
    if not present.intersection(rule.values):
        ctx.error(
            IssueType.INVALID,
            f"The element definition {rule.element} in the profile '{rule.profile}' requires that if a value "
            f"is not present, one of the extensions {', '.join(rule.values)} must be present",
            path,
            MessageId.VALUE_REQUIRED,
        )


def _additional_binding(
    rule: ElementRule, value: Any, type_code: str, path: str, ctx: ValidationContext
) -> None:
    value_set, purpose = rule.values
    codings = codings_of(value, type_code)
    if not codings:
        return
    terminology = ctx.services.terminology
    checks = [terminology.check_in_value_set(value_set, system, code) for system, code in codings]
    if any(c.validity is not CodeValidity.INVALID for c in checks):
        return  # a member, or the hub cannot tell (reported by the main binding, if any)
    shown = ", ".join(f"{s or ''}#{c}" for s, c in codings)
    ctx.error(
        IssueType.CODE_INVALID,
        f"None of the codings provided are in the value set '{value_set}' specified in an additional "
        f"binding ({purpose}), and a coding from this value set is required (codes = {shown})",
        path,
        MessageId.BINDING_ADDITIONAL,
    )


def _language_control(rule: ElementRule, value: Any, path: str, ctx: ValidationContext) -> None:
    div = value.get("div") if isinstance(value, dict) else None
    if not isinstance(div, str):
        return
    sections = language_sections(div)
    if sections is None:
        return
    found = ", ".join(sorted(set(sections)))
    for control in rule.values:
        if control == "_no":
            if sections:
                _narrative_error(
                    ctx,
                    f"The xhtml has some language sections ({found}), but language sections are prohibited "
                    f"in this context by the profile {rule.profile}",
                    path,
                )
        elif control == "_yes":
            if not sections:
                _narrative_error(
                    ctx,
                    "The xhtml has no language sections, but language sections are required in this context "
                    f"by the profile {rule.profile}",
                    path,
                )
        else:
            wanted = control
            if control == "_resource":
                frame = ctx.frame
                language = frame.resource.get("language") if frame is not None else None
                if not isinstance(language, str):
                    continue
                wanted = language
            if wanted not in sections:
                _narrative_error(
                    ctx,
                    f"The xhtml has no language section for '{wanted}' (found: {found or 'none'}), but one "
                    f"is required in this context by the profile {rule.profile}",
                    path,
                )


def _source_control(rule: ElementRule, value: Any, path: str, ctx: ValidationContext) -> None:
    div = value.get("div") if isinstance(value, dict) else None
    if not isinstance(div, str):
        return
    for part in unsourced_parts(div):
        ctx.add(
            LEVELS[rule.values[0]],
            IssueType.BUSINESS_RULE,
            f"The xhtml node at '{part[:60]}' does not have a class attribute to indicate its source "
            "(boilerplate, generated, extension, additional or original) and this is required by the "
            f"profile {rule.profile}",
            path,
            MessageId.NARRATIVE_SOURCE,
        )


def _narrative_error(ctx: ValidationContext, message: str, path: str) -> None:
    ctx.error(IssueType.BUSINESS_RULE, message, path, MessageId.NARRATIVE_LANGUAGE)
