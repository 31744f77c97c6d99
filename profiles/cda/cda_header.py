"""Read the CDA R2 header (HL7 CDA R2 §4.2) into plain values: ids, codes, times, patient, authors.

Shared by the XDS metadata derivation (DK XDS metadata profile v2.0.0, source "CDA") and the PHMR ->
FHIR extraction (subject, performer).  Reading never judges: missing parts are ``None``/empty and the
DK PHMR rules report them.
"""

from __future__ import annotations

from lxml import etree

from hub.core.values import value_record
from profiles.cda.phmr_content import CodedValue, first_children
from profiles.cda.timestamps import Hl7Timestamp, parse_ts
from profiles.cda.vocabulary import Oid, hl7_tag

_ID, _NAME, _CODE, _TIME = hl7_tag("id"), hl7_tag("name"), hl7_tag("code"), hl7_tag("time")
_AUTHOR, _ASSIGNED_AUTHOR = hl7_tag("author"), hl7_tag("assignedAuthor")
_LEGAL_AUTHENTICATOR, _ASSIGNED_ENTITY = hl7_tag("legalAuthenticator"), hl7_tag("assignedEntity")
_CUSTODIAN, _ASSIGNED_CUSTODIAN = hl7_tag("custodian"), hl7_tag("assignedCustodian")
_CUSTODIAN_ORGANIZATION = hl7_tag("representedCustodianOrganization")
_ASSIGNED_PERSON, _REPRESENTED_ORGANIZATION = hl7_tag("assignedPerson"), hl7_tag("representedOrganization")
_DOCUMENTATION_OF, _SERVICE_EVENT = hl7_tag("documentationOf"), hl7_tag("serviceEvent")
_EFFECTIVE_TIME, _LOW, _HIGH = hl7_tag("effectiveTime"), hl7_tag("low"), hl7_tag("high")
_RECORD_TARGET, _PATIENT_ROLE, _PATIENT = hl7_tag("recordTarget"), hl7_tag("patientRole"), hl7_tag("patient")
_TITLE, _CONFIDENTIALITY, _LANGUAGE = (
    hl7_tag("title"),
    hl7_tag("confidentialityCode"),
    hl7_tag("languageCode"),
)
_BIRTH_TIME, _GENDER = hl7_tag("birthTime"), hl7_tag("administrativeGenderCode")


@value_record
class InstanceId:
    """An II: ``root`` OID plus optional ``extension``."""

    root: str
    extension: str | None = None

    @classmethod
    def of(cls, element: etree._Element) -> InstanceId:
        return cls(element.get("root", ""), element.get("extension"))


@value_record
class PersonName:
    """A PN reduced to what XDS and FHIR use: one family name, given names in order, one prefix."""

    family: str | None
    given: tuple[str, ...]
    prefix: str | None

    @classmethod
    def of(cls, name: etree._Element | None) -> PersonName | None:
        if name is None:
            return None
        family = name.findtext(hl7_tag("family"))
        given = tuple(
            (g.text or "").strip() for g in name.iterchildren(hl7_tag("given")) if (g.text or "").strip()
        )
        prefix = name.findtext(hl7_tag("prefix"))
        return cls(family.strip() if family else None, given, prefix.strip() if prefix else None)


@value_record
class Organization:
    ids: tuple[InstanceId, ...]
    name: str | None

    @property
    def sor(self) -> str | None:
        return next((i.extension for i in self.ids if i.root == Oid.SOR.value and i.extension), None)


@value_record
class Participant:
    """An author or legal authenticator: its own ids, person name, role code and organisation."""

    ids: tuple[InstanceId, ...]
    person: PersonName | None
    organization: Organization | None
    role_code: str | None
    time: Hl7Timestamp | None

    @property
    def sor(self) -> str | None:
        """The SOR code of the participant (its own id, else its organisation's)."""
        own = next((i.extension for i in self.ids if i.root == Oid.SOR.value and i.extension), None)
        return own or (self.organization.sor if self.organization else None)

    @property
    def is_citizen(self) -> bool:
        return self.role_code == "SELF" and any(i.root == Oid.CPR.value for i in self.ids)


@value_record
class CdaHeader:
    """The header values the hub maps to XDS metadata and FHIR."""

    document_id: InstanceId | None
    code: CodedValue | None
    title: str | None
    effective_time: Hl7Timestamp | None
    confidentiality: CodedValue | None
    language: str | None
    patient_ids: tuple[InstanceId, ...]
    patient_name: PersonName | None
    birth_time: str | None  # raw TS; a birth date is not shifted to UTC
    gender: str | None
    authors: tuple[Participant, ...]
    custodian: Organization | None
    legal_authenticator: Participant | None
    service_start: Hl7Timestamp | None
    service_stop: Hl7Timestamp | None
    event_codes: tuple[CodedValue, ...]

    @property
    def cpr(self) -> str | None:
        return next((i.extension for i in self.patient_ids if i.root == Oid.CPR.value and i.extension), None)

    @property
    def unique_id(self) -> str | None:
        """XDS uniqueId ``root^extension`` (DK profile §2.3), or the bare root without an extension."""
        if self.document_id is None or not self.document_id.root:
            return None
        if self.document_id.extension:
            return f"{self.document_id.root}^{self.document_id.extension}"
        return self.document_id.root


