"""FHIR R4 data types read back into XDS values for MHD ITI-65 (inverse of ``xds.phmr.document_reference``).

Every reader raises :class:`MhdInputError` (a 422 naming the element) for a value that cannot become XDS
metadata, and returns None for an absent one, so the caller decides what is required.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from hub.core.errors import ValidationFailedError
from hub.core.issues import Issue, IssueSeverity, IssueType
from xds.dtm import dtm_from_datetime
from xds.hl7v2 import CX, XCN, XON
from xds.model import Code, InternationalString
from xds.phmr.document_reference import OID_PREFIX, code_system_oid, unique_id_of

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
MESSAGE_ID = "TH-MHD-ITI65"


class MhdInputError(ValidationFailedError):
    """An ITI-65 bundle whose content cannot be registered (one issue, with the FHIRPath of the element)."""

    def __init__(self, message: str, expression: str) -> None:
        issue = Issue(
            IssueSeverity.ERROR, IssueType.INVALID, message, expression=(expression,), message_id=MESSAGE_ID
        )
        super().__init__(message, issues=[issue])


def text(value: object, where: str) -> str | None:
    """A non-empty FHIR string, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MhdInputError(f"{where} must be a non-empty string", where)
    return value


def code(concept: object, where: str) -> Code | None:
    """The first coding (system + code) of a CodeableConcept, or of a bare Coding."""
    if concept is None:
        return None
    if not isinstance(concept, dict):
        raise MhdInputError(f"{where} must be a CodeableConcept", where)
    codings = concept.get("coding") if "coding" in concept else [concept]
    for coding in codings if isinstance(codings, list) else []:
        if not isinstance(coding, dict):
            continue
        system, value = coding.get("system"), coding.get("code")
        if isinstance(system, str) and system and isinstance(value, str) and value:
            display = coding.get("display")
            return Code.of(value, code_system_oid(system), display if isinstance(display, str) else None)
    raise MhdInputError(f"{where} has no coding with both system and code (XDS codes need a scheme)", where)


def codes(concepts: object, where: str) -> tuple[Code, ...]:
    """One XDS code per CodeableConcept of a list."""
    if concepts is None:
        return ()
    if not isinstance(concepts, list):
        raise MhdInputError(f"{where} must be a list", where)
    found = (code(c, f"{where}[{i}]") for i, c in enumerate(concepts))
    return tuple(c for c in found if c is not None)


def dtm(value: object, where: str) -> str | None:
    """A FHIR date/dateTime/instant as an XDS DTM in UTC (dates keep their precision)."""
    raw = text(value, where)
    if raw is None:
        return None
    if _DATE.fullmatch(raw):
        return raw.replace("-", "")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MhdInputError(f"{where} {raw!r} is not a FHIR dateTime", where) from exc
    if moment.tzinfo is None:
        raise MhdInputError(f"{where} {raw!r} has a time but no time zone", where)
    return dtm_from_datetime(moment)


def sha1_hex(value: object, where: str) -> str | None:
    """``Attachment.hash`` (base64 SHA-1) as the lowercase hex of XDS ``hash``."""
    raw = text(value, where)
    if raw is None:
        return None
    try:
        digest = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MhdInputError(f"{where} is not base64", where) from exc
    if len(digest) != 20:
        raise MhdInputError(f"{where} is not a SHA-1 digest (20 bytes, base64)", where)
    return digest.hex()


def size(value: object, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MhdInputError(f"{where} must be a non-negative integer", where)
    return value


def unique_id(identifier: object, where: str) -> str | None:
    """``masterIdentifier`` (or a uniqueId identifier) as an XDS uniqueId."""
    if identifier is None:
        return None
    if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
        raise MhdInputError(f"{where} must be an Identifier with a value", where)
    system = identifier.get("system")
    return unique_id_of(system if isinstance(system, str) else None, identifier["value"])


def _oid(system: object) -> str | None:
    if isinstance(system, str) and system.startswith(OID_PREFIX) and len(system) > len(OID_PREFIX):
        return system[len(OID_PREFIX) :]
    return None


def identifier_cx(identifier: object, where: str) -> CX:
    """An Identifier whose system is ``urn:oid:<assigning authority>`` as an XDS CX."""
    if not isinstance(identifier, dict):
        raise MhdInputError(f"{where} must be an Identifier", where)
    value, authority = identifier.get("value"), _oid(identifier.get("system"))
    if not isinstance(value, str) or not value or authority is None:
        raise MhdInputError(
            f"{where} needs a value and a system urn:oid:<assigning authority> (e.g. the CPR root "
            "urn:oid:1.2.208.176.1.2)",
            where,
        )
    return CX(id=value, assigning_authority=authority)


def localized(value: object, where: str) -> InternationalString | None:
    found = text(value, where)
    return InternationalString.of(found) if found is not None else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def person(resource: dict[str, Any]) -> XCN | None:
    """A Practitioner (or Patient) resource as XCN: first identifier with an OID system, first name."""
    identifier = next(
        (i for i in resource.get("identifier") or [] if isinstance(i, dict) and _oid(i.get("system"))), None
    )
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    name = names[0] if names else {}
    given = [g for g in name.get("given") or [] if isinstance(g, str)]
    prefix = [p for p in name.get("prefix") or [] if isinstance(p, str)]
    family = _str(name.get("family"))
    ident = _str(identifier.get("value")) if identifier else ""
    if not (ident or family):
        return None
    return XCN(
        id=ident,
        family=family,
        given=given[0] if given else "",
        further_given="&".join(given[1:]),
        prefix=" ".join(prefix),
        assigning_authority=(_oid(identifier.get("system")) or "") if identifier else "",
    )


def organisation(resource: dict[str, Any], display: str | None = None) -> XON | None:
    """An Organization resource (or a reference's identifier + display) as XON (SOR code in XON.10)."""
    identifiers = resource.get("identifier")
    candidates = identifiers if isinstance(identifiers, list) else [identifiers]
    identifier = next((i for i in candidates if isinstance(i, dict) and _oid(i.get("system"))), None)
    name = _str(resource.get("name")) or display or ""
    ident = _str(identifier.get("value")) if identifier else ""
    if not name and not ident:
        return None
    authority = (_oid(identifier.get("system")) or "") if identifier else ""
    return XON(name=name or ident, assigning_authority=authority, identifier=ident)


__all__ = [
    "MESSAGE_ID",
    "MhdInputError",
    "code",
    "codes",
    "dtm",
    "identifier_cx",
    "localized",
    "organisation",
    "person",
    "sha1_hex",
    "size",
    "text",
    "unique_id",
]
