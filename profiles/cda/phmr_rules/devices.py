"""DK PHMR device rules: the Medical Equipment section describes the measuring devices.

HL7 PHMR R1.1 Device Definition Organizer (templateId 2.16.840.1.113883.10.20.9.4) with
``participant typeCode=SBJ`` / ``participantRole classCode=MANU`` (templateIds 2.16.840.1.113883.10.20.1.52
and .10.20.9.9); PHMR-DK 1.3 (DANISH-STANDARDS §1.4): ``playingDevice/code`` in MDC
``2.16.840.1.113883.6.24`` (often ``NI`` with a MedCom instrument-code translation),
``manufacturerModelName`` "Manufacturer: X / Model: Y" and ``softwareName`` "SerialNr: S / SW Rev. R".
"""

from __future__ import annotations

from lxml import etree

from hub.core.issues import IssueType
from profiles.cda.phmr_content import DeviceInfo, select
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.vocabulary import NAMESPACES, Oid, PhmrSection, TemplateId, hl7_tag

DEVICE_PRESENT = PhmrRule(
    "TH-PHMR-DEV-1",
    ERROR,
    "The Medical Equipment section SHALL describe at least one device when the document has measurements.",
    IssueType.REQUIRED,
)
DEVICE_ORGANIZER = PhmrRule(
    "TH-PHMR-DEV-2",
    ERROR,
    "A device SHALL be given by an organizer with templateId 2.16.840.1.113883.10.20.9.4 and a participant "
    "typeCode SBJ.",
    IssueType.STRUCTURE,
)
DEVICE_ROLE = PhmrRule(
    "TH-PHMR-DEV-3",
    ERROR,
    "participantRole SHALL have classCode MANU and templateIds 2.16.840.1.113883.10.20.1.52 and "
    "2.16.840.1.113883.10.20.9.9.",
    IssueType.STRUCTURE,
)
DEVICE_CODE = PhmrRule(
    "TH-PHMR-DEV-4",
    ERROR,
    "playingDevice/code SHALL use MDC (2.16.840.1.113883.6.24); code NI with a translation is allowed.",
    IssueType.CODE_INVALID,
)
DEVICE_TEXT = PhmrRule(
    "TH-PHMR-DEV-5",
    WARNING,
    "manufacturerModelName SHOULD read 'Manufacturer: X / Model: Y' and softwareName 'SerialNr: S / "
    "SW Rev. R'.",
)
DEVICE_ID = PhmrRule("TH-PHMR-DEV-6", WARNING, "participantRole SHOULD carry an id identifying the device.")

RULES = (DEVICE_PRESENT, DEVICE_ORGANIZER, DEVICE_ROLE, DEVICE_CODE, DEVICE_TEXT, DEVICE_ID)

_ORGANIZERS = etree.XPath("h:entry/h:organizer", namespaces=NAMESPACES)
_ROLE_TEMPLATES = (TemplateId.PRODUCT_INSTANCE_CCD.value, TemplateId.PRODUCT_INSTANCE_PHMR.value)


def _check_device(device: DeviceInfo, out: Findings) -> None:
    role = device.element
    templates = {t.get("root") for t in role.iterchildren(hl7_tag("templateId"))}
    missing = [t for t in _ROLE_TEMPLATES if t not in templates]
    if role.get("classCode") != "MANU" or missing:
        detail = f"lacks templateId {', '.join(missing)}" if missing else "needs classCode MANU"
        out.add(DEVICE_ROLE, f"participantRole {detail}", role)
    if not device.ids:
        out.add(DEVICE_ID, "participantRole has no id", role)
    code_element = role.find(f"{hl7_tag('playingDevice')}/{hl7_tag('code')}")
    if device.code is None or device.code.system != Oid.MDC.value:
        found = "no code" if device.code is None else f"codeSystem {device.code.system!r}"
        out.add(DEVICE_CODE, f"playingDevice has {found}", code_element, role)
    elif device.code.code in ("", "NI") and not device.translations:
        out.add(
            DEVICE_CODE,
            "playingDevice/code is NI without a translation identifying the device type",
            code_element,
        )
    if device.manufacturer_model is None or device.model is None:
        out.add(
            DEVICE_TEXT,
            f"manufacturerModelName {device.manufacturer_model!r} does not follow 'Manufacturer: X / "
            "Model: Y'",
            role,
        )
    if device.software_name is None or (
        device.serial_number is None and "SerialNr:" not in device.software_name
    ):
        out.add(
            DEVICE_TEXT,
            f"softwareName {device.software_name!r} does not follow 'SerialNr: S / SW Rev. R'",
            role,
        )


def check(doc: RuleInput, out: Findings) -> None:
    equipment = [s for kind, s in doc.content.sections if kind is PhmrSection.MEDICAL_EQUIPMENT]
    for section in equipment:
        for organizer in select(_ORGANIZERS, section):
            templates = {t.get("root") for t in organizer.iterchildren(hl7_tag("templateId"))}
            participants = [
                p for p in organizer.iterchildren(hl7_tag("participant")) if p.get("typeCode") == "SBJ"
            ]
            if TemplateId.DEVICE_DEFINITION_ORGANIZER.value in templates and not participants:
                out.add(DEVICE_ORGANIZER, "device organizer has no participant typeCode SBJ", organizer)
    for device in doc.content.devices:
        _check_device(device, out)
    if doc.content.measurements and not doc.content.devices:
        out.add(DEVICE_PRESENT, "the document has measurements but no device", *equipment, doc.root)


__all__ = ["RULES", "check"]
