"""DK PHMR measurement rules: organizer and observation templates, NPU/MCS/MDC codes, PQ values with UCUM
units, the two measurement-context methodCodes and the measurement time inside the service period.

PHMR-DK 1.3 / FUT (DANISH-STANDARDS §1.4): ``organizer classCode=CLUSTER`` (templateId
2.16.840.1.113883.10.20.1.35, statusCode completed | nullified) holding ``observation classCode=OBS``
(templateIds 2.16.840.1.113883.10.20.1.31 and .10.20.9.8); code NPU ``1.2.208.176.2.1``, MCS
``1.2.208.184.100.8`` or MDC ``2.16.840.1.113883.6.24`` directly or as translation; ``value xsi:type=PQ``;
exactly two ``methodCode`` from MedCom Message Codes ``1.2.208.184.100.1``: one performer code
(POT, PNT) and one provision code (AUT, TPD) - verified pairs POT+AUT, POT+TPD.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.core.issues import IssueType
from profiles.cda.phmr_content import Measurement
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.ucum import UcumProblem, check_ucum
from profiles.cda.vocabulary import (
    MeasurementStatus,
    Oid,
    PerformerContext,
    ProvisionContext,
    TemplateId,
    hl7_tag,
)

ORGANIZER = PhmrRule(
    "TH-PHMR-MEAS-1",
    ERROR,
    "A measurement SHALL sit in an organizer classCode CLUSTER moodCode EVN with templateId "
    "2.16.840.1.113883.10.20.1.35.",
    IssueType.STRUCTURE,
)
STATUS = PhmrRule(
    "TH-PHMR-MEAS-2",
    ERROR,
    "organizer/statusCode SHALL be 'completed' or 'nullified'.",
    IssueType.CODE_INVALID,
)
OBSERVATION = PhmrRule(
    "TH-PHMR-MEAS-3",
    ERROR,
    "A measurement SHALL be an observation classCode OBS moodCode EVN with templateIds "
    "2.16.840.1.113883.10.20.1.31 "
    "and 2.16.840.1.113883.10.20.9.8.",
    IssueType.STRUCTURE,
)
OBSERVATION_ID = PhmrRule(
    "TH-PHMR-MEAS-4",
    WARNING,
    "A measurement SHOULD have an id (root and extension); it keys the FHIR Observation identifier.",
    IssueType.REQUIRED,
)
CODE = PhmrRule(
    "TH-PHMR-MEAS-5",
    ERROR,
    "The observation code SHALL be NPU (1.2.208.176.2.1), MCS (1.2.208.184.100.8) or MDC "
    "(2.16.840.1.113883.6.24), "
    "directly or as a translation.",
    IssueType.CODE_INVALID,
)
VALUE = PhmrRule(
    "TH-PHMR-MEAS-6",
    ERROR,
    "The value SHALL be xsi:type PQ with a decimal @value and a @unit.",
    IssueType.VALUE,
)
UNIT_SYNTAX = PhmrRule(
    "TH-PHMR-MEAS-7", ERROR, "The unit SHALL be a well-formed UCUM expression.", IssueType.VALUE
)
UNIT_KNOWN = PhmrRule(
    "TH-PHMR-MEAS-8",
    WARNING,
    "The unit uses an atom outside telehub's UCUM table (e.g. FUT's 'NA').",
    IssueType.VALUE,
)
CONTEXT = PhmrRule(
    "TH-PHMR-MEAS-9",
    ERROR,
    "A measurement SHALL have exactly two methodCodes from 1.2.208.184.100.1: one performer code (POT, PNT) "
    "and one provision code (AUT, TPD).",
    IssueType.CODE_INVALID,
)
CONTEXT_UNVERIFIED = PhmrRule(
    "TH-PHMR-MEAS-10",
    WARNING,
    "A context code that MedCom's published examples do not show (PCG, TPR, TPH, TPC) was accepted.",
    IssueType.CODE_INVALID,
)
TIME = PhmrRule(
    "TH-PHMR-MEAS-11",
    ERROR,
    "The measurement time (organizer or observation effectiveTime) SHALL be a TS with time and timezone.",
    IssueType.VALUE,
)
IN_PERIOD = PhmrRule(
    "TH-PHMR-MEAS-12",
    ERROR,
    "The measurement time SHALL lie within the documentationOf/serviceEvent period (low..high, inclusive).",
    IssueType.BUSINESS_RULE,
)
UNIQUE_ID = PhmrRule(
    "TH-PHMR-MEAS-13", ERROR, "Measurement ids SHALL be unique within the document.", IssueType.DUPLICATE
)

RULES = (
    ORGANIZER,
    STATUS,
    OBSERVATION,
    OBSERVATION_ID,
    CODE,
    VALUE,
    UNIT_SYNTAX,
    UNIT_KNOWN,
    CONTEXT,
    CONTEXT_UNVERIFIED,
    TIME,
    IN_PERIOD,
    UNIQUE_ID,
)

_STATUSES = {status.value for status in MeasurementStatus}
_PERFORMERS = {code.value for code in PerformerContext}
_PROVISIONS = {code.value for code in ProvisionContext}
_VERIFIED = {code.value for code in PerformerContext if code.verified} | {
    code.value for code in ProvisionContext if code.verified
}
_OBSERVATION_TEMPLATES = (TemplateId.RESULT_OBSERVATION.value, TemplateId.NUMERIC_OBSERVATION.value)
_RESULT_ORGANIZER = TemplateId.RESULT_ORGANIZER.value
_MESSAGE_CODES = Oid.MEDCOM_MESSAGE_CODES.value
_NPU_OBSOLETE = Oid.NPU_OBSOLETE.value
_MESSAGE_CODES_OBSOLETE = Oid.MEDCOM_MESSAGE_CODES_OBSOLETE.value
_STATUS_TAG, _ID_TAG, _CODE_TAG = hl7_tag("statusCode"), hl7_tag("id"), hl7_tag("code")
_VALUE_TAG, _METHOD_TAG = hl7_tag("value"), hl7_tag("methodCode")
_NOT_NUMBERS = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity", "snan"}

# The checks below run for every measurement of every document, so the passing path only reads the
# values phmr_content collected; elements for a location are looked up only when a check fails.


def _check_structure(m: Measurement, out: Findings) -> None:
    organizer = m.organizer
    if organizer is None:
        out.add(ORGANIZER, "observation is not inside a result organizer", m.observation)
    else:
        if (
            _RESULT_ORGANIZER not in m.organizer_templates
            or organizer.get("classCode") != "CLUSTER"
            or organizer.get("moodCode") != "EVN"
        ):
            out.add(
                ORGANIZER,
                "organizer needs classCode CLUSTER, moodCode EVN, templateId 2.16.840.1.113883.10.20.1.35",
                organizer,
            )
        if m.status not in _STATUSES:
            out.add(
                STATUS,
                f"organizer statusCode is {m.status or None!r}",
                organizer.find(_STATUS_TAG),
                organizer,
            )
    obs = m.observation
    missing = [t for t in _OBSERVATION_TEMPLATES if t not in m.observation_templates]
    if missing or obs.get("classCode") != "OBS" or obs.get("moodCode") != "EVN":
        detail = f"lacks templateId {', '.join(missing)}" if missing else "needs classCode OBS moodCode EVN"
        out.add(OBSERVATION, f"observation {detail}", obs)
    if m.entry_id is None or not m.entry_id[0] or not m.entry_id[1]:
        out.add(OBSERVATION_ID, "observation has no id with root and extension", obs.find(_ID_TAG), obs)


def _check_code_and_value(m: Measurement, out: Findings) -> None:
    obs = m.observation
    if m.code is None:
        found = ", ".join(f"{c.code}/{c.system}" for c in m.codes) or "no code"
        obsolete = any(c.system == _NPU_OBSOLETE for c in m.codes)
        hint = " (2.16.840.1.113883.3.4208.100.1 is the withdrawn NPU OID)" if obsolete else ""
        out.add(CODE, f"observation is coded {found}{hint}", obs.find(_CODE_TAG), obs)
    if m.value_type != "PQ" or m.value is None or m.unit is None:
        message = f"value is xsi:type {m.value_type!r} value {m.value!r} unit {m.unit!r}"
        out.add(VALUE, message, obs.find(_VALUE_TAG), obs)
        return
    try:
        Decimal(m.value)
        numeric = m.value.strip() == m.value and m.value.lower() not in _NOT_NUMBERS
    except InvalidOperation:
        numeric = False
    if not numeric:
        out.add(VALUE, f"value/@value {m.value!r} is not a decimal", obs.find(_VALUE_TAG))
    problem = check_ucum(m.unit)
    if problem is UcumProblem.SYNTAX:
        out.add(UNIT_SYNTAX, f"unit {m.unit!r} is not a UCUM expression", obs.find(_VALUE_TAG))
    elif problem is UcumProblem.UNKNOWN_ATOM:
        out.add(UNIT_KNOWN, f"unit {m.unit!r} is not a known UCUM unit", obs.find(_VALUE_TAG))


def _check_context(m: Measurement, out: Findings) -> None:
    methods = m.method_codes
    if len(methods) == 2 and methods[0].system == _MESSAGE_CODES and methods[1].system == _MESSAGE_CODES:
        first, second = methods[0].code, methods[1].code
        if (first in _PERFORMERS and second in _PROVISIONS) or (
            first in _PROVISIONS and second in _PERFORMERS
        ):
            unverified = [code for code in (first, second) if code not in _VERIFIED]
            if unverified:
                message = f"context code {', '.join(unverified)} is not in MedCom's examples"
                out.add(CONTEXT_UNVERIFIED, message, m.observation.find(_METHOD_TAG))
            return
    found = ", ".join(f"{c.code}/{c.system}" for c in methods) or "no methodCode"
    obsolete = any(c.system == _MESSAGE_CODES_OBSOLETE for c in methods)
    hint = " (2.16.840.1.113883.3.4208.100.6 is the withdrawn OID)" if obsolete else ""
    out.add(CONTEXT, f"measurement context is {found}{hint}", m.observation.find(_METHOD_TAG), m.observation)


def _check_time(m: Measurement, doc: RuleInput, out: Findings) -> None:
    where = m.organizer if m.organizer is not None else m.observation
    if m.time is None or not m.time.has_time or not m.time.has_timezone:
        out.add(TIME, f"measurement time {m.time_raw!r} is missing or lacks time/timezone", where)
        return
    start, stop = doc.content.service_start, doc.content.service_stop
    if start is None or stop is None or not (start.has_timezone and stop.has_timezone):
        return  # TH-PHMR-SE-1/2 already report the period
    if not start.instant <= m.time.instant <= stop.instant:
        message = f"measurement time {m.time.raw} is outside the service period {start.raw}..{stop.raw}"
        out.add(IN_PERIOD, message, where)


def check(doc: RuleInput, out: Findings) -> None:
    seen: set[tuple[str, str | None]] = set()
    for measurement in doc.content.measurements:
        _check_structure(measurement, out)
        _check_code_and_value(measurement, out)
        _check_context(measurement, out)
        _check_time(measurement, doc, out)
        if measurement.entry_id is not None and measurement.entry_id[1]:
            if measurement.entry_id in seen:
                out.add(
                    UNIQUE_ID,
                    f"measurement id {measurement.entry_id[0]}^{measurement.entry_id[1]} is repeated",
                    measurement.observation,
                )
            seen.add(measurement.entry_id)


__all__ = ["RULES", "check"]
