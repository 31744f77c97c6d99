"""DK PHMR documentationOf/serviceEvent rules: the monitoring period, the measured-quantity event codes
(CONF-PHMR-DK-35, PHMR-DK 1.2+) and the optional profile-version marker (DANISH-STANDARDS §1.2).
"""

from __future__ import annotations

import re

from lxml import etree

from hub.core.issues import IssueType
from profiles.cda.phmr_content import select
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.vocabulary import NAMESPACES, MeasurementCodeSystem, Oid, TemplateId, hl7_tag

PERIOD = PhmrRule(
    "TH-PHMR-SE-1",
    ERROR,
    "documentationOf/serviceEvent with classCode MPROT SHALL give the monitoring period as "
    "effectiveTime low and high.",
    IssueType.REQUIRED,
)
PERIOD_VALUES = PhmrRule(
    "TH-PHMR-SE-2",
    ERROR,
    "serviceEvent effectiveTime low/high SHALL be TS values with timezone offsets, and low SHALL NOT "
    "be after high.",
    IssueType.VALUE,
)
EVENT_CODES = PhmrRule(
    "CONF-PHMR-DK-35",
    WARNING,
    "Each measured quantity SHOULD be listed as a documentationOf/serviceEvent/code (the XDS eventCodeList), "
    "coded in NPU, MCS or MDC.",
)
VERSION_MARKER = PhmrRule(
    "TH-PHMR-SE-3",
    ERROR,
    "A profile-version serviceEvent (templateId 1.2.208.184.200.1.10) SHALL carry id root 1.2.208.184.100.3 "
    "with an extension such as 'phmr-v1.3'.",
)

RULES = (PERIOD, PERIOD_VALUES, EVENT_CODES, VERSION_MARKER)

_EVENTS = etree.XPath("h:documentationOf/h:serviceEvent", namespaces=NAMESPACES)
_MARKER_ID = re.compile(r"^phmr-v\d+(\.\d+)*$")
_CODE_SYSTEMS = {system.value for system in MeasurementCodeSystem}


def _check_period(doc: RuleInput, out: Findings) -> None:
    content = doc.content
    event = content.service_event
    if event is None:
        out.add(PERIOD, "no documentationOf/serviceEvent has effectiveTime low/high", doc.root)
        return
    if event.get("classCode") != "MPROT":
        out.add(PERIOD, f"serviceEvent/@classCode is {event.get('classCode')!r}, expected 'MPROT'", event)
    period = event.find(hl7_tag("effectiveTime"))
    for name, parsed in (("low", content.service_start), ("high", content.service_stop)):
        bound = period.find(hl7_tag(name)) if period is not None else None
        if parsed is None or not parsed.has_timezone:
            raw = bound.get("value") if bound is not None else None
            out.add(
                PERIOD_VALUES,
                f"serviceEvent effectiveTime/{name} {raw!r} is missing or lacks a timezone",
                bound,
                event,
            )
    start, stop = content.service_start, content.service_stop
    if start and stop and start.has_timezone and stop.has_timezone and start.comparable() > stop.comparable():
        out.add(PERIOD_VALUES, f"serviceEvent low {start.raw} is after high {stop.raw}", period, event)


def _check_event_codes(doc: RuleInput, events: list[etree._Element], out: Findings) -> None:
    listed: set[tuple[str, str]] = set()
    for event in events:
        code = event.find(hl7_tag("code"))
        if code is None or not code.get("code"):
            continue
        if code.get("codeSystem") not in _CODE_SYSTEMS:
            out.add(
                EVENT_CODES,
                f"serviceEvent code {code.get('code')!r} has codeSystem {code.get('codeSystem')!r}, "
                "not NPU/MCS/MDC",
                code,
            )
        listed.add((code.get("code", ""), code.get("codeSystem", "")))
    missing: dict[tuple[str, str], etree._Element] = {}
    for measurement in doc.content.measurements:
        if measurement.code and (measurement.code.code, measurement.code.system) not in listed:
            missing.setdefault((measurement.code.code, measurement.code.system), measurement.observation)
    for (code_value, system), observation in missing.items():
        out.add(
            EVENT_CODES,
            f"measured code {code_value!r} ({system}) has no documentationOf/serviceEvent/code",
            observation,
        )


def _check_marker(events: list[etree._Element], out: Findings) -> None:
    for event in events:
        if not any(
            t.get("root") == TemplateId.PROFILE_VERSION_MARKER.value
            for t in event.iterchildren(hl7_tag("templateId"))
        ):
            continue
        ids = [
            i for i in event.iterchildren(hl7_tag("id")) if i.get("root") == Oid.MEDCOM_INSTRUMENT_CODES.value
        ]
        if not ids or not _MARKER_ID.match(ids[0].get("extension", "")):
            found = repr(ids[0].get("extension")) if ids else "no id with root 1.2.208.184.100.3"
            out.add(VERSION_MARKER, f"profile-version marker has {found}", *ids, event)


def check(doc: RuleInput, out: Findings) -> None:
    events = select(_EVENTS, doc.root)
    _check_period(doc, out)
    _check_event_codes(doc, events, out)
    _check_marker(events, out)


__all__ = ["RULES", "check"]
