"""Rendering an AuditRecord as a FHIR R4 AuditEvent (https://hl7.org/fhir/R4/auditevent.html), BALP-style.

Following IHE BALP (https://profiles.ihe.net/ITI/BALP/) and IHE ITI TF-2 audit guidance:

* FHIR interactions: ``type`` audit-event-type#rest, ``subtype`` restful-interaction#<interaction>;
* IHE transactions: ``type`` DICOM (DCM) 110112 Query / 110107 Import / 110106 Export /
  110110 Patient Record, ``subtype`` urn:ihe:event-type-code#ITI-nn;
* operator actions of the command line: DCM 110113 Security Alert / 110131 Software Configuration (package,
  pack, migration) or 110132 Use of Restricted Function (re-index, blob collection); audit verification:
  DCM 110101 Audit Log Used;
* login failure: DCM 110114 User Authentication / 110122 Login; emergency override:
  DCM 110113 Security Alert / 110127 Emergency Override Started; consent denial: Security Alert
  with the telehub code ``urn:telehub:audit-subtype#consent-denial``;
* agents: the requesting user (authorisation id, or CPR for a citizen, as ``who.identifier``),
  their organisation (SOR), their IT system, and telehub itself;
* entities: the patient (object-role 1), resources (4), documents (3), submission sets (20)
  and queries (24, base64 ``query``);
* ``purposeOfEvent``: v3-ActReason TREAT / ETREAT, plus BTG (break the glass) on an override, with
  the override reason as text; ``outcomeDesc`` carries the authorisation decision's reason.
"""

from __future__ import annotations

import base64
from datetime import UTC
from typing import Any

from security.audit import AuditAction, AuditRecord, EntityKind
from security.principal import AUTHORISATION_SYSTEM, CPR_SYSTEM, SOR_SYSTEM

DCM = "http://dicom.nema.org/resources/ontology/DCM"
IHE_EVENT = "urn:ihe:event-type-code"
REST_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
TELEHUB_ROLE = "urn:telehub:role"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
TELEHUB_SUBTYPE = "urn:telehub:audit-subtype"


def _dcm(code: str, display: str) -> dict[str, str]:
    return {"system": DCM, "code": code, "display": display}


def _iti(code: str, display: str) -> dict[str, str]:
    return {"system": IHE_EVENT, "code": code, "display": display}


_QUERY, _IMPORT, _EXPORT = _dcm("110112", "Query"), _dcm("110107", "Import"), _dcm("110106", "Export")
_RECORD, _ALERT = _dcm("110110", "Patient Record"), _dcm("110113", "Security Alert")
_SOFTWARE, _RESTRICTED = (
    _dcm("110131", "Software Configuration"),
    _dcm("110132", "Use of Restricted Function"),
)

# action -> (type, subtype, AuditEvent.action)
_EVENT: dict[AuditAction, tuple[dict[str, str], dict[str, str], str]] = {
    AuditAction.READ: (REST_TYPE, {"system": RESTFUL, "code": "read"}, "R"),
    AuditAction.SEARCH: (REST_TYPE, {"system": RESTFUL, "code": "search-type"}, "E"),
    AuditAction.CREATE: (REST_TYPE, {"system": RESTFUL, "code": "create"}, "C"),
    AuditAction.UPDATE: (REST_TYPE, {"system": RESTFUL, "code": "update"}, "U"),
    AuditAction.DELETE: (REST_TYPE, {"system": RESTFUL, "code": "delete"}, "D"),
    AuditAction.VALIDATE: (REST_TYPE, {"system": RESTFUL, "code": "operation"}, "E"),
    AuditAction.TRANSACTION: (REST_TYPE, {"system": RESTFUL, "code": "transaction"}, "E"),
    AuditAction.INSTALL_PACKAGE: (_ALERT, _SOFTWARE, "U"),
    AuditAction.INSTALL_PACK: (_ALERT, _SOFTWARE, "U"),
    AuditAction.MIGRATE: (_ALERT, _SOFTWARE, "U"),
    AuditAction.REINDEX: (_ALERT, _RESTRICTED, "U"),
    AuditAction.COLLECT_BLOBS: (_ALERT, _RESTRICTED, "D"),
    AuditAction.VERIFY_AUDIT: (_dcm("110101", "Audit Log Used"), _RESTRICTED, "E"),
    AuditAction.ITI_18: (_QUERY, _iti("ITI-18", "Registry Stored Query"), "E"),
    AuditAction.ITI_41: (_IMPORT, _iti("ITI-41", "Provide and Register Document Set-b"), "C"),
    AuditAction.ITI_42: (_IMPORT, _iti("ITI-42", "Register Document Set-b"), "C"),
    AuditAction.ITI_43: (_EXPORT, _iti("ITI-43", "Retrieve Document Set"), "R"),
    AuditAction.ITI_57: (_RECORD, _iti("ITI-57", "Update Document Set"), "U"),
    AuditAction.ITI_62: (_RECORD, _iti("ITI-62", "Delete Document Set"), "D"),
    AuditAction.ITI_65: (_IMPORT, _iti("ITI-65", "Provide Document Bundle"), "C"),
    AuditAction.ITI_67: (_QUERY, _iti("ITI-67", "Find Document References"), "E"),
    AuditAction.ITI_68: (_EXPORT, _iti("ITI-68", "Retrieve Document"), "R"),
    AuditAction.LOGIN_FAILURE: (_dcm("110114", "User Authentication"), _dcm("110122", "Login"), "E"),
    AuditAction.CONSENT_DENIAL: (_ALERT, {"system": TELEHUB_SUBTYPE, "code": "consent-denial"}, "E"),
    AuditAction.EMERGENCY_OVERRIDE: (_ALERT, _dcm("110127", "Emergency Override Started"), "E"),
}
_ENTITY_ROLE = {
    EntityKind.RESOURCE: ("4", "Domain Resource"),
    EntityKind.DOCUMENT: ("3", "Report"),
    EntityKind.SUBMISSION_SET: ("20", "Job"),
    EntityKind.QUERY: ("24", "Query"),
    EntityKind.CONFIGURATION: ("5", "Master file"),
    EntityKind.DATA_STORE: ("17", "Data Repository"),
}


