"""DK PHMR participant rules: author, custodian and legalAuthenticator are identified by SOR.

PHMR-DK 1.3 header (DANISH-STANDARDS §1.2): ``assignedAuthor/id``, ``representedCustodianOrganization/id``
and ``legalAuthenticator/assignedEntity/id`` use root ``1.2.208.176.1.1`` (SOR, organisation level).  A
citizen may author his own measurements (FUT): ``assignedAuthor/id`` root ``1.2.208.176.1.2`` (CPR) with
``code`` SELF (``2.16.840.1.113883.5.111``).  The truncated root ``1.2.208.176.1`` of the 2014 examples is
legacy and rejected.
"""

from __future__ import annotations

from lxml import etree

from hub.core.issues import IssueType
from profiles.cda.phmr_content import select
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.timestamps import parse_ts
from profiles.cda.vocabulary import NAMESPACES, Oid, hl7_tag
from profiles.danish import is_sor_code

AUTHOR_ID = PhmrRule(
    "TH-PHMR-AUT-1",
    ERROR,
    "author/assignedAuthor SHALL be identified by SOR (root 1.2.208.176.1.1), or by CPR with code SELF "
    "when the citizen is the author.",
)
AUTHOR_TIME = PhmrRule(
    "TH-PHMR-AUT-2", ERROR, "author/time SHALL be a TS with a timezone offset.", IssueType.VALUE
)
CUSTODIAN_ID = PhmrRule(
    "TH-PHMR-CUS-1",
    ERROR,
    "custodian/assignedCustodian/representedCustodianOrganization/id SHALL be a SOR id (root "
    "1.2.208.176.1.1).",
    IssueType.REQUIRED,
)
LEGAL_PRESENT = PhmrRule(
    "TH-PHMR-LA-1", WARNING, "legalAuthenticator SHOULD be present (XDS legalAuthenticator is R2 in DK)."
)
LEGAL_ID = PhmrRule(
    "TH-PHMR-LA-2", ERROR, "legalAuthenticator/assignedEntity/id SHALL be a SOR id (root 1.2.208.176.1.1)."
)
SOR_FORMAT = PhmrRule(
    "TH-PHMR-SOR-1",
    WARNING,
    "A SOR code (id/@extension) SHOULD be a number of at least 11 digits (DK Core SOR identifier).",
    IssueType.VALUE,
)

RULES = (AUTHOR_ID, AUTHOR_TIME, CUSTODIAN_ID, LEGAL_PRESENT, LEGAL_ID, SOR_FORMAT)

_AUTHORS = etree.XPath("h:author", namespaces=NAMESPACES)
_CUSTODIAN_IDS = etree.XPath(
    "h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id", namespaces=NAMESPACES
)
_LEGAL = etree.XPath("h:legalAuthenticator", namespaces=NAMESPACES)
_ID, _CODE = hl7_tag("id"), hl7_tag("code")


def _sor_ids(ids: list[etree._Element]) -> list[etree._Element]:
    return [i for i in ids if i.get("root") == Oid.SOR.value]


def _legacy_hint(ids: list[etree._Element]) -> str:
    if any(i.get("root") == Oid.SOR_LEGACY_TRUNCATED.value for i in ids):
        return " (1.2.208.176.1 is the truncated legacy SOR root)"
    return ""


def _check_sor_format(ids: list[etree._Element], out: Findings) -> None:
    for sor in ids:
        extension = sor.get("extension", "")
        if not is_sor_code(extension):
            out.add(SOR_FORMAT, f"SOR code {extension!r} is not a number of at least 11 digits", sor)


def _check_author(author: etree._Element, out: Findings) -> None:
    time = author.find(hl7_tag("time"))
    parsed = parse_ts(time.get("value") if time is not None else None)
    if parsed is None or not parsed.has_timezone:
        out.add(AUTHOR_TIME, "author/time is missing or has no timezone offset", time, author)
    assigned = author.find(hl7_tag("assignedAuthor"))
    if assigned is None:
        out.add(AUTHOR_ID, "author has no assignedAuthor", author)
        return
    ids = list(assigned.iterchildren(_ID))
    organisation = assigned.find(hl7_tag("representedOrganization"))
    org_ids = list(organisation.iterchildren(_ID)) if organisation is not None else []
    sor = _sor_ids(ids) or _sor_ids(org_ids)
    if sor:
        _check_sor_format(sor, out)
        return
    code = assigned.find(_CODE)
    citizen = any(i.get("root") == Oid.CPR.value for i in ids)
    if (
        citizen
        and code is not None
        and code.get("code") == "SELF"
        and code.get("codeSystem") == Oid.ROLE_CODE.value
    ):
        return
    if citizen:
        out.add(AUTHOR_ID, "a CPR-identified author needs code SELF (2.16.840.1.113883.5.111)", assigned)
        return
    roots = ", ".join(repr(i.get("root")) for i in ids + org_ids) or "no id"
    out.add(
        AUTHOR_ID,
        f"assignedAuthor is identified by {roots}, expected SOR 1.2.208.176.1.1{_legacy_hint(ids + org_ids)}",
        ids[0] if ids else assigned,
    )


def _require_sor(
    rule: PhmrRule, subject: str, ids: list[etree._Element], where: etree._Element, out: Findings
) -> None:
    sor = _sor_ids(ids)
    if sor:
        _check_sor_format(sor, out)
        return
    roots = ", ".join(repr(i.get("root")) for i in ids) or "no id"
    out.add(rule, f"{subject} is identified by {roots}{_legacy_hint(ids)}", *ids, where)


def check(doc: RuleInput, out: Findings) -> None:
    root = doc.root
    for author in select(_AUTHORS, root):
        _check_author(author, out)
    _require_sor(CUSTODIAN_ID, "the custodian organisation", select(_CUSTODIAN_IDS, root), root, out)
    legal = select(_LEGAL, root)
    if not legal:
        out.add(LEGAL_PRESENT, "legalAuthenticator is missing", root)
    for authenticator in legal:
        entity = authenticator.find(hl7_tag("assignedEntity"))
        ids = list(entity.iterchildren(_ID)) if entity is not None else []
        _require_sor(LEGAL_ID, "legalAuthenticator/assignedEntity", ids, authenticator, out)


__all__ = ["RULES", "check"]
