"""Measure and MeasureReport rules that no StructureDefinition states, as the HL7 validator applies them.

See https://hl7.org/fhir/R4/measure.html and https://hl7.org/fhir/R4/measurereport.html:

* Measure: a CQL stratifier criterion (``text/cql``, ``text/cql.identifier``) names a definition
  ``[Library.]Name`` of one of the measure's libraries; when the library carries its ELM
  (``application/elm+xml``), the definition must be one of its ``statements``;
* MeasureReport: the groups and populations of the report are the measure's (matched by code;
  a single group or population may go without one), and ``measureScore`` follows the measure's
  scoring (none for ``cohort``; a unitless 0..1 for ``proportion``; a value for ``ratio`` and
  ``continuous-variable``) - https://hl7.org/fhir/R4/measurereport.html#scoring.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.core.errors import HubError
from hub.core.issues import IssueSeverity, IssueType
from hub.core.xml_safety import parse_xml
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

ELM_NS = "urn:hl7-org:elm:r1"
CQL_LANGUAGES = frozenset({"text/cql", "text/cql.identifier"})
SCORINGS = frozenset({"proportion", "ratio", "continuous-variable", "cohort"})
MEASURE_OBSERVATION = ("http://terminology.hl7.org/CodeSystem/measure-population", "measure-observation")


def _rule(
    ctx: ValidationContext, message: str, path: str, severity: IssueSeverity = IssueSeverity.ERROR
) -> None:
    ctx.add(severity, IssueType.BUSINESS_RULE, message, path, MessageId.MEASURE)


# -- Measure -------------------------------------------------------------------------------
def check_measure(measure: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    libraries: list[dict[str, Any]] = []
    named = [ref for ref in measure.get("library") or () if isinstance(ref, str)]
    for index, ref in enumerate(measure.get("library") or ()):
        if not isinstance(ref, str):
            continue
        library = ctx.services.registry.resolve(ref)
        if library is None or library.get("resourceType") != "Library":
            _rule(
                ctx,
                f"The library {ref} could not be found",
                f"{path}.library[{index}]",
                IssueSeverity.INFORMATION,
            )
        else:
            libraries.append(library)
    groups = [g for g in measure.get("group") or () if isinstance(g, dict)]
    if not groups:
        _rule(ctx, "The measure has no groups", path, IssueSeverity.WARNING)
    for g_index, group in enumerate(groups):
        group_path = f"{path}.group[{g_index}]"
        if len(groups) > 1 and not group.get("code"):
            _rule(
                ctx,
                "A measure with several groups should give each a code",
                group_path,
                IssueSeverity.WARNING,
            )
        # stratifier criteria, as the HL7 validator checks them (official R4 examples leave the
        # population criteria's libraries out)
        for kind in ("stratifier",):
            for index, item in enumerate(group.get(kind) or ()):
                if not isinstance(item, dict):
                    continue
                item_path = f"{group_path}.{kind}[{index}]"
                if libraries or not named:  # named libraries that are not loaded: nothing to check against
                    _criteria(item.get("criteria"), libraries, f"{item_path}.criteria", ctx)
                for c_index, component in enumerate(item.get("component") or ()):
                    if isinstance(component, dict) and (libraries or not named):
                        _criteria(
                            component.get("criteria"),
                            libraries,
                            f"{item_path}.component[{c_index}].criteria",
                            ctx,
                        )


def _criteria(criteria: Any, libraries: list[dict[str, Any]], path: str, ctx: ValidationContext) -> None:
    if not isinstance(criteria, dict) or criteria.get("language") not in CQL_LANGUAGES:
        return
    expression = criteria.get("expression")
    if not isinstance(expression, str) or not expression:
        return
    if not libraries:
        _rule(ctx, "A CQL criterion needs the measure to name a library", path)
        return
    name, _, definition = expression.rpartition(".")
    if name:
        matches = [lib for lib in libraries if lib.get("name") == name]
        if not matches:
            _rule(ctx, f"No library named '{name}' is known for the CQL expression {expression}", path)
            return
        if len(matches) > 1:
            _rule(ctx, f"More than one library is named '{name}'", path)
            return
        library = matches[0]
    elif len(libraries) == 1:
        library = libraries[0]
    else:
        _rule(
            ctx,
            f"The CQL expression {expression} does not say which of the measure's libraries it uses",
            path,
        )
        return
    statements = _elm_statements(library)
    url = library.get("url", "")
    if isinstance(statements, str):
        _rule(ctx, f"The ELM of library {url} cannot be read: {statements}", path)
    elif statements is not None and definition not in statements:
        _rule(ctx, f"The function {definition} does not exist in the library {url}", path)


def _elm_statements(library: dict[str, Any]) -> set[str] | str | None:
    """Names of the library's ELM statements; None without ELM, an explanation when it is unreadable."""
    for content in library.get("content") or ():
        if not isinstance(content, dict) or content.get("contentType") != "application/elm+xml":
            continue
        try:
            root = parse_xml(base64.b64decode(str(content.get("data", "")), validate=True))
        except (binascii.Error, ValueError) as exc:
            return f"the base64 data is invalid ({exc})"
        except HubError as exc:
            return exc.message
        if root.tag != f"{{{ELM_NS}}}library":
            return "the root element is not an ELM library"
        names: set[str] = set()
        for statements in root.iterchildren(f"{{{ELM_NS}}}statements"):
            names.update(
                str(d.get("name")) for d in statements.iterchildren(f"{{{ELM_NS}}}def") if d.get("name")
            )
        return names
    return None