def _organization(element: etree._Element | None) -> Organization | None:
    if element is None:
        return None
    name = element.findtext(_NAME)
    return Organization(
        tuple(InstanceId.of(i) for i in element.iterchildren(_ID)), name.strip() if name else None
    )


def _participant(entity: etree._Element, time: etree._Element | None) -> Participant:
    parts = first_children(entity)
    person = parts.get(_ASSIGNED_PERSON)
    code = parts.get(_CODE)
    return Participant(
        ids=tuple(InstanceId.of(i) for i in entity.iterchildren(_ID)),
        person=PersonName.of(next(person.iterchildren(_NAME), None) if person is not None else None),
        organization=_organization(parts.get(_REPRESENTED_ORGANIZATION)),
        role_code=code.get("code") if code is not None else None,
        time=parse_ts(time.get("value") if time is not None else None),
    )


def _coded(element: etree._Element | None) -> CodedValue | None:
    return CodedValue.of(element) if element is not None and element.get("code") else None


def _value(element: etree._Element | None, attribute: str = "value") -> str | None:
    return element.get(attribute) if element is not None else None


def read_header(root: etree._Element) -> CdaHeader:
    """Read the header of a ``ClinicalDocument``."""
    top = first_children(root)  # one pass over the header instead of a find() per element
    authors: list[Participant] = []
    legal_authenticator: Participant | None = None
    custodian: Organization | None = None
    event_codes: list[CodedValue] = []
    period: etree._Element | None = None
    for child in root.iterchildren(_AUTHOR, _LEGAL_AUTHENTICATOR, _CUSTODIAN, _DOCUMENTATION_OF):
        parts = first_children(child)
        if child.tag == _AUTHOR and _ASSIGNED_AUTHOR in parts:
            authors.append(_participant(parts[_ASSIGNED_AUTHOR], parts.get(_TIME)))
        elif child.tag == _LEGAL_AUTHENTICATOR and legal_authenticator is None and _ASSIGNED_ENTITY in parts:
            legal_authenticator = _participant(parts[_ASSIGNED_ENTITY], parts.get(_TIME))
        elif child.tag == _CUSTODIAN and custodian is None:
            assigned = parts.get(_ASSIGNED_CUSTODIAN)
            organization = (
                next(assigned.iterchildren(_CUSTODIAN_ORGANIZATION), None) if assigned is not None else None
            )
            custodian = _organization(organization)
        elif child.tag == _DOCUMENTATION_OF:
            event = parts.get(_SERVICE_EVENT)
            event_parts = first_children(event)
            if _CODE in event_parts and event_parts[_CODE].get("code"):
                event_codes.append(CodedValue.of(event_parts[_CODE]))
            effective = event_parts.get(_EFFECTIVE_TIME)
            if period is None and effective is not None and len(effective):
                period = effective
    record_target = top.get(_RECORD_TARGET)
    role = next(record_target.iterchildren(_PATIENT_ROLE), None) if record_target is not None else None
    patient = first_children(next(role.iterchildren(_PATIENT), None) if role is not None else None)
    bounds = first_children(period)
    doc_id = top.get(_ID)
    title = top.get(_TITLE)
    title_text = " ".join("".join(str(t) for t in title.itertext()).split()) if title is not None else ""
    return CdaHeader(
        document_id=InstanceId.of(doc_id) if doc_id is not None else None,
        code=_coded(top.get(_CODE)),
        title=title_text or None,
        effective_time=parse_ts(_value(top.get(_EFFECTIVE_TIME))),
        confidentiality=_coded(top.get(_CONFIDENTIALITY)),
        language=_value(top.get(_LANGUAGE), "code"),
        patient_ids=tuple(InstanceId.of(i) for i in role.iterchildren(_ID)) if role is not None else (),
        patient_name=PersonName.of(patient.get(_NAME)),
        birth_time=_value(patient.get(_BIRTH_TIME)),
        gender=_value(patient.get(_GENDER), "code"),
        authors=tuple(authors),
        custodian=custodian,
        legal_authenticator=legal_authenticator,
        service_start=parse_ts(_value(bounds.get(_LOW))),
        service_stop=parse_ts(_value(bounds.get(_HIGH))),
        event_codes=tuple(event_codes),
    )


__all__ = ["CdaHeader", "InstanceId", "Organization", "Participant", "PersonName", "read_header"]
