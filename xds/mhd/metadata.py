"""MHD DocumentReferences read back into XDS DocumentEntries: the inverse of the DocumentReference view.

DocumentReference -> DocumentEntry follows the table in :mod:`xds.phmr.document_reference`; in addition
``content.attachment.creation`` is creationTime (``date`` only when it is absent), ``authenticator`` is
legalAuthenticator, ``context.sourcePatientInfo`` (a contained Patient) gives sourcePatientId and
sourcePatientInfo (PID-3/5/7/8), and ``author`` references (contained Practitioner, PractitionerRole or
Organization, or a reference with an identifier) become one XDS Author: the first person with every
organisation and the people's e-mail addresses and phone numbers (authorTelecommunication).
``relatesTo`` becomes RPLC / XFRM / APND / signs associations to existing entries.

The SubmissionSet and Folder Lists are read by :mod:`xds.mhd.list_metadata`.

A subject is a Patient reference by identifier (``urn:oid:1.2.208.176.1.2|<CPR>``), a literal
``Patient/<id>`` the caller resolved to one, or the ``fullUrl`` of the bundle's Patient read (both in
``patients``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xds.codes import AssociationType, AvailabilityStatus
from xds.hl7v2 import CX
from xds.mhd import fhir_values as fv
from xds.mhd.fhir_values import MhdInputError
from xds.model import Association, Author, DocumentEntry
from xds.phmr.document_reference import UUID_PREFIX

MHD_EXT = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
IDENTIFIER_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/IHE.MHD.MHDIdentifierType"
_RELATIONS = {
    "replaces": AssociationType.RPLC,
    "transforms": AssociationType.XFRM,
    "appends": AssociationType.APND,
    "signs": AssociationType.SIGNS,
}
_GENDER = {"male": "M", "female": "F", "other": "O", "unknown": "U"}


def literal_patient(reference: object) -> str | None:
    """The id of a literal ``Patient/<id>`` (relative or absolute) reference, or None."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    parts = reference["reference"].rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1] else None


def bundled_patient(reference: object, patients: Mapping[str, CX]) -> CX | None:
    """The patient of a reference to the bundle's Patient entry: its ``fullUrl``, always an absolute URI
    (``urn:uuid:…``, ``http…``), so never one of the literal ids ``patients`` also holds."""
    ref = reference.get("reference") if isinstance(reference, dict) else None
    return patients.get(ref) if isinstance(ref, str) and ":" in ref else None


def subject(reference: object, where: str, patients: Mapping[str, CX]) -> CX:
    """The XDS patientId of a subject reference (see the module docstring)."""
    if not isinstance(reference, dict):
        raise MhdInputError(f"{where} (the patient) is required", where)
    bundled = bundled_patient(reference, patients)
    if bundled is not None:
        return bundled
    literal = literal_patient(reference)
    if literal is not None:
        found = patients.get(literal)
        if found is None:
            raise MhdInputError(f"{where} Patient/{literal} has no CPR identifier known to this hub", where)
        return found
    if "identifier" in reference:
        return fv.identifier_cx(reference["identifier"], f"{where}.identifier")
    raise MhdInputError(
        f"{where} must name the patient by identifier (urn:oid:1.2.208.176.1.2|<CPR>) or as Patient/<id>",
        where,
    )


def _contained(resource: dict[str, Any], reference: object) -> dict[str, Any] | None:
    ref = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    for item in resource.get("contained") or []:
        if isinstance(item, dict) and item.get("id") == ref[1:]:
            return item
    return None


def referenced(resource: dict[str, Any], reference: object) -> dict[str, Any]:
    """A referenced resource: the contained one, else the reference itself (identifier + display)."""
    found = _contained(resource, reference)
    if found is not None:
        return found
    if not isinstance(reference, dict):
        return {}
    kind = reference.get("type")
    if not isinstance(kind, str) and isinstance(reference.get("reference"), str):
        kind = reference["reference"].lstrip("#").split("/")[0]
    display = reference.get("display")
    target: dict[str, Any] = {"resourceType": kind, "identifier": [reference.get("identifier")]}
    if isinstance(display, str):
        target["name"] = display if kind == "Organization" else [{"family": display}]
    return target


