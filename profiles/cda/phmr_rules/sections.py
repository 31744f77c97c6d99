"""DK PHMR section rules: structuredBody with Vital Signs, Results and Medical Equipment sections, each with
its CCD, HL7 PHMR and Danish templateIds and its LOINC code (PHMR-DK 1.3; DANISH-STANDARDS §1.3).
"""

from __future__ import annotations

from lxml import etree

from hub.core.issues import IssueType
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.vocabulary import Oid, PhmrSection, TemplateId, hl7_tag

BODY = PhmrRule(
    "TH-PHMR-SEC-1",
    ERROR,
    "The document SHALL have a structuredBody (nonXMLBody is not PHMR).",
    IssueType.STRUCTURE,
)
REQUIRED_SECTIONS = PhmrRule(
    "TH-PHMR-SEC-2",
    ERROR,
    "The Results and Medical Equipment sections SHALL each be present exactly once, Vital Signs at "
    "most once.",
    IssueType.REQUIRED,
)
VITAL_SIGNS = PhmrRule(
    "TH-PHMR-SEC-3", WARNING, "The Vital Signs section SHOULD be present (it may say 'No Vital Signs')."
)
TEMPLATES = PhmrRule(
    "TH-PHMR-SEC-4",
    ERROR,
    "Each section SHALL carry its three templateIds: CCD, HL7 PHMR and 1.2.208.184.11.1.",
)
CODE = PhmrRule(
    "TH-PHMR-SEC-5",
    ERROR,
    "Each section code SHALL be its LOINC code (8716-3, 30954-2, 46264-8) in 2.16.840.1.113883.6.1.",
    IssueType.CODE_INVALID,
)
UNKNOWN = PhmrRule(
    "TH-PHMR-SEC-6", WARNING, "Sections other than Vital Signs, Results and Medical Equipment are ignored."
)
NARRATIVE = PhmrRule("TH-PHMR-SEC-7", WARNING, "Each section SHOULD have a title and a narrative text block.")
PLACEMENT = PhmrRule(
    "TH-PHMR-SEC-8",
    ERROR,
    "Vital Signs / Results entries SHALL hold measurement organizers; Medical Equipment entries SHALL hold "
    "device definition organizers.",
    IssueType.STRUCTURE,
)

RULES = (BODY, REQUIRED_SECTIONS, VITAL_SIGNS, TEMPLATES, CODE, UNKNOWN, NARRATIVE, PLACEMENT)

_DEVICE_ORGANIZER = TemplateId.DEVICE_DEFINITION_ORGANIZER.value
_ENTRY, _ORGANIZER = hl7_tag("entry"), hl7_tag("organizer")


def _templates(element: etree._Element) -> set[str | None]:
    return {t.get("root") for t in element.iterchildren(hl7_tag("templateId"))}


def _check_section(
    kind: PhmrSection, section: etree._Element, measured: dict[etree._Element, frozenset[str]], out: Findings
) -> None:
    present = _templates(section)
    missing = [t for t in kind.template_ids if t not in present]
    if missing:
        out.add(TEMPLATES, f"{kind.title} section lacks templateId {', '.join(missing)}", section)
    code = section.find(hl7_tag("code"))
    if code is None or code.get("code") != kind.value or code.get("codeSystem") != Oid.LOINC.value:
        found = "no code" if code is None else f"{code.get('code')!r}/{code.get('codeSystem')!r}"
        out.add(
            CODE,
            f"{kind.title} section has {found}, expected {kind.value!r}/{Oid.LOINC.value}",
            code,
            section,
        )
    if section.find(hl7_tag("title")) is None or section.find(hl7_tag("text")) is None:
        out.add(NARRATIVE, f"{kind.title} section lacks its title or narrative text", section)
    for entry in section.iterchildren(_ENTRY):
        organizer = next(entry.iterchildren(_ORGANIZER), None)
        if kind is PhmrSection.MEDICAL_EQUIPMENT:
            if organizer is None or _DEVICE_ORGANIZER not in _templates(organizer):
                message = "Medical Equipment entry does not hold a device definition organizer"
                out.add(PLACEMENT, f"{message} (2.16.840.1.113883.10.20.9.4)", entry)
        elif organizer is None or organizer not in measured or _DEVICE_ORGANIZER in measured[organizer]:
            out.add(PLACEMENT, f"{kind.title} entry does not hold a measurement organizer", entry)


def check(doc: RuleInput, out: Findings) -> None:
    body = doc.root.find(f"{hl7_tag('component')}/{hl7_tag('structuredBody')}")
    if body is None:
        out.add(BODY, "ClinicalDocument/component/structuredBody is missing", doc.root)
        return
    counts = dict.fromkeys(PhmrSection, 0)
    # organizers the content reader took measurements from, with their templateIds
    measured = {
        m.organizer: m.organizer_templates for m in doc.content.measurements if m.organizer is not None
    }
    for kind, section in doc.content.sections:
        if kind is None:
            code = section.find(hl7_tag("code"))
            out.add(
                UNKNOWN,
                f"section with code {code.get('code') if code is not None else None!r} is not a PHMR section",
                section,
            )
            continue
        counts[kind] += 1
        _check_section(kind, section, measured, out)
    for kind in (PhmrSection.RESULTS, PhmrSection.MEDICAL_EQUIPMENT):
        if counts[kind] != 1:
            out.add(
                REQUIRED_SECTIONS, f"found {counts[kind]} {kind.title} sections, expected exactly 1", body
            )
    if counts[PhmrSection.VITAL_SIGNS] > 1:
        out.add(
            REQUIRED_SECTIONS,
            f"found {counts[PhmrSection.VITAL_SIGNS]} Vital Signs sections, expected at most 1",
            body,
        )
    elif counts[PhmrSection.VITAL_SIGNS] == 0:
        out.add(VITAL_SIGNS, "the Vital Signs section is missing", body)


__all__ = ["RULES", "check"]
