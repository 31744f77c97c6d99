"""Authoring rules of ValueSets that no StructureDefinition states, as the HL7 validator applies them.

* ``compose.include.system`` is an absolute URI (https://hl7.org/fhir/R4/valueset.html#compositions);
* a filter on a CodeSystem property of type ``Coding`` gives its value as ``system(|version)#code``
  (https://hl7.org/fhir/R4/valueset-definitions.html#ValueSet.compose.include.filter.value);
* ValueSet parameters (``http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter``,
  https://build.fhir.org/ig/HL7/fhir-extensions/StructureDefinition-valueset-parameter.html): a
  filter value computed by a ``cqf-expression`` is FHIRPath, and uses only declared parameters
  (``%name``); a declared parameter that nothing uses is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hub.core.issues import IssueType
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

PARAMETER_EXT = "http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter"
EXPRESSION_EXT = "http://hl7.org/fhir/StructureDefinition/cqf-expression"
_CODING_VALUE = re.compile(r"[^\s#|]+(\|[^\s#]+)?#\S+")
_VARIABLE = re.compile(r"%([A-Za-z][A-Za-z0-9_\-]*)")
# FHIRPath environment variables (https://hl7.org/fhir/R4/fhirpath.html#variables): not parameters
_ENVIRONMENT = frozenset({"resource", "rootResource", "context", "ucum", "sct", "loinc", "terminologies"})


def _error(ctx: ValidationContext, message: str, path: str) -> None:
    ctx.error(IssueType.BUSINESS_RULE, message, path, MessageId.VALUE_SET_RULE)


def check(resource: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    declared = dict(_parameters(resource, path))
    used: set[str] = set()
    for index, include in _includes(resource):
        include_path = f"{path}.compose.include[{index}]"
        system = include.get("system")
        if isinstance(system, str) and (":" not in system or system.startswith("#")):
            _error(
                ctx,
                "URI values in ValueSet.compose.include.system must be absolute (to use a contained code "
                f"system, give its full CodeSystem URL), not '{system}'",
                include_path,
            )
            continue
        properties = _property_types(system, ctx) if isinstance(system, str) else {}
        for f_index, condition in enumerate(include.get("filter") or ()):
            if not isinstance(condition, dict):
                continue
            filter_path = f"{include_path}.filter[{f_index}]"
            value = condition.get("value")
            prop = condition.get("property")
            if (
                isinstance(value, str)
                and condition.get("op") == "="
                and properties.get(str(prop)) == "Coding"
                and not _CODING_VALUE.fullmatch(value)
            ):
                _error(
                    ctx,
                    f"The value for a filter based on property '{prop}' must be in the format "
                    f"system(|version)#code, not '{value}'",
                    filter_path,
                )
            used |= _expression_parameters(condition.get("_value"), declared, filter_path, ctx)
    for name, parameter_path in declared.items():
        if name not in used:
            ctx.warning(
                IssueType.BUSINESS_RULE,
                f"The value set parameter '{name}' is not used",
                parameter_path,
                MessageId.VALUE_SET_RULE,
            )


def _includes(resource: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    compose = resource.get("compose")
    for index, include in enumerate((compose.get("include") if isinstance(compose, dict) else None) or ()):
        if isinstance(include, dict):
            yield index, include


def _parameters(resource: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    for index, extension in enumerate(resource.get("extension") or ()):
        if not isinstance(extension, dict) or extension.get("url") != PARAMETER_EXT:
            continue
        for part in extension.get("extension") or ():
            if (
                isinstance(part, dict)
                and part.get("url") == "name"
                and isinstance(part.get("valueCode"), str)
            ):
                yield part["valueCode"], f"{path}.extension[{index}]"


def _property_types(system: str, ctx: ValidationContext) -> dict[str, str]:
    code_system = ctx.services.registry.resolve(system)
    if code_system is None or code_system.get("resourceType") != "CodeSystem":
        return {}
    return {
        str(p.get("code")): str(p.get("type"))
        for p in code_system.get("property") or ()
        if isinstance(p, dict) and isinstance(p.get("code"), str)
    }


def _expression_parameters(
    value_element: Any, declared: dict[str, str], path: str, ctx: ValidationContext
) -> set[str]:
    """Parameters a filter value's ``cqf-expression`` uses; its language and names are checked."""
    used: set[str] = set()
    extensions = value_element.get("extension") if isinstance(value_element, dict) else None
    for index, extension in enumerate(extensions or ()):
        if not isinstance(extension, dict) or extension.get("url") != EXPRESSION_EXT:
            continue
        expression = extension.get("valueExpression")
        if not isinstance(expression, dict):
            continue
        expression_path = f"{path}.extension[{index}].value.ofType(Expression)"
        language = expression.get("language")
        if language != "text/fhirpath":
            _error(
                ctx,
                f"A ValueSet expression language must be 'text/fhirpath' not '{language}'",
                expression_path,
            )
        text = expression.get("expression")
        for name in _VARIABLE.findall(text if isinstance(text, str) else ""):
            if name in _ENVIRONMENT or name.startswith(("vs-", "ext-")):
                continue
            used.add(name)
            if name not in declared:
                _error(
                    ctx,
                    f"The filter parameter expression '%{name}' refers to the unknown parameter '{name}'",
                    expression_path,
                )
    return used
