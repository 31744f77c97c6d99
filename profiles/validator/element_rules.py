"""Compiling the rules that profiles state through extensions on ElementDefinition.

The extensions (R5 tooling and extension-pack features) and what they mean are described in
:mod:`profiles.validator.element_extensions`, which applies the compiled rules.  Compiling
happens once per element, with the profile (:mod:`profiles.validator.compiler`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from hub.core.issues import IssueSeverity

_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition."
MIN_LENGTH = "http://hl7.org/fhir/StructureDefinition/minLength"
MUST_HAVE_VALUE = (_R5 + "mustHaveValue", "http://hl7.org/fhir/tools/StructureDefinition/mustHaveValue")
VALUE_ALTERNATIVES = (
    _R5 + "valueAlternatives",
    "http://hl7.org/fhir/tools/StructureDefinition/valueAlternatives",
)
ADDITIONAL_BINDING = (
    _R5 + "binding.additional",
    "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
)
LANGUAGE_CONTROL = "http://hl7.org/fhir/StructureDefinition/narrative-language-control"
SOURCE_CONTROL = "http://hl7.org/fhir/StructureDefinition/narrative-source-control"
# additional binding purposes that make a code outside the value set an error
_BINDING_PURPOSES = frozenset({"required", "maximum"})
LEVELS = {
    "error": IssueSeverity.ERROR,
    "warning": IssueSeverity.WARNING,
    "info": IssueSeverity.INFORMATION,
    "information": IssueSeverity.INFORMATION,
    "hint": IssueSeverity.INFORMATION,
}


class RuleKind(enum.Enum):
    MIN_LENGTH = "minLength"
    MUST_HAVE_VALUE = "mustHaveValue"
    VALUE_ALTERNATIVES = "valueAlternatives"
    ADDITIONAL_BINDING = "additionalBinding"
    LANGUAGE_CONTROL = "narrativeLanguageControl"
    SOURCE_CONTROL = "narrativeSourceControl"


@dataclass(frozen=True, slots=True)
class ElementRule:
    """One extension-stated rule of one element of one profile."""

    kind: RuleKind
    profile: str
    element: str
    values: tuple[str, ...] = ()
    number: int = 0


def extensions_of(holder: Any) -> list[dict[str, Any]]:
    raw = holder.get("extension") if isinstance(holder, dict) else None
    return [e for e in raw or () if isinstance(e, dict) and isinstance(e.get("url"), str)]


def _value(extension: dict[str, Any]) -> Any:
    for key, value in extension.items():
        if key.startswith("value"):
            return value
    return None


def compile_rules(element: dict[str, Any], profile: str, element_id: str) -> tuple[ElementRule, ...]:
    """The extension rules an ElementDefinition states (empty for nearly every element)."""
    extensions = extensions_of(element)
    binding_extensions = extensions_of(element.get("binding"))
    if not extensions and not binding_extensions:
        return ()
    rules: list[ElementRule] = []
    alternatives: list[str] = []
    languages: list[str] = []
    for extension in extensions:
        url, value = extension["url"], _value(extension)
        if url == MIN_LENGTH and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            rules.append(ElementRule(RuleKind.MIN_LENGTH, profile, element_id, number=value))
        elif url in MUST_HAVE_VALUE and value is True:
            rules.append(ElementRule(RuleKind.MUST_HAVE_VALUE, profile, element_id))
        elif url in VALUE_ALTERNATIVES and isinstance(value, str):
            alternatives.append(value)
        elif url == LANGUAGE_CONTROL and isinstance(value, str):
            languages.append(value)
        elif url == SOURCE_CONTROL and isinstance(value, str) and value in LEVELS:
            rules.append(ElementRule(RuleKind.SOURCE_CONTROL, profile, element_id, (value,)))
    if alternatives:
        rules.append(ElementRule(RuleKind.VALUE_ALTERNATIVES, profile, element_id, tuple(alternatives)))
    if languages:
        rules.append(ElementRule(RuleKind.LANGUAGE_CONTROL, profile, element_id, tuple(languages)))
    for extension in binding_extensions:
        if extension["url"] not in ADDITIONAL_BINDING:
            continue
        parts = {p.get("url"): _value(p) for p in extensions_of(extension)}
        purpose, value_set = parts.get("purpose"), parts.get("valueSet")
        if purpose in _BINDING_PURPOSES and isinstance(value_set, str):
            rules.append(ElementRule(RuleKind.ADDITIONAL_BINDING, profile, element_id, (value_set, purpose)))
    return tuple(rules)
