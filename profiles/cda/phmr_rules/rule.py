"""The shape of a DK PHMR rule and the collector that turns rule failures into :class:`Issue` values.

A rule has a stable id (MedCom's ``CONF-PHMR-DK-n`` where PHMR-DK 1.3 numbers it, otherwise telehub's own
``TH-PHMR-<AREA>-n``), one severity and a one-line summary.  Every message starts with the rule id, and
the issue carries the id as ``message_id``, the element's line and a readable location.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.xml_safety import source_line
from profiles.cda.document_type import DetectedDocument
from profiles.cda.locations import element_path
from profiles.cda.phmr_content import PhmrContent


@dataclass(frozen=True, slots=True)
class PhmrRule:
    """One documented rule of the DK PHMR rule set."""

    rule_id: str
    severity: IssueSeverity
    summary: str
    issue_type: IssueType = IssueType.BUSINESS_RULE


@dataclass(frozen=True, slots=True)
class RuleInput:
    """What every rule module reads: the parsed document, its raw bytes and the shared content reader."""

    root: etree._Element
    raw: bytes
    detected: DetectedDocument
    content: PhmrContent


@dataclass(slots=True)
class Findings:
    """Collects the issues of one rule run (rules never stop at the first failure)."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, rule: PhmrRule, message: str, *where: etree._Element | None) -> None:
        """Record a failure of ``rule`` located at the first element of ``where`` that is not None."""
        element = next((candidate for candidate in where if candidate is not None), None)
        self.issues.append(
            Issue(
                severity=rule.severity,
                code=rule.issue_type,
                diagnostics=f"{rule.rule_id}: {message}",
                location=(element_path(element),) if element is not None else (),
                message_id=rule.rule_id,
                line=source_line(element) if element is not None else None,
            )
        )


ERROR = IssueSeverity.ERROR
WARNING = IssueSeverity.WARNING

__all__ = ["ERROR", "WARNING", "Findings", "PhmrRule", "RuleInput"]
