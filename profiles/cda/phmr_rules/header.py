"""DK PHMR header rules: encoding, document templateIds, typeId, id, code, title, effectiveTime,
confidentiality and language (PHMR-DK 1.3 CONF-PHMR-DK-1/2/3; HL7 CDA R2 §4.2.1; DANISH-STANDARDS §1.1-1.2).
"""

from __future__ import annotations

import codecs
import re

from hub.core.issues import IssueType
from profiles.cda.phmr_content import first_children
from profiles.cda.phmr_rules.rule import ERROR, Findings, PhmrRule, RuleInput
from profiles.cda.timestamps import parse_ts
from profiles.cda.vocabulary import DocumentCode, Oid, TemplateId, hl7_tag

ENCODING = PhmrRule("CONF-PHMR-DK-1", ERROR, "The document SHALL be encoded in UTF-8.", IssueType.VALUE)
DK_TEMPLATE = PhmrRule(
    "CONF-PHMR-DK-2", ERROR, "ClinicalDocument/templateId with @root 1.2.208.184.11.1 SHALL be present."
)
HL7_TEMPLATE = PhmrRule(
    "TH-PHMR-HDR-1",
    ERROR,
    "ClinicalDocument/templateId with @root 2.16.840.1.113883.10.20.9 (HL7 PHMR) SHALL be present.",
)
DOCUMENT_CODE = PhmrRule(
    "CONF-PHMR-DK-3",
    ERROR,
    "ClinicalDocument/code SHALL be 53576-5, codeSystem 2.16.840.1.113883.6.1, codeSystemName LOINC, "
    "displayName 'Personal Health Monitoring Report'.",
    IssueType.CODE_INVALID,
)
TYPE_ID = PhmrRule(
    "TH-PHMR-HDR-2",
    ERROR,
    "ClinicalDocument/typeId SHALL be root 2.16.840.1.113883.1.3, extension POCD_HD000040.",
)
DOCUMENT_ID = PhmrRule(
    "TH-PHMR-HDR-3",
    ERROR,
    "ClinicalDocument/id SHALL carry @root and @extension (they form the XDS uniqueId).",
    IssueType.REQUIRED,
)
TITLE = PhmrRule(
    "TH-PHMR-HDR-4",
    ERROR,
    "ClinicalDocument/title SHALL be present and not empty (XDS title is R in DK).",
    IssueType.REQUIRED,
)
EFFECTIVE_TIME = PhmrRule(
    "TH-PHMR-HDR-5",
    ERROR,
    "ClinicalDocument/effectiveTime SHALL be a TS with a time of day and a timezone offset.",
    IssueType.VALUE,
)
CONFIDENTIALITY = PhmrRule(
    "TH-PHMR-HDR-6",
    ERROR,
    "confidentialityCode SHALL be N in 2.16.840.1.113883.5.25 (the only code of the Danish value set).",
    IssueType.CODE_INVALID,
)
LANGUAGE = PhmrRule("TH-PHMR-HDR-7", ERROR, "languageCode SHALL be da-DK.", IssueType.CODE_INVALID)

RULES = (
    ENCODING,
    DK_TEMPLATE,
    HL7_TEMPLATE,
    DOCUMENT_CODE,
    TYPE_ID,
    DOCUMENT_ID,
    TITLE,
    EFFECTIVE_TIME,
    CONFIDENTIALITY,
    LANGUAGE,
)

_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_EXPECTED_CODE = {
    "code": DocumentCode.PHMR.value,
    "codeSystem": Oid.LOINC.value,
    "codeSystemName": "LOINC",
    "displayName": "Personal Health Monitoring Report",
}


def _check_encoding(raw: bytes, out: Findings) -> None:
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if raw.startswith(bom):
            out.add(ENCODING, f"the document is encoded in {name}, not UTF-8")
            return
    if raw[:1] == b"\x00" or raw[1:2] == b"\x00":
        out.add(ENCODING, "the document is encoded in UTF-16/32 without a byte-order mark, not UTF-8")
        return
    declared = _DECLARED_ENCODING.match(raw.removeprefix(codecs.BOM_UTF8))
    if declared and declared.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        out.add(
            ENCODING, f"the XML declaration names encoding {declared.group(1).decode('ascii')!r}, not UTF-8"
        )


def check(doc: RuleInput, out: Findings) -> None:
    root = doc.root
    _check_encoding(doc.raw, out)
    top = first_children(root)
    templates = {t.get("root") for t in root.iterchildren(hl7_tag("templateId"))}
    if TemplateId.PHMR_DK.value not in templates:
        legacy = (
            " (2.16.840.1.113883.3.4208.11.1 is the withdrawn pre-2016 root)"
            if (TemplateId.PHMR_DK_PRE_2016.value in templates)
            else ""
        )
        out.add(DK_TEMPLATE, f"ClinicalDocument/templateId @root='1.2.208.184.11.1' is missing{legacy}", root)
    if TemplateId.PHMR_HL7.value not in templates:
        out.add(
            HL7_TEMPLATE, "ClinicalDocument/templateId @root='2.16.840.1.113883.10.20.9' is missing", root
        )

    code = top.get(hl7_tag("code"))
    if code is None:
        out.add(DOCUMENT_CODE, "ClinicalDocument/code is missing", root)
    else:
        for attribute, expected in _EXPECTED_CODE.items():
            if code.get(attribute) != expected:
                out.add(
                    DOCUMENT_CODE,
                    f"code/@{attribute} is {code.get(attribute)!r}, expected {expected!r}",
                    code,
                )

    type_id = top.get(hl7_tag("typeId"))
    if (
        type_id is None
        or type_id.get("root") != Oid.CDA_TYPE_ID.value
        or type_id.get("extension") != "POCD_HD000040"
    ):
        out.add(TYPE_ID, "typeId must be root 2.16.840.1.113883.1.3 extension POCD_HD000040", type_id, root)

    doc_id = top.get(hl7_tag("id"))
    if doc_id is None or not doc_id.get("root") or not doc_id.get("extension"):
        out.add(DOCUMENT_ID, "ClinicalDocument/id needs both @root and @extension", doc_id, root)

    title = top.get(hl7_tag("title"))
    if title is None or not "".join(str(t) for t in title.itertext()).strip():
        out.add(TITLE, "ClinicalDocument/title is missing or empty", title, root)

    effective = top.get(hl7_tag("effectiveTime"))
    value = effective.get("value") if effective is not None else None
    parsed = parse_ts(value)
    if parsed is None or not parsed.has_time or not parsed.has_timezone:
        reason = "is missing" if value is None else f"{value!r} is not a TS with time and timezone offset"
        out.add(EFFECTIVE_TIME, f"ClinicalDocument/effectiveTime {reason}", effective, root)

    confidentiality = top.get(hl7_tag("confidentialityCode"))
    if (
        confidentiality is None
        or confidentiality.get("code") != "N"
        or confidentiality.get("codeSystem") != Oid.CONFIDENTIALITY.value
    ):
        found = (
            "missing"
            if confidentiality is None
            else f"{confidentiality.get('code')!r}/{confidentiality.get('codeSystem')!r}"
        )
        out.add(
            CONFIDENTIALITY,
            f"confidentialityCode is {found}, expected 'N'/2.16.840.1.113883.5.25",
            confidentiality,
            root,
        )

    language = top.get(hl7_tag("languageCode"))
    if language is None or language.get("code") != "da-DK":
        found = "missing" if language is None else repr(language.get("code"))
        out.add(LANGUAGE, f"languageCode is {found}, expected 'da-DK'", language, root)


__all__ = ["RULES", "check"]
