"""DK PHMR recordTarget rules, plus the person-name and address rules MedCom applies document-wide.

PHMR-DK 1.3 CONF-PHMR-DK-4 (CPR format/check digit), -5 (CPR root), -6/-7/-8 (name: one family, 1..* given,
0..1 prefix, no @qualifier), -9/-10 (addr@use H|WP, 1..4 streetAddressLine).  As in MedCom's
``conf-phmr-dk.sch.xml`` the name rules apply to every ``*[@classCode='PSN']/name`` and the address rules
to every ``addr`` of the header (an ``addr`` with a ``nullFlavor`` is exempt).
"""

from __future__ import annotations

from lxml import etree

from hub.core.issues import IssueType
from profiles.cda.phmr_content import select
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.timestamps import parse_ts
from profiles.cda.vocabulary import NAMESPACES, Oid, hl7_tag
from profiles.danish import cpr_birth_date, is_cpr_format, modulus11_ok

PATIENT_ROLE = PhmrRule(
    "TH-PHMR-RT-1", ERROR, "Exactly one recordTarget/patientRole SHALL be present.", IssueType.REQUIRED
)
CPR_ROOT = PhmrRule(
    "CONF-PHMR-DK-5", ERROR, "recordTarget/patientRole/id/@root SHALL be 1.2.208.176.1.2 (CPR)."
)
CPR_FORMAT = PhmrRule(
    "CONF-PHMR-DK-4",
    ERROR,
    "The CPR number (patientRole/id/@extension) SHALL be 10 digits that start with a valid birth date.",
    IssueType.VALUE,
)
CPR_MODULUS = PhmrRule(
    "TH-PHMR-RT-2",
    WARNING,
    "The CPR number fails the modulus-11 check (allowed since 2007; verify the number).",
    IssueType.VALUE,
)
GENDER = PhmrRule(
    "TH-PHMR-RT-3",
    WARNING,
    "patient/administrativeGenderCode SHOULD be present with codeSystem 2.16.840.1.113883.5.1 (XDS PID-8).",
)
BIRTH_TIME = PhmrRule(
    "TH-PHMR-RT-4",
    WARNING,
    "patient/birthTime SHOULD be present and agree with the CPR birth date (XDS PID-7).",
)
NAME_FAMILY = PhmrRule(
    "CONF-PHMR-DK-6", ERROR, "A person name SHALL contain exactly one [1..1] family element."
)
NAME_GIVEN = PhmrRule(
    "CONF-PHMR-DK-7", ERROR, "A person name SHALL contain at least one [1..*] given element."
)
NAME_PREFIX = PhmrRule(
    "CONF-PHMR-DK-8", ERROR, "A person name MAY contain at most one [0..1] prefix element."
)
NAME_QUALIFIER = PhmrRule(
    "TH-PHMR-NAME-1",
    WARNING,
    "Name parts SHALL NOT carry @qualifier (CONF-PHMR-DK-6/7/8: not used in this profile).",
)
ADDR_USE_PRESENT = PhmrRule(
    "TH-PHMR-ADDR-1", WARNING, "An addr SHOULD carry exactly one @use (CONF-PHMR-DK-9)."
)
ADDR_USE = PhmrRule("CONF-PHMR-DK-9", ERROR, "addr/@use SHALL be H or WP (PostalAddressUse, Table 1).")
ADDR_LINES = PhmrRule(
    "CONF-PHMR-DK-10", ERROR, "An addr SHALL contain at least one and at most 4 streetAddressLine."
)

RULES = (
    PATIENT_ROLE,
    CPR_ROOT,
    CPR_FORMAT,
    CPR_MODULUS,
    GENDER,
    BIRTH_TIME,
    NAME_FAMILY,
    NAME_GIVEN,
    NAME_PREFIX,
    NAME_QUALIFIER,
    ADDR_USE_PRESENT,
    ADDR_USE,
    ADDR_LINES,
)

_PATIENT_ROLES = etree.XPath("h:recordTarget/h:patientRole", namespaces=NAMESPACES)
_COMPONENT, _NAME, _ADDR = hl7_tag("component"), hl7_tag("name"), hl7_tag("addr")
_FAMILY, _GIVEN, _PREFIX = hl7_tag("family"), hl7_tag("given"), hl7_tag("prefix")


