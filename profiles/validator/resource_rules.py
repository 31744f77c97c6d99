"""Rules of particular resource types that no StructureDefinition states, as the HL7 validator applies them.

* Identifier: with system ``urn:ietf:rfc:3986`` the value is a URI
  (https://hl7.org/fhir/R4/datatypes.html#Identifier, the rfc:3986 system);
* CodeSystem: ``content = not-present`` has no concepts; a supplement has ``content = supplement``;
  property codes are unique and concept properties have the declared type
  (https://hl7.org/fhir/R4/codesystem.html);
* ValueSet: :mod:`profiles.validator.value_set_rules`;
* Questionnaire: enableWhen never points at the item's own descendants
  (https://hl7.org/fhir/R4/questionnaire.html#enableWhen);
* StructureDefinition: :mod:`profiles.validator.structure_definition_rules`;
* Measure / MeasureReport: :mod:`profiles.validator.measures`;
* CapabilityStatement: a search parameter has the type of the SearchParameter it names;
* for publication (an option): HL7's own definitions name their work group
  (``structuredefinition-wg``, https://confluence.hl7.org/display/FHIR/Using+the+FHIR+Validator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hub.core.issues import IssueType
from profiles.validator import measures, structure_definition_rules, value_set_rules
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

_PROPERTY_VALUE = {
    "valueCode": "code",
    "valueCoding": "Coding",
    "valueString": "string",
    "valueInteger": "integer",
    "valueBoolean": "boolean",
    "valueDateTime": "dateTime",
    "valueDecimal": "decimal",
}


WG_EXTENSION = "http://hl7.org/fhir/StructureDefinition/structuredefinition-wg"
HL7_NAMESPACES = ("http://hl7.org/fhir/", "http://terminology.hl7.org/")
# R4 resources that are definitions with a canonical url (https://hl7.org/fhir/R4/resource.html#canonical)
CANONICAL_TYPES = frozenset(
    {
        "ActivityDefinition",
        "CapabilityStatement",
        "ChargeItemDefinition",
        "CodeSystem",
        "CompartmentDefinition",
        "ConceptMap",
        "EffectEvidenceSynthesis",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "GraphDefinition",
        "ImplementationGuide",
        "Library",
        "Measure",
        "MessageDefinition",
        "NamingSystem",
        "OperationDefinition",
        "PlanDefinition",
        "Questionnaire",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "RiskEvidenceSynthesis",
        "SearchParameter",
        "StructureDefinition",
        "StructureMap",
        "TerminologyCapabilities",
        "TestScript",
        "ValueSet",
    }
)


def _error(ctx: ValidationContext, message: str, path: str) -> None:
    ctx.error(IssueType.BUSINESS_RULE, message, path, MessageId.RESOURCE_RULE)


def identifiers(value: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    """Called by the walker for every Identifier value."""
    identifier_value = value.get("value")
    if (
        value.get("system") == "urn:ietf:rfc:3986"
        and isinstance(identifier_value, str)
        and ":" not in identifier_value
    ):
        _error(
            ctx,
            "if identifier.system is 'urn:ietf:rfc:3986', then the identifier.value must be a full URI "
            f"(e.g. start with a scheme), not '{identifier_value}'",
            path,
        )


def _code_system(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    content = resource.get("content")
    if content == "not-present" and resource.get("concept"):
        _error(
            ctx,
            "The code system says it has no content present, but concepts are found",
            f"{path}.concept[0]",
        )
    if resource.get("supplements") and content != "supplement":
        _error(ctx, "CodeSystem Supplements SHALL have a content value of 'supplement'", f"{path}.content")
    declared: dict[str, str] = {}
    for index, prop in enumerate(resource.get("property") or ()):
        if not isinstance(prop, dict):
            continue
        code = prop.get("code")
        if code in declared:
            _error(ctx, f"A property is already defined with the code '{code}'", f"{path}.property[{index}]")
        elif isinstance(code, str) and isinstance(prop.get("type"), str):
            declared[code] = prop["type"]
    for concept_path, concept in _concepts(resource.get("concept") or (), f"{path}.concept"):
        for index, prop in enumerate(concept.get("property") or ()):
            if not isinstance(prop, dict):
                continue
            expected = declared.get(str(prop.get("code")))
            actual = next((t for k, t in _PROPERTY_VALUE.items() if k in prop), None)
            if expected and actual and actual != expected:
                _error(
                    ctx,
                    f"The property '{prop.get('code')}' has the invalid type '{actual}', "
                    f"when it is defined to have the type '{expected}'",
                    f"{concept_path}.property[{index}]",
                )


def _concepts(concepts: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, concept in enumerate(concepts):
        if isinstance(concept, dict):
            yield f"{path}[{index}]", concept
            yield from _concepts(concept.get("concept") or (), f"{path}[{index}].concept")


def _questionnaire(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    def walk(items: Any, item_path: str) -> None:
        for index, item in enumerate(items or ()):
            if not isinstance(item, dict):
                continue
            here = f"{item_path}[{index}]"
            inner = set(_link_ids(item.get("item") or ()))
            for condition in item.get("enableWhen") or ():
                if isinstance(condition, dict) and condition.get("question") in inner:
                    _error(
                        ctx,
                        "Questions with an enableWhen cannot refer to an inner question for its "
                        "enableWhen condition",
                        here,
                    )
            walk(item.get("item"), f"{here}.item")

    walk(resource.get("item"), f"{path}.item")


def _link_ids(items: Any) -> Iterator[str]:
    for item in items:
        if isinstance(item, dict):
            if isinstance(item.get("linkId"), str):
                yield item["linkId"]
            yield from _link_ids(item.get("item") or ())


def _capability_statement(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    for r_index, rest in enumerate(resource.get("rest") or ()):
        for s_index, spec in enumerate((rest or {}).get("resource") or ()):
            for p_index, param in enumerate((spec or {}).get("searchParam") or ()):
                if not isinstance(param, dict) or not isinstance(param.get("definition"), str):
                    continue
                definition = ctx.services.registry.resolve(param["definition"])
                if definition is not None and definition.get("type") != param.get("type"):
                    _error(
                        ctx,
                        f"Type mismatch - SearchParameter '{param['definition']}' type is "
                        f"{definition.get('type')}, but type here is {param.get('type')}",
                        f"{path}.rest[{r_index}].resource[{s_index}].searchParam[{p_index}]",
                    )


RULES: dict[str, Callable[[dict[str, Any], str, ValidationContext], None]] = {
    "CodeSystem": _code_system,
    "ValueSet": value_set_rules.check,
    "Questionnaire": _questionnaire,
    "CapabilityStatement": _capability_statement,
    "Measure": measures.check_measure,
    "StructureDefinition": structure_definition_rules.check,
    "MeasureReport": measures.check_report,
}


def _hl7_work_group(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    """For publication, an HL7 definition names its owning work group (``structuredefinition-wg``)."""
    url = resource.get("url")
    if not isinstance(url, str) or not url.startswith(HL7_NAMESPACES):
        return
    if any(isinstance(e, dict) and e.get("url") == WG_EXTENSION for e in resource.get("extension") or ()):
        return
    ctx.error(
        IssueType.BUSINESS_RULE,
        f"When HL7 is publishing a resource, the owning committee must be stated using the {WG_EXTENSION} "
        "extension",
        path,
        MessageId.PUBLICATION_WG,
    )


def check(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    resource_type = str(resource.get("resourceType"))
    if ctx.options.for_publication and resource_type in CANONICAL_TYPES:
        _hl7_work_group(resource, path, ctx)
    rule = RULES.get(resource_type)
    if rule is not None:
        rule(resource, path, ctx)
