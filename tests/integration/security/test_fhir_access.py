"""Authentication, authorisation, Danish negative consent and audit on the FHIR door, with real dev tokens."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from sqlalchemy import text

from hub.cli.audit import verify_log
from hub.fhir import audit_row
from hub.storage import append_audit_txn
from security import AuditAction, AuditAgent, AuditOutcome, AuditRecord, chain_hash
from tests.integration.security.conftest import Token

FHIR = {"content-type": "application/fhir+json"}
CPR_A, CPR_B = "0101010101", "0202020202"


def patient(cpr: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": cpr}]}


def observation(pid: str, value: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2024-03-01T08:00:00+01:00",
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "kg"},
    }


def consent(cpr: str, actor: tuple[str, str] | None) -> dict[str, Any]:
    provision: dict[str, Any] = {"type": "deny"}
    if actor:
        provision["actor"] = [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "PRCP",
                        }
                    ]
                },
                "reference": {"identifier": {"system": actor[0], "value": actor[1]}},
            }
        ]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://telehub.dk/fhir/CodeSystem/dk-consent-category",
                        "code": "negative-consent",
                    }
                ]
            }
        ],
        "patient": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": cpr}},
        "policyRule": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]
        },
        "provision": provision,
    }


async def seed(client: httpx.AsyncClient, token: Token) -> dict[str, str]:
    system = token("system")
    ids = {}
    for name, cpr in (("a", CPR_A), ("b", CPR_B)):
        r = await client.post("/fhir/Patient", content=orjson.dumps(patient(cpr)), headers={**FHIR, **system})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
        for v in (70.0, 71.0):
            r = await client.post(
                "/fhir/Observation",
                content=orjson.dumps(observation(ids[name], v)),
                headers={**FHIR, **system},
            )
            assert r.status_code == 201, r.text
    return ids


async def test_missing_and_forged_tokens_are_401_with_operation_outcome(secure: Any, token: Token) -> None:
    client, _ = secure
    r = await client.get("/fhir/Observation")
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    assert "bearer" in r.headers["www-authenticate"].lower()
    good = token("physician", purpose="treatment")["authorization"]
    header, payload, sig = good.removeprefix("Bearer ").split(".")
    forged = f"Bearer {header}.{payload}.{sig[::-1]}"
    r = await client.get("/fhir/Observation", headers={"authorization": forged})
    assert r.status_code == 401


async def test_role_rules(secure: Any, token: Token) -> None:
    client, _ = secure
    ids = await seed(client, token)
    no_purpose = await client.get("/fhir/Observation", headers=token("physician"))
    assert no_purpose.status_code == 403 and "purpose" in no_purpose.text
    nurse = await client.get("/fhir/Observation", headers=token("nurse", purpose="treatment"))
    assert nurse.status_code == 200 and nurse.json()["total"] == 4
    citizen_write = await client.post(
        "/fhir/Observation",
        content=orjson.dumps(observation(ids["a"], 1)),
        headers={**FHIR, **token("citizen", cpr=CPR_A)},
    )
    assert citizen_write.status_code == 403
    physician_delete = await client.delete(
        f"/fhir/Patient/{ids['a']}", headers=token("physician", purpose="treatment")
    )
    assert physician_delete.status_code == 403


async def test_citizen_sees_only_own_data(secure: Any, token: Token) -> None:
    client, _ = secure
    ids = await seed(client, token)
    me = token("citizen", cpr=CPR_A)
    own = await client.get("/fhir/Observation", headers=me)
    assert own.status_code == 200 and own.json()["total"] == 2
    other = await client.get("/fhir/Observation", params={"patient": ids["b"]}, headers=me)
    assert other.json()["total"] == 0
    assert (await client.get(f"/fhir/Patient/{ids['b']}", headers=me)).status_code == 404
    assert (await client.get(f"/fhir/Patient/{ids['a']}", headers=me)).status_code == 200


async def test_negative_consent_inside_queries_and_emergency_override(secure: Any, token: Token) -> None:
    client, services = secure
    ids = await seed(client, token)
    doctor = token("physician", purpose="treatment", authorisation_id="BCD12", sor="123456789012")
    # citizen A blocks this doctor by authorisation id
    r = await client.post(
        "/fhir/Consent",
        content=orjson.dumps(consent(CPR_A, ("https://autregweb.sst.dk", "BCD12"))),
        headers={**FHIR, **token("citizen", cpr=CPR_A, scopes=("patient/*.rs", "patient/Consent.cruds"))},
    )
    assert r.status_code == 201, r.text
    blocked = await client.get("/fhir/Observation", params={"_count": "1"}, headers=doctor)
    body = blocked.json()
    assert body["total"] == 2  # only B's observations; total and paging agree
    assert {
        e["resource"]["subject"]["reference"] for e in body["entry"] if e["search"]["mode"] == "match"
    } == {f"Patient/{ids['b']}"}
    warning = [e for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert "withheld" in warning[0]["resource"]["issue"][0]["diagnostics"]
    assert (await client.get(f"/fhir/Patient/{ids['a']}", headers=doctor)).status_code == 404
    await services.fhir.audit.close()
    denials = (
        await client.get("/fhir/AuditEvent", params={"action": "consent-denial"}, headers=token("admin"))
    ).json()
    assert denials["total"] == 1
    # a search naming the patient: the blocked patient's rows are withheld (with the warning), an unblocked
    # patient's are served without a warning and with an exact total
    named_a = (await client.get("/fhir/Observation", params={"patient": ids["a"]}, headers=doctor)).json()
    assert named_a["total"] == 0
    assert [e["search"]["mode"] for e in named_a["entry"]] == ["outcome"]
    named_b = await client.get(
        "/fhir/Observation", params={"patient": ids["b"], "_count": "1"}, headers=doctor
    )
    assert named_b.json()["total"] == 2 and len(named_b.json()["entry"]) == 1  # a full page: total counted
    named_b = await client.get("/fhir/Observation", params={"patient": ids["b"]}, headers=doctor)
    assert named_b.json()["total"] == 2
    assert all(e["search"]["mode"] == "match" for e in named_b.json()["entry"])
    # another doctor is not blocked
    other = token("physician", purpose="treatment", authorisation_id="XYZ98", sor="999999999999")
    assert (await client.get("/fhir/Observation", headers=other)).json()["total"] == 4
    # værdispring: emergency + reason lifts the block for this request and is audited as an override
    emergency = token(
        "physician",
        purpose="emergency",
        reason="bevidstløs patient",
        authorisation_id="BCD12",
        sor="123456789012",
    )
    lifted = await client.get("/fhir/Observation", params={"patient": ids["a"]}, headers=emergency)
    assert lifted.json()["total"] == 2
    await services.fhir.audit.close()
    log = await client.get("/fhir/AuditEvent", headers=token("citizen", cpr=CPR_A))
    assert log.status_code == 200
    events = [e["resource"] for e in log.json()["entry"]]
    assert any("bevidstløs" in orjson.dumps(ev).decode() for ev in events)


async def test_header_override_and_injection(secure: Any, token: Token) -> None:
    client, _ = secure
    await seed(client, token)
    doc = token("physician", authorisation_id="BCD12", sor="123456789012")
    ok = await client.get("/fhir/Observation", headers={**doc, "x-purpose-of-use": "treatment"})
    assert ok.status_code == 200
    evil = await client.get(
        "/fhir/Observation",
        headers={**doc, "x-purpose-of-use": "emergency", "x-override-reason": "ok\x07beep"},
    )
    assert evil.status_code == 403 and evil.json()["resourceType"] == "OperationOutcome"
    huge = await client.get("/fhir/Observation", headers={**doc, "x-filler": "x" * 20_000})
    assert huge.status_code == 401


async def test_unenforceable_consent_is_422_and_not_stored(secure: Any, token: Token) -> None:
    client, _ = secure
    bad = consent(CPR_A, None)
    bad["provision"]["purpose"] = [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HRESCH"}
    ]
    r = await client.post("/fhir/Consent", content=orjson.dumps(bad), headers={**FHIR, **token("admin")})
    assert r.status_code == 422
    assert (await client.get("/fhir/Consent", headers=token("admin"))).json()["total"] == 0


async def test_audit_event_is_read_only_and_chain_detects_tampering(secure: Any, token: Token) -> None:
    client, services = secure
    await seed(client, token)
    await client.get("/fhir/Observation", headers=token("nurse", purpose="treatment"))
    await client.get("/fhir/Observation")  # 401: audited as a login failure
    await services.fhir.audit.close()
    admin = token("admin")
    events = (await client.get("/fhir/AuditEvent", params={"_count": "200"}, headers=admin)).json()
    assert events["total"] >= 6
    assert any(e["resource"]["outcome"] != "0" for e in events["entry"])
    first = events["entry"][-1]["resource"]["id"]
    assert (await client.get(f"/fhir/AuditEvent/{first}", headers=admin)).status_code == 200
    assert (await client.delete(f"/fhir/AuditEvent/{first}", headers=admin)).status_code == 405
    assert (
        await client.post("/fhir/AuditEvent", content=b"{}", headers={**FHIR, **admin})
    ).status_code == 405
    db = services.fhir.db
    assert (await verify_log(db)).broken_seq is None
    async with db.sa_engine.begin() as conn:
        # an insider "corrects" who searched: the row no longer matches its hash
        await conn.execute(
            text(
                "UPDATE audit_log SET record = replace(record, 'nurse', 'admin') WHERE seq = "
                "(SELECT min(seq) FROM audit_log WHERE action = 'search')"
            )
        )
    result = await verify_log(db)
    assert result.broken_seq is not None and "edited" in (result.reason or "")


async def test_minlog_page_shows_accesses_by_others(secure: Any, token: Token) -> None:
    client, services = secure
    ids = await seed(client, token)
    doctor = token(
        "physician",
        purpose="emergency",
        reason="<script>alert(1)</script>",
        authorisation_id="BCD12",
        sor="123456789012",
    )
    assert (
        await client.get("/fhir/Observation", params={"patient": ids["a"]}, headers=doctor)
    ).status_code == 200
    await client.get("/fhir/Observation", headers=token("citizen", cpr=CPR_A))  # own access: not listed
    await services.fhir.audit.close()
    page = await client.get("/minlog", headers=token("citizen", cpr=CPR_A))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "BCD12" in page.text and "123456789012" in page.text
    assert 'class="override"' in page.text
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert page.text.count("<tr class=") == 1
    refused = await client.get("/minlog", headers=token("physician", purpose="treatment"))
    assert refused.status_code == 403


async def test_minlog_is_not_crowded_out_by_the_citizens_own_lookups(secure: Any, token: Token) -> None:
    """The log shows others' lookups however many records the citizen's own app or the submissions wrote
    since (only successful data accesses are read, and own lookups are skipped page by page)."""
    client, services = secure
    ids = await seed(client, token)
    doctor = token("physician", purpose="treatment", authorisation_id="BCD12", sor="123456789012")
    assert (await client.get(f"/fhir/Observation?patient={ids['a']}", headers=doctor)).status_code == 200
    await services.fhir.audit.close()
    citizen = AuditAgent(subject="app", roles=("citizen",), cpr=CPR_A)
    own = [AuditRecord.new(AuditAction.SEARCH, AuditOutcome.SUCCESS, citizen, patient_cpr=CPR_A)] * 1_200
    writes = [AuditRecord.new(AuditAction.CREATE, AuditOutcome.SUCCESS, citizen, patient_cpr=CPR_A)] * 1_200
    rows = [audit_row(record, CPR_A) for record in [*own, *writes]]
    await services.fhir.db.run_write("flood", append_audit_txn, services.fhir.db.engine, rows, chain_hash)
    page = await client.get("/minlog", headers=token("citizen", cpr=CPR_A))
    assert page.status_code == 200 and page.text.count("<tr class=") == 1 and "BCD12" in page.text
