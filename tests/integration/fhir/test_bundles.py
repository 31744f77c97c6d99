"""batch and transaction Bundles: urn:uuid rewriting, conditional create, all-or-nothing."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

FHIR = "application/fhir+json"


async def post_bundle(client: httpx.AsyncClient, bundle: dict[str, Any]) -> httpx.Response:
    return await client.post("/fhir", content=orjson.dumps(bundle), headers={"content-type": FHIR})


def tx(*entries: dict[str, Any], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "2512489996"}],
}


def obs(subject: str, value: float = 70) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2024-03-01T08:00:00+01:00",
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "kg"},
    }


async def test_transaction_rewrites_urn_uuid_references(client: httpx.AsyncClient) -> None:
    r = await post_bundle(
        client,
        tx(
            {
                "fullUrl": "urn:uuid:6f2b3c4e-0000-4000-8000-000000000001",
                "resource": PATIENT,
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": obs("urn:uuid:6f2b3c4e-0000-4000-8000-000000000001"),
                "request": {"method": "POST", "url": "Observation"},
            },
        ),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created", "201 Created"]
    pid = body["entry"][0]["resource"]["id"]
    assert body["entry"][1]["resource"]["subject"]["reference"] == f"Patient/{pid}"
    found = (await client.get("/fhir/Observation", params={"patient": pid})).json()
    assert found["total"] == 1


async def test_transaction_is_all_or_nothing(client: httpx.AsyncClient) -> None:
    bad = obs("Patient/x")
    bad["effectiveDateTime"] = "yesterday"
    r = await post_bundle(
        client,
        tx(
            {"resource": PATIENT, "request": {"method": "POST", "url": "Patient"}},
            {"resource": bad, "request": {"method": "POST", "url": "Observation"}},
        ),
    )
    assert r.status_code == 400
    issue = r.json()["issue"][0]
    assert "Bundle.entry[1]" in issue["diagnostics"]
    assert (await client.get("/fhir/Patient")).json()["total"] == 0
    # a failure discovered in the database (duplicate id on an update-as-create race) also rolls back
    r = await post_bundle(
        client,
        tx(
            {"resource": PATIENT, "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "DELETE", "url": "Patient/does-not-exist"}},
        ),
    )
    assert r.status_code == 404
    assert (await client.get("/fhir/Patient")).json()["total"] == 0


async def test_transaction_conditional_create_points_references_at_existing(
    client: httpx.AsyncClient,
) -> None:
    existing = (
        await client.post("/fhir/Patient", content=orjson.dumps(PATIENT), headers={"content-type": FHIR})
    ).json()
    r = await post_bundle(
        client,
        tx(
            {
                "fullUrl": "urn:uuid:6f2b3c4e-0000-4000-8000-000000000002",
                "resource": PATIENT,
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": "identifier=urn:oid:1.2.208.176.1.2|2512489996",
                },
            },
            {
                "resource": obs("urn:uuid:6f2b3c4e-0000-4000-8000-000000000002"),
                "request": {"method": "POST", "url": "Observation"},
            },
        ),
    )
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"
    assert entries[1]["resource"]["subject"]["reference"] == f"Patient/{existing['id']}"
    assert (await client.get("/fhir/Patient")).json()["total"] == 1


async def test_transaction_put_and_delete_order(client: httpx.AsyncClient) -> None:
    r = await post_bundle(
        client,
        tx(
            {"resource": {**PATIENT, "id": "p1"}, "request": {"method": "PUT", "url": "Patient/p1"}},
            {"resource": {**PATIENT, "id": "p2"}, "request": {"method": "PUT", "url": "Patient/p2"}},
        ),
    )
    assert r.status_code == 200
    r = await post_bundle(
        client,
        tx(
            {"request": {"method": "DELETE", "url": "Patient/p1"}},
            {
                "resource": {**PATIENT, "id": "p2", "gender": "female"},
                "request": {"method": "PUT", "url": "Patient/p2"},
            },
        ),
    )
    assert r.status_code == 200
    assert (await client.get("/fhir/Patient/p1")).status_code == 410
    assert (await client.get("/fhir/Patient/p2")).json()["meta"]["versionId"] == "2"


async def test_batch_entries_fail_independently(client: httpx.AsyncClient) -> None:
    r = await post_bundle(
        client,
        tx(
            {"resource": PATIENT, "request": {"method": "POST", "url": "Patient"}},
            {
                "resource": {"resourceType": "Patient", "birthDate": "12-12-12"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {"request": {"method": "GET", "url": "Patient/nope"}},
            {"request": {"method": "GET", "url": "Patient?identifier=2512489996"}},
            kind="batch",
        ),
    )
    assert r.status_code == 200
    entries = r.json()["entry"]
    statuses = [e["response"]["status"] for e in entries]
    assert statuses == ["201 Created", "400 Bad Request", "404 Not Found", "200 OK"]
    assert entries[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert entries[3]["resource"]["total"] == 1


async def test_bundle_type_and_shape_errors(client: httpx.AsyncClient) -> None:
    r = await post_bundle(client, {"resourceType": "Bundle", "type": "collection"})
    assert r.status_code == 400
    r = await post_bundle(client, tx({"resource": PATIENT}))
    assert r.status_code == 400 and "request" in r.text
    r = await post_bundle(client, tx({"resource": PATIENT, "request": {"method": "FETCH", "url": "Patient"}}))
    assert r.status_code == 400


async def test_document_bundle_is_stored_as_a_resource(client: httpx.AsyncClient) -> None:
    doc = {
        "resourceType": "Bundle",
        "type": "document",
        "timestamp": "2024-03-01T08:00:00+01:00",
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": "urn:uuid:6f2b3c4e-0000-4000-8000-0000000000aa",
        },
        "entry": [{"fullUrl": "urn:uuid:6f2b3c4e-0000-4000-8000-000000000003", "resource": PATIENT}],
    }
    r = await client.post("/fhir/Bundle", content=orjson.dumps(doc), headers={"content-type": FHIR})
    assert r.status_code == 201
    assert (await client.get(f"/fhir/Bundle/{r.json()['id']}")).json()["type"] == "document"