# -- MeasureReport -------------------------------------------------------------------------
def check_report(report: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    ref = report.get("measure")
    if not isinstance(ref, str) or not ref:
        return
    measure = _measure(report, ref, ctx)
    if measure is None:
        _rule(
            ctx,
            f"The measure {ref} could not be found, so the report cannot be checked against it",
            f"{path}.measure",
            IssueSeverity.WARNING,
        )
        return
    scoring = _first_code(measure.get("scoring"))
    if scoring not in SCORINGS:
        _rule(
            ctx,
            "The scoring system in this measure is unknown, so the measureScore values cannot be checked",
            f"{path}.measure",
            IssueSeverity.INFORMATION,
        )
    measure_groups = [g for g in measure.get("group") or () if isinstance(g, dict)]
    if not measure_groups:
        return
    report_groups = [g for g in report.get("group") or () if isinstance(g, dict)]
    data_collection = report.get("type") == "data-collection"
    if len(report_groups) == 1 and len(measure_groups) == 1:
        group, defined = report_groups[0], measure_groups[0]
        if defined.get("code") and group.get("code") and not _same_code(group["code"], defined["code"]):
            _rule(ctx, "The group code does not match the code of the measure's group", f"{path}.group[0]")
        _group(group, defined, scoring, data_collection, f"{path}.group[0]", ctx)
        return
    matched = _match(report_groups, measure_groups, "group", f"{path}.group", ctx)
    for index, position in matched.items():
        _group(
            report_groups[index],
            measure_groups[position],
            scoring,
            data_collection,
            f"{path}.group[{index}]",
            ctx,
        )
    if not data_collection:
        for position, defined in enumerate(measure_groups):
            if position not in matched.values():
                _rule(
                    ctx,
                    f"The MeasureReport does not include a group for the group with code "
                    f"'{_display(defined.get('code'))}'",
                    path,
                )


def _match(
    reported: list[dict[str, Any]],
    defined: list[dict[str, Any]],
    noun: str,
    path: str,
    ctx: ValidationContext,
) -> dict[int, int]:
    """Reported items (groups, populations) matched to the measure's by code: index -> position."""
    matched: dict[int, int] = {}
    for index, item in enumerate(reported):
        item_path = f"{path}[{index}]"
        if not item.get("code"):
            _rule(
                ctx,
                f"The {noun} should have a code that matches the {noun} definition in the measure",
                item_path,
            )
            continue
        position = _by_code(item["code"], defined)
        if position is None:
            _rule(ctx, f"The {noun} code does not match any {noun} of the measure", item_path)
        elif position in matched.values():
            _rule(ctx, f"The measure's {noun} is reported more than once", item_path)
        else:
            matched[index] = position
    return matched


def _group(
    group: dict[str, Any],
    defined: dict[str, Any],
    scoring: str | None,
    data_collection: bool,
    path: str,
    ctx: ValidationContext,
) -> None:
    populations = [p for p in defined.get("population") or () if isinstance(p, dict)]
    reported = [p for p in group.get("population") or () if isinstance(p, dict)]
    used = set(_match(reported, populations, "population", f"{path}.population", ctx).values())
    for position, defined_population in enumerate(populations):
        code = defined_population.get("code")
        if position not in used and not _has_coding(code, MEASURE_OBSERVATION):
            _rule(
                ctx,
                f"The group does not include a population for the population with code '{_display(code)}'",
                path,
            )
    _score(group.get("measureScore"), scoring, data_collection, path, ctx)


def _score(score: Any, scoring: str | None, data_collection: bool, path: str, ctx: ValidationContext) -> None:
    score_path = f"{path}.measureScore"
    if data_collection or scoring == "cohort":
        if score is not None:
            reason = (
                "the report type is 'data-collection'"
                if data_collection
                else "the scoring of the measure is 'cohort'"
            )
            _rule(ctx, f"No measureScore when {reason}", score_path)
        return
    if scoring not in ("proportion", "ratio", "continuous-variable"):
        return
    if not isinstance(score, dict):
        _rule(ctx, f"A measureScore is required when the scoring is '{scoring}'", path)
        return
    value = score.get("value")
    if value is None:
        _rule(ctx, f"A measureScore value is required when the scoring is '{scoring}'", score_path)
        return
    if scoring == "proportion":
        for unit in ("unit", "system", "code"):
            if unit in score:
                _rule(
                    ctx,
                    f"A measureScore has no {unit} when the scoring is 'proportion'",
                    f"{score_path}.{unit}",
                )
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return  # reported as a bad decimal already
        if not Decimal(0) <= number <= Decimal(1):
            _rule(ctx, "A proportion measureScore is a value from 0 to 1", f"{score_path}.value")


def _measure(report: dict[str, Any], ref: str, ctx: ValidationContext) -> dict[str, Any] | None:
    if ref.startswith("#"):
        for contained in report.get("contained") or ():
            if isinstance(contained, dict) and contained.get("id") == ref[1:]:
                return contained if contained.get("resourceType") == "Measure" else None
        return None
    found = ctx.services.registry.resolve(ref)
    return found if found is not None and found.get("resourceType") == "Measure" else None


def _codings(concept: Any) -> list[tuple[Any, Any]]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [(c.get("system"), c.get("code")) for c in codings or () if isinstance(c, dict)]


def _first_code(concept: Any) -> str | None:
    for _, code in _codings(concept):
        if isinstance(code, str):
            return code
    return None


def _has_coding(concept: Any, coding: tuple[str, str]) -> bool:
    return coding in _codings(concept)


def _same_code(one: Any, other: Any) -> bool:
    if set(_codings(one)) & set(_codings(other)):
        return True
    text = one.get("text") if isinstance(one, dict) else None
    return bool(text) and text == (other.get("text") if isinstance(other, dict) else None)


def _by_code(concept: Any, candidates: list[dict[str, Any]]) -> int | None:
    for position, candidate in enumerate(candidates):
        if candidate.get("code") and _same_code(concept, candidate["code"]):
            return position
    return None


def _display(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    text = concept.get("text")
    if isinstance(text, str):
        return text
    return ", ".join(f"{s}#{c}" for s, c in _codings(concept))
