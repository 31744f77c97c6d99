"""security.audit_event: AuditRecord -> FHIR R4 AuditEvent (BALP shape); codes checked against R4 core."""

from __future__ import annotations

import base64
import json
import tarfile
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from security import (
    AuditAction,
    AuditAgent,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    EntityKind,
    PurposeOfUse,
    to_audit_event,
)
from tests.conftest import testdata_path

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PROFESSIONAL = AuditAgent(
    subject="physician:ZXCVB",
    roles=("physician",),
    name="Dr. Hansen",
    authorisation_id="ZXCVB",
    organisation_sor="123456789012345",
    it_system="EPJ",
    network_address="10.0.0.7",
)


def event(action: AuditAction, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "record_id": "r1",
        "recorded": T0,
        "action": action,
        "outcome": AuditOutcome.SUCCESS,
        "agent": PROFESSIONAL,
    }
    base.update(fields)
    return to_audit_event(AuditRecord(**base))


def test_fhir_read() -> None:
    e = event(
        AuditAction.READ,
        patient_cpr="0101011234",
        patient_id="p1",
        entities=(AuditEntity(EntityKind.RESOURCE, "Observation/o1/_history/2"),),
        purpose_of_use=PurposeOfUse.TREATMENT,
        decision_reason="allowed: physician read Observation with purpose of use treatment",
    )
    assert e["resourceType"] == "AuditEvent" and e["id"] == "r1"
    assert e["type"]["code"] == "rest" and e["subtype"] == [
        {"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}
    ]
    assert (e["action"], e["outcome"], e["recorded"]) == ("R", "0", "2026-03-01T09:30:00Z")
    assert e["outcomeDesc"].startswith("allowed: physician")
    user = e["agent"][0]
    assert user["requestor"] is True
    assert user["who"]["identifier"] == {"system": "https://autregweb.sst.dk", "value": "ZXCVB"}
    assert user["network"] == {"address": "10.0.0.7", "type": "2"}
    assert user["purposeOfUse"] == e["purposeOfEvent"]
    organisation = e["agent"][1]
    assert organisation["who"]["identifier"] == {
        "system": "urn:oid:1.2.208.176.1.1",
        "value": "123456789012345",
    }
    assert e["agent"][2]["who"]["display"] == "EPJ" and e["agent"][-1]["who"]["display"] == "telehub"
    patient, resource = e["entity"]
    assert patient["what"] == {
        "reference": "Patient/p1",
        "identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "0101011234"},
    }
    assert patient["role"]["code"] == "1" and resource["what"] == {"reference": "Observation/o1/_history/2"}


def test_iti_transactions() -> None:
    query = event(AuditAction.ITI_18, entities=(AuditEntity(EntityKind.QUERY, "FindDocuments?patientId=x"),))
    assert query["type"]["code"] == "110112" and query["subtype"][0] == {
        "system": "urn:ihe:event-type-code",
        "code": "ITI-18",
        "display": "Registry Stored Query",
    }
    assert base64.b64decode(query["entity"][0]["query"]) == b"FindDocuments?patientId=x"
    submit = event(
        AuditAction.ITI_41,
        entities=(
            AuditEntity(EntityKind.SUBMISSION_SET, "1.2.3"),
            AuditEntity(EntityKind.DOCUMENT, "1.2.3.1", "PHMR"),
        ),
    )
    assert (submit["type"]["code"], submit["action"]) == ("110107", "C")
    assert [x["role"]["code"] for x in submit["entity"]] == ["20", "3"]
    assert (
        submit["entity"][1]["what"] == {"identifier": {"value": "1.2.3.1"}}
        and submit["entity"][1]["description"] == "PHMR"
    )


def test_emergency_override_is_visible() -> None:
    e = event(
        AuditAction.READ, override=True, override_reason="Bevidstløs", purpose_of_use=PurposeOfUse.EMERGENCY
    )
    (purpose,) = e["purposeOfEvent"]
    assert [c["code"] for c in purpose["coding"]] == ["ETREAT", "BTG"] and purpose["text"] == "Bevidstløs"
    alert = event(AuditAction.EMERGENCY_OVERRIDE)
    assert alert["type"]["code"] == "110113" and alert["subtype"][0]["code"] == "110127"


def test_login_failure_of_an_unknown_caller() -> None:
    e = event(
        AuditAction.LOGIN_FAILURE,
        agent=AuditAgent(subject=None, network_address="203.0.113.9"),
        outcome=AuditOutcome.MINOR_FAILURE,
        outcome_description="bearer token has expired",
    )
    assert (e["type"]["code"], e["subtype"][0]["code"], e["outcome"]) == ("110114", "110122", "4")
    assert e["agent"][0]["who"] == {"display": "unknown"} and "entity" not in e and "purposeOfEvent" not in e
    assert e["outcomeDesc"] == "bearer token has expired"


def test_every_action_renders() -> None:
    for action in AuditAction:
        e = event(action)
        assert e["type"]["code"] and e["action"] in {"C", "R", "U", "D", "E"}


def test_citizen_agent_identified_by_cpr() -> None:
    citizen = AuditAgent(subject="citizen:0101011234", roles=("citizen",), cpr="0101011234")
    e = event(AuditAction.SEARCH, agent=citizen)
    assert e["agent"][0]["who"]["identifier"] == {"system": "urn:oid:1.2.208.176.1.2", "value": "0101011234"}
    assert len(e["agent"]) == 2  # the citizen and telehub


# ------------------------------------------------------------ codes exist in the R4 core package (testdata)


def _walk(concepts: list[dict[str, Any]]) -> list[str]:
    return [code for c in concepts for code in (c["code"], *_walk(c.get("concept", [])))]


@cache
def _r4_codes(system: str) -> frozenset[str]:
    path = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            if not member.name.startswith("package/CodeSystem-"):
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            data = json.loads(handle.read())
            if data.get("url") == system:
                return frozenset(_walk(data.get("concept", [])))
    pytest.fail(f"code system {system} not in the R4 core package")


def _codings(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            found.append(value)
        for v in value.values():
            found.extend(_codings(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(_codings(v))
    return found


def test_fhir_codes_used_exist_in_r4_core() -> None:
    checked = {
        "http://terminology.hl7.org/CodeSystem/audit-event-type",
        "http://hl7.org/fhir/restful-interaction",
        "http://terminology.hl7.org/CodeSystem/v3-ActReason",
        "http://terminology.hl7.org/CodeSystem/audit-entity-type",
        "http://terminology.hl7.org/CodeSystem/object-role",
        "http://terminology.hl7.org/CodeSystem/security-source-type",
        "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
        "http://terminology.hl7.org/CodeSystem/v3-RoleClass",
    }
    seen = 0
    for action in AuditAction:
        rendered = event(
            action,
            override=True,
            purpose_of_use=PurposeOfUse.EMERGENCY,
            patient_cpr="0101011234",
            entities=tuple(AuditEntity(k, "x") for k in EntityKind),
        )
        for coding in _codings(rendered):
            if coding["system"] in checked:
                assert coding["code"] in _r4_codes(coding["system"]), coding
                seen += 1
    assert seen > 100