def authors(resource: dict[str, Any], references: object, where: str) -> tuple[Author, ...]:
    """One XDS Author: the first person referenced and every organisation (see the module docstring)."""
    if references is None:
        return ()
    if not isinstance(references, list):
        raise MhdInputError(f"{where} must be a list of references", where)
    people: list[str] = []
    institutions: list[str] = []
    telecoms: list[str] = []
    for reference in references:
        target = referenced(resource, reference)
        kind = target.get("resourceType")
        if kind == "PractitionerRole":
            for part in ("practitioner", "organization"):
                inner = referenced(resource, target.get(part))
                if inner:
                    inner.setdefault(
                        "resourceType", "Practitioner" if part == "practitioner" else "Organization"
                    )
                    _collect(inner, people, institutions, telecoms)
            continue
        _collect(target, people, institutions, telecoms)
    if not people and not institutions and not telecoms:
        return ()
    return (
        Author(
            person=people[0] if people else None,
            institutions=tuple(institutions),
            telecoms=tuple(dict.fromkeys(telecoms)),
        ),
    )


def _xtn(contact: object) -> str | None:
    """A ContactPoint as XTN (ITI TF-3 4.2.3.1.7: e-mail ``^^Internet^address``, else the number in XTN.1)."""
    if not isinstance(contact, dict) or not isinstance(contact.get("value"), str) or not contact["value"]:
        return None
    value: str = contact["value"]
    return f"^^Internet^{value}" if contact.get("system") == "email" else value


def _collect(target: dict[str, Any], people: list[str], institutions: list[str], telecoms: list[str]) -> None:
    if target.get("resourceType") != "Organization":
        telecoms.extend(t for t in (_xtn(c) for c in target.get("telecom") or []) if t)
    if target.get("resourceType") == "Organization":
        xon = fv.organisation(target)
        if xon is not None:
            institutions.append(xon.format())
    else:
        xcn = fv.person(target)
        if xcn is not None:
            people.append(xcn.format())


def _source_patient(
    resource: dict[str, Any], context: dict[str, Any], where: str, patients: Mapping[str, CX]
) -> tuple[CX | None, tuple[str, ...]]:
    reference = context.get("sourcePatientInfo")
    if reference is None:
        return None, ()
    patient = _contained(resource, reference)
    if patient is None:
        if literal_patient(reference) is not None or bundled_patient(reference, patients) is not None:
            return subject(reference, where, patients), ()
        if isinstance(reference, dict) and "identifier" in reference:
            return fv.identifier_cx(reference["identifier"], f"{where}.identifier"), ()
        raise MhdInputError(
            f"{where} must reference a contained Patient or Patient/<id>, or carry an identifier", where
        )
    identifiers = [i for i in patient.get("identifier") or [] if isinstance(i, dict)]
    source = next(
        (fv.identifier_cx(i, where) for i in identifiers if str(i.get("system", "")).startswith("urn:oid:")),
        None,
    )
    info: list[str] = []
    if source is not None:
        info.append(f"PID-3|{source.format()}")
    xcn = fv.person({"name": patient.get("name")})
    if xcn is not None and xcn.family:  # PID-5 is an XPN: family^given^further given
        info.append("PID-5|" + "^".join((xcn.family, xcn.given, xcn.further_given)).rstrip("^"))
    birth = fv.dtm(patient.get("birthDate"), f"{where}.birthDate")
    if birth:
        info.append(f"PID-7|{birth}")
    gender = _GENDER.get(str(patient.get("gender")))
    if gender:
        info.append(f"PID-8|{gender}")
    return source, tuple(info)


