"""MHD ITI-68: a DocumentReference's attachment.url retrieves the submitted bytes, under the same
authorisation, consent and audit as ITI-43; bad ids, unknown ids, missing bytes and Accept mismatches are
clear errors."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import audit_rows_txn
from hub.storage.schema import xds_submission_set
from security import AuditAction, AuditOutcome, record_from_bytes
from tests.conftest import TESTDATA
from tests.integration.phmr.conftest import CPR, FHIR, XML, blob_files, reference_ids, running_hub
from tests.integration.security.conftest import Token
from tests.integration.security.test_fhir_access import consent
from tests.unit.profiles.cda.phmr_builder import build_phmr

BINARY_PREFIX = "http://testserver/fhir/Binary/"


async def _submitted(http: httpx.AsyncClient, headers: dict[str, str] | None = None) -> tuple[bytes, str]:
    document = build_phmr(3)
    r = await http.post("/fhir/$submit-document", content=document, headers={**XML, **(headers or {})})
    assert r.status_code == 201, r.text
    return document, reference_ids(r.json(), "documentReference")[0]


async def _url(http: httpx.AsyncClient, doc_id: str, headers: dict[str, str] | None = None) -> str:
    reference = (await http.get(f"/fhir/DocumentReference/{doc_id}", headers=headers)).json()
    url: str = reference["content"][0]["attachment"]["url"]
    return url.removeprefix("http://testserver")


async def _audit(services: Any, action: AuditAction) -> list[Any]:
    await services.xds.runtime.audit.close()
    rows = await services.fhir.db.run("a", audit_rows_txn, 0, 10_000)
    return [record_from_bytes(r.record) for r in rows if r.action == action.value]


async def _first_submission_set_txn(conn: AsyncConnection) -> str:
    uuid = (await conn.execute(select(xds_submission_set.c.entry_uuid).limit(1))).scalar_one()
    return str(uuid).removeprefix("urn:uuid:")


async def test_the_attachment_url_retrieves_the_submitted_bytes(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, services = hub
    document, doc_id = await _submitted(http)
    reference = (await http.get(f"/fhir/DocumentReference/{doc_id}")).json()
    attachment = reference["content"][0]["attachment"]
    assert attachment["url"] == BINARY_PREFIX + doc_id
    found = await http.get(
        "/fhir/DocumentReference", params={"patient.identifier": f"urn:oid:1.2.208.176.1.2|{CPR}"}
    )
    assert found.json()["entry"][0]["resource"]["content"][0]["attachment"]["url"] == attachment["url"]

    raw = await http.get(f"/fhir/Binary/{doc_id}")
    assert raw.status_code == 200 and raw.content == document
    assert raw.headers["content-type"].startswith("text/xml")
    assert raw.headers["content-length"] == str(len(document)) == str(attachment["size"])
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert base64.b64encode(hashlib.sha1(raw.content).digest()).decode() == attachment["hash"]
    head = await http.head(f"/fhir/Binary/{doc_id}")
    assert (
        head.status_code == 200
        and head.content == b""
        and head.headers["content-length"] == str(len(document))
    )
    for accept in ("*/*", "text/xml", "text/*, application/fhir+json;q=0.5"):
        assert (await http.get(f"/fhir/Binary/{doc_id}", headers={"accept": accept})).content == document

    asks = (
        {"headers": {"accept": "application/fhir+json"}},
        {"headers": {"accept": "text/xml;q=0, application/fhir+json"}},  # q=0: not acceptable
        {"params": {"_format": "json"}},
    )
    for ask in asks:
        binary = await http.get(f"/fhir/Binary/{doc_id}", **ask)  # type: ignore[arg-type]
        assert binary.status_code == 200 and binary.headers["content-type"].startswith(
            "application/fhir+json"
        )
        body = binary.json()
        assert (body["resourceType"], body["id"], body["contentType"]) == ("Binary", doc_id, "text/xml")
        assert base64.b64decode(body["data"]) == document

    records = await _audit(services, AuditAction.ITI_68)
    assert len(records) == 8 and all(r.patient_cpr == CPR for r in records)


async def test_errors_are_precise_and_disclose_nothing(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, services = hub
    _, doc_id = await _submitted(http)
    unknown = await http.get("/fhir/Binary/00000000-0000-4000-8000-00000000beef")
    assert unknown.status_code == 404 and unknown.json()["resourceType"] == "OperationOutcome"
    submission_set = await services.fhir.db.run("t", _first_submission_set_txn)
    assert (await http.get(f"/fhir/Binary/{submission_set}")).status_code == 404  # not a document's id
    for bad in ("x" * 65, "a%20b", "..%2Fetc", "%00"):
        r = await http.get(f"/fhir/Binary/{bad}")
        assert r.status_code in (400, 404) and r.json()["resourceType"] == "OperationOutcome", bad
    refused = await http.get(f"/fhir/Binary/{doc_id}", headers={"accept": "application/pdf"})
    assert refused.status_code == 406 and "text/xml" in refused.text
    records = await _audit(services, AuditAction.ITI_68)  # refused by negotiation: not audited as released
    assert [r.outcome for r in records] == [AuditOutcome.MINOR_FAILURE] * 3  # two unknown ids, the 406
    assert "text/xml" in (records[-1].outcome_description or "") and records[-1].patient_cpr == CPR
    # the bytes gone from the blob store (damage, not a client error): a clear 503, no traceback
    for path in blob_files(services.settings):
        path.unlink()
    damaged = await http.get(f"/fhir/Binary/{doc_id}")
    assert damaged.status_code == 503 and "missing from the repository store" in damaged.text


async def test_a_binary_resource_is_refused_over_the_body_limit(
    hub: tuple[httpx.AsyncClient, Any], phmr_settings: Any
) -> None:
    http, _ = hub
    document, doc_id = await _submitted(http)
    small = phmr_settings.model_copy(update={"max_body_bytes": len(document) - 1})
    async with running_hub(small) as (limited, _):
        too_big = await limited.get(f"/fhir/Binary/{doc_id}", headers={"accept": "application/fhir+json"})
        assert too_big.status_code == 406 and "streamed" in too_big.text
        assert (await limited.get(f"/fhir/Binary/{doc_id}")).content == document  # streaming has no limit


async def test_authorisation_consent_override_and_minlog(
    secure_hub: tuple[httpx.AsyncClient, Any], token: Token
) -> None:
    http, services = secure_hub
    document, doc_id = await _submitted(http, token("system"))
    doctor = token("physician", purpose="treatment", authorisation_id="BCD12", sor="123456789012")
    url = await _url(http, doc_id, doctor)
    assert (await http.get(url)).status_code == 401
    assert (await http.get(url, headers=token("physician"))).status_code == 403  # no purpose of use
    assert (await http.get(url, headers=token("citizen", cpr=CPR))).content == document
    assert (await http.get(url, headers=token("citizen", cpr="0101010101"))).status_code == 404
    assert (await http.get(url, headers=doctor)).content == document

    block = consent(CPR, ("https://autregweb.sst.dk", "BCD12"))
    scopes = ("patient/*.rs", "patient/Consent.cruds")
    citizen = token("citizen", cpr=CPR, scopes=scopes)
    stored = await http.post("/fhir/Consent", content=orjson.dumps(block), headers={**FHIR, **citizen})
    assert stored.status_code == 201, stored.text
    assert (await http.get(url, headers=doctor)).status_code == 404  # blocked: the same answer as unknown
    emergency = token("physician", purpose="emergency", authorisation_id="BCD12", sor="123456789012")
    overridden = await http.get(url, headers={**emergency, "x-override-reason": "unconscious patient"})
    assert overridden.status_code == 200 and overridden.content == document

    records = await _audit(services, AuditAction.ITI_68)
    assert any(r.override and r.override_reason == "unconscious patient" for r in records)
    minlog = await http.get("/minlog", headers=token("citizen", cpr=CPR))
    assert minlog.status_code == 200 and minlog.text.count("ITI-68") == 2  # the doctor's two lookups, not own
    assert "unconscious patient" in minlog.text


async def test_the_capability_statement_lists_the_registry_view(http: httpx.AsyncClient) -> None:
    statement = (await http.get("/fhir/metadata")).json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert [i["code"] for i in resources["Binary"]["interaction"]] == ["read"]
    reference = resources["DocumentReference"]
    assert [i["code"] for i in reference["interaction"]] == ["read", "search-type"]
    values = {
        "reference": CPR,
        "token": "urn:oid:1.2.208.184.100.9|x",
        "date": "ge2024-01-01",
        "string": "And",
    }
    patient = {"patient.identifier": f"urn:oid:1.2.208.176.1.2|{CPR}"}
    for parameter in reference["searchParam"]:  # every advertised parameter is answered
        name = parameter["name"]
        params = {name: {"status": "current", "_id": "abc"}.get(name, values[parameter["type"]])}
        if name == "related":  # a referenceId is an identifier: the modifier the parameter documents
            assert "related:identifier" in parameter["documentation"]
            params = {"related:identifier": "urn:oid:1.2.3|ORD-7"}
        if name not in ("patient", "subject", "identifier", "_id"):
            params.update(patient)
        r = await http.get("/fhir/DocumentReference", params=params)
        assert r.status_code == 200, (name, r.text)


RESPONDER = TESTDATA / "mhd" / "conformance" / "CapabilityStatement-IHE.MHD.DocumentResponder.json"


@pytest.mark.skipif(not RESPONDER.is_file(), reason="needs ../shared/testdata (IHE MHD conformance)")
async def test_every_parameter_of_ihes_document_responder_is_offered(http: httpx.AsyncClient) -> None:
    """IHE's DocumentResponder CapabilityStatement lists the ITI-66/67 search parameters; telehub offers
    each (its ``_lastupdated`` is FHIR's ``_lastUpdated``: FHIR names are case-sensitive, IHE's is not)."""
    ihe = orjson.loads(RESPONDER.read_bytes())
    statement = (await http.get("/fhir/metadata")).json()
    ours = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for resource in ihe["rest"][0]["resource"]:
        wanted = {p["name"].lower() for p in resource.get("searchParam", [])}
        offered = {p["name"].lower() for p in ours[resource["type"]].get("searchParam", [])}
        assert wanted <= offered, (resource["type"], sorted(wanted - offered))
