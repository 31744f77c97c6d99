"""The team's DK PHMR rule set (PHMR-DK 1.3 and 2.x), written in Python with compiled XPath.

One module per area - header, record_target, participants, service_event, sections, measurements,
devices, reference_ranges - each exporting ``RULES`` (the catalogue) and ``check``.  Rule ids follow
MedCom's ``CONF-PHMR-DK-n`` where PHMR-DK 1.3 numbers the rule, else telehub's ``TH-PHMR-<AREA>-n``.
"""

from __future__ import annotations

from lxml import etree

from hub.core.issues import Issue
from profiles.cda.document_type import DetectedDocument, detect_document_type
from profiles.cda.phmr_content import PhmrContent, read_phmr
from profiles.cda.phmr_rules import (
    devices,
    header,
    measurements,
    participants,
    record_target,
    reference_ranges,
    sections,
    service_event,
)
from profiles.cda.phmr_rules.rule import Findings, PhmrRule, RuleInput

_MODULES = (
    header,
    record_target,
    participants,
    service_event,
    sections,
    measurements,
    devices,
    reference_ranges,
)

PHMR_RULES: tuple[PhmrRule, ...] = tuple(rule for module in _MODULES for rule in module.RULES)
"""Every rule of the set, in report order (documented in README, checked for unique ids by the tests)."""


def run_phmr_rules(
    root: etree._Element,
    raw: bytes,
    *,
    detected: DetectedDocument | None = None,
    content: PhmrContent | None = None,
) -> list[Issue]:
    """Run every DK PHMR rule on a parsed PHMR and return all findings (never stops at the first)."""
    document = RuleInput(
        root=root,
        raw=raw,
        detected=detected or detect_document_type(root),
        content=content or read_phmr(root),
    )
    findings = Findings()
    for module in _MODULES:
        module.check(document, findings)
    return findings.issues


__all__ = ["PHMR_RULES", "PhmrRule", "run_phmr_rules"]