def _reference_ids(related: object, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for index, item in enumerate(related if isinstance(related, list) else []):
        identifier = item.get("identifier") if isinstance(item, dict) else None
        if identifier is None:
            continue
        cx = fv.identifier_cx(identifier, f"{where}[{index}].identifier")
        out.append(cx.format())
    return tuple(out)


def json_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (absent or malformed optional parts)."""
    return value if isinstance(value, dict) else {}


def document_entry(
    resource: dict[str, Any], entry_id: str, where: str, patients: Mapping[str, CX]
) -> DocumentEntry:
    """The DocumentEntry of one DocumentReference (``entry_id``: its symbolic id or entryUUID)."""
    status = resource.get("status")
    if status != "current":
        raise MhdInputError(
            f"{where}.status must be 'current' for a new document, not {status!r}", f"{where}.status"
        )
    content = resource["content"][0]
    attachment = content["attachment"]
    a = f"{where}.content[0].attachment"
    context: dict[str, Any] = json_object(resource.get("context"))
    period: dict[str, Any] = json_object(context.get("period"))
    category = resource.get("category")
    source_id, source_info = _source_patient(
        resource, context, f"{where}.context.sourcePatientInfo", patients
    )
    authenticator = (
        referenced(resource, resource.get("authenticator")) if resource.get("authenticator") else None
    )
    legal = fv.person(authenticator) if authenticator else None
    return DocumentEntry(
        entry_uuid=entry_id,
        availability_status=AvailabilityStatus.APPROVED,
        unique_id=fv.unique_id(resource.get("masterIdentifier"), f"{where}.masterIdentifier"),
        patient_id=subject(resource.get("subject"), f"{where}.subject", patients),
        source_patient_id=source_id,
        source_patient_info=source_info,
        class_code=fv.codes(category, f"{where}.category")[0] if category else None,
        type_code=fv.code(resource.get("type"), f"{where}.type"),
        format_code=fv.code(content.get("format"), f"{where}.content[0].format"),
        confidentiality_codes=fv.codes(resource.get("securityLabel"), f"{where}.securityLabel"),
        healthcare_facility_type_code=fv.code(context.get("facilityType"), f"{where}.context.facilityType"),
        practice_setting_code=fv.code(context.get("practiceSetting"), f"{where}.context.practiceSetting"),
        event_codes=fv.codes(context.get("event"), f"{where}.context.event"),
        language_code=fv.text(attachment.get("language"), f"{a}.language"),
        mime_type=fv.text(attachment.get("contentType"), f"{a}.contentType"),
        title=fv.localized(attachment.get("title"), f"{a}.title"),
        comments=fv.localized(resource.get("description"), f"{where}.description"),
        creation_time=fv.dtm(attachment.get("creation"), f"{a}.creation")
        or fv.dtm(resource.get("date"), f"{where}.date"),
        service_start_time=fv.dtm(period.get("start"), f"{where}.context.period.start"),
        service_stop_time=fv.dtm(period.get("end"), f"{where}.context.period.end"),
        hash=fv.sha1_hex(attachment.get("hash"), f"{a}.hash"),
        size=fv.size(attachment.get("size"), f"{a}.size"),
        legal_authenticator=legal.format() if legal else None,
        authors=authors(resource, resource.get("author"), f"{where}.author"),
        reference_ids=_reference_ids(context.get("related"), f"{where}.context.related"),
    )


def relations(resource: dict[str, Any], entry_id: str, where: str) -> list[Association]:
    """``relatesTo`` as associations from this document to registered entries (``DocumentReference/<id>``)."""
    out: list[Association] = []
    for index, relation in enumerate(resource.get("relatesTo") or []):
        here = f"{where}.relatesTo[{index}]"
        kind = _RELATIONS.get(str(relation.get("code"))) if isinstance(relation, dict) else None
        target = relation.get("target", {}).get("reference") if isinstance(relation, dict) else None
        if kind is None:
            raise MhdInputError(f"{here}.code must be one of {', '.join(_RELATIONS)}", f"{here}.code")
        parts = target.split("/") if isinstance(target, str) else []
        if len(parts) < 2 or parts[-2] != "DocumentReference" or not parts[-1]:
            raise MhdInputError(
                f"{here}.target must be DocumentReference/<id> of a registered document", f"{here}.target"
            )
        out.append(
            Association(
                entry_uuid=f"{entry_id}-relation{index}",
                association_type=kind,
                source=entry_id,
                target=f"{UUID_PREFIX}{parts[-1]}",
            )
        )
    return out


def typed_identifier(resource: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for identifier in resource.get("identifier") or []:
        if not isinstance(identifier, dict):
            continue
        codings = (identifier.get("type") or {}).get("coding") or []
        if any(
            isinstance(c, dict) and c.get("system") == IDENTIFIER_TYPES and c.get("code") == kind
            for c in codings
        ):
            return identifier
    return None


def entry_uuid(resource: dict[str, Any], where: str) -> str | None:
    """The entryUUID the source assigned (identifier typed ``entryUUID``, or an official urn:uuid one)."""
    identifier = typed_identifier(resource, "entryUUID")
    if identifier is None:
        identifier = next(
            (
                i
                for i in resource.get("identifier") or []
                if isinstance(i, dict)
                and i.get("use") == "official"
                and str(i.get("value", "")).startswith(UUID_PREFIX)
            ),
            None,
        )
    value = identifier.get("value") if identifier else None
    if value is None:
        return None
    if not isinstance(value, str) or not value.lower().startswith(UUID_PREFIX):
        raise MhdInputError(f"{where}.identifier entryUUID must be urn:uuid:<uuid>", f"{where}.identifier")
    return value


__all__ = [
    "IDENTIFIER_TYPES",
    "MHD_EXT",
    "authors",
    "bundled_patient",
    "document_entry",
    "entry_uuid",
    "json_object",
    "literal_patient",
    "referenced",
    "relations",
    "subject",
    "typed_identifier",
]