def _check_cpr(role: etree._Element, out: Findings) -> None:
    ids = list(role.iterchildren(hl7_tag("id")))
    cpr_ids = [i for i in ids if i.get("root") == Oid.CPR.value]
    if not cpr_ids:
        roots = ", ".join(repr(i.get("root")) for i in ids) or "no id"
        out.add(
            CPR_ROOT,
            f"patientRole/id has root {roots}, expected '1.2.208.176.1.2' (CPR)",
            ids[0] if ids else role,
        )
        return
    cpr_id = cpr_ids[0]
    # diagnostics never repeat the CPR number: it is personal data and issues end up in logs
    value = cpr_id.get("extension", "")
    birth_date = cpr_birth_date(value)
    if birth_date is None:
        reason = (
            "does not start with a valid birth date DDMMYY"
            if is_cpr_format(value)
            else ("is not exactly 10 digits (no hyphen)")
        )
        out.add(CPR_FORMAT, f"the CPR number {reason}", cpr_id)
        return
    if not modulus11_ok(value):
        out.add(CPR_MODULUS, "the CPR number fails the modulus-11 check", cpr_id)
    patient = role.find(hl7_tag("patient"))
    if patient is None:
        return
    gender = patient.find(hl7_tag("administrativeGenderCode"))
    if (
        gender is None
        or gender.get("codeSystem") != Oid.ADMINISTRATIVE_GENDER.value
        or not gender.get("code")
    ):
        out.add(
            GENDER,
            "administrativeGenderCode is missing or not coded in 2.16.840.1.113883.5.1",
            gender,
            patient,
        )
    birth = patient.find(hl7_tag("birthTime"))
    born = parse_ts(birth.get("value") if birth is not None else None)
    if born is None:
        out.add(BIRTH_TIME, "birthTime is missing or not a valid TS", birth, patient)
    elif born.instant.date() != birth_date:
        out.add(BIRTH_TIME, "birthTime differs from the birth date in the CPR number", birth)


def _check_name(name: etree._Element, out: Findings) -> None:
    families = list(name.iterchildren(_FAMILY))
    givens = list(name.iterchildren(_GIVEN))
    prefixes = list(name.iterchildren(_PREFIX))
    if len(families) != 1:
        out.add(NAME_FAMILY, f"name has {len(families)} family elements, expected exactly 1", name)
    if not givens:
        out.add(NAME_GIVEN, "name has no given element", name)
    if len(prefixes) > 1:
        out.add(NAME_PREFIX, f"name has {len(prefixes)} prefix elements, at most 1 allowed", name)
    for part in (*families, *givens, *prefixes):
        if part.get("qualifier") is not None:
            out.add(
                NAME_QUALIFIER,
                f"{etree.QName(part).localname}/@qualifier={part.get('qualifier')!r} is not used",
                part,
            )


def _check_addr(addr: etree._Element, out: Findings) -> None:
    if addr.get("nullFlavor") is not None:
        return
    use = addr.get("use")
    if use is None:
        out.add(ADDR_USE_PRESENT, "addr has no @use", addr)
    elif use not in ("H", "WP"):
        out.add(ADDR_USE, f"addr/@use is {use!r}, expected 'H' or 'WP'", addr)
    lines = sum(1 for _ in addr.iterchildren(hl7_tag("streetAddressLine")))
    if not 1 <= lines <= 4:
        out.add(ADDR_LINES, f"addr has {lines} streetAddressLine elements, expected 1..4", addr)


def check(doc: RuleInput, out: Findings) -> None:
    roles = select(_PATIENT_ROLES, doc.root)
    if len(roles) != 1:
        out.add(PATIENT_ROLE, f"found {len(roles)} recordTarget/patientRole elements, expected 1", doc.root)
    for role in roles:
        _check_cpr(role, out)
    # the header only, as MedCom's "*[@classCode='PSN']/name" and "*/addr" (the structuredBody is
    # skipped); iter() with a tag filter walks each header part in C
    for part in doc.root.iterchildren(tag=etree.Element):
        if part.tag == _COMPONENT:
            continue
        for name in part.iter(_NAME):
            parent = name.getparent()
            if parent is not None and parent.get("classCode") == "PSN":
                _check_name(name, out)
        for addr in part.iter(_ADDR):
            _check_addr(addr, out)


__all__ = ["RULES", "check"]