def to_audit_event(record: AuditRecord, *, observer: str = "telehub") -> dict[str, Any]:
    """The FHIR R4 AuditEvent JSON of ``record`` (``id`` = the record id)."""
    event_type, subtype, action = _EVENT[record.action]
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": record.record_id,
        "type": event_type,
        "subtype": [subtype],
        "action": action,
        "recorded": record.recorded.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "outcome": record.outcome.value,
    }
    description = "; ".join(t for t in (record.decision_reason, record.outcome_description) if t)
    if description:
        event["outcomeDesc"] = description
    purpose = _purpose(record)
    if purpose:
        event["purposeOfEvent"] = purpose
    event["agent"] = _agents(record, observer, purpose)
    event["source"] = {
        "observer": {"display": observer},
        "type": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server",
            }
        ],
    }
    entities = _entities(record)
    if entities:
        event["entity"] = entities
    return event


def _purpose(record: AuditRecord) -> list[dict[str, Any]]:
    codings = []
    if record.purpose_of_use is not None:
        codings.append({"system": ACT_REASON, "code": record.purpose_of_use.act_reason})
    if record.override:
        codings.append({"system": ACT_REASON, "code": "BTG", "display": "break the glass"})
    if not codings:
        return []
    concept: dict[str, Any] = {"coding": codings}
    if record.override_reason:
        concept["text"] = record.override_reason
    return [concept]


def _agents(record: AuditRecord, observer: str, purpose: list[dict[str, Any]]) -> list[dict[str, Any]]:
    agent = record.agent
    who: dict[str, Any] = {"display": agent.name or agent.subject or "unknown"}
    if agent.authorisation_id:
        who["identifier"] = {"system": AUTHORISATION_SYSTEM, "value": agent.authorisation_id}
    elif agent.cpr:
        who["identifier"] = {"system": CPR_SYSTEM, "value": agent.cpr}
    user: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "IRCP",
                    "display": "information recipient",
                }
            ]
        },
        "who": who,
        "requestor": True,
    }
    if agent.subject:
        user["altId"] = agent.subject
    if agent.roles:
        user["role"] = [{"coding": [{"system": TELEHUB_ROLE, "code": r}]} for r in agent.roles]
    if agent.network_address:
        user["network"] = {"address": agent.network_address, "type": "2"}
    if purpose:
        user["purposeOfUse"] = purpose
    agents = [user]
    if agent.organisation_sor:
        agents.append(
            {
                "type": {
                    "coding": [{"system": ROLE_CLASS, "code": "PROV", "display": "healthcare provider"}]
                },
                "who": {"identifier": {"system": SOR_SYSTEM, "value": agent.organisation_sor}},
                "requestor": False,
            }
        )
    if agent.it_system:
        agents.append(
            {
                "type": {"coding": [_dcm("110153", "Source Role ID")]},
                "who": {"display": agent.it_system},
                "requestor": False,
            }
        )
    agents.append(
        {
            "type": {"coding": [_dcm("110152", "Destination Role ID")]},
            "who": {"display": observer},
            "requestor": False,
        }
    )
    return agents


def _entities(record: AuditRecord) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if record.patient_cpr or record.patient_id:
        what: dict[str, Any] = {}
        if record.patient_id:
            what["reference"] = f"Patient/{record.patient_id}"
        if record.patient_cpr:
            what["identifier"] = {"system": CPR_SYSTEM, "value": record.patient_cpr}
        entities.append(
            {
                "what": what,
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    for item in record.entities:
        code, display = _ENTITY_ROLE[item.kind]
        entity: dict[str, Any] = {
            "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
            "role": {"system": OBJECT_ROLE, "code": code, "display": display},
        }
        if item.kind is EntityKind.QUERY:
            entity["query"] = base64.b64encode(item.identifier.encode()).decode("ascii")
        elif item.kind is EntityKind.RESOURCE:
            entity["what"] = {"reference": item.identifier}
        else:
            entity["what"] = {"identifier": {"value": item.identifier}}
        if item.description:
            entity["description"] = item.description
        entities.append(entity)
    return entities
