"""Writes racing for the same resource, on every engine: PostgreSQL runs them in parallel, and each must still
get the answer it would get alone (https://hl7.org/fhir/R4/http.html#ccreate, #update, #concurrency)."""

from __future__ import annotations

import asyncio

import httpx
import orjson

from tests.integration.fhir.test_bundles import PATIENT, post_bundle, tx
from tests.integration.fhir.test_crud import patient, post, put

CRITERIA = "identifier=urn:oid:1.2.208.176.1.2|2512489996"


async def test_identical_conditional_creates_at_once_create_one(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(
        *(post(client, "/fhir/Patient", patient(), **{"If-None-Exist": CRITERIA}) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await client.get("/fhir/Patient")).json()["total"] == 1


async def test_transaction_bundles_with_one_conditional_create_at_once(client: httpx.AsyncClient) -> None:
    entry = {"resource": PATIENT, "request": {"method": "POST", "url": "Patient", "ifNoneExist": CRITERIA}}
    responses = await asyncio.gather(*(post_bundle(client, tx(entry)) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4, [r.text[:300] for r in responses]
    statuses = sorted(r.json()["entry"][0]["response"]["status"] for r in responses)
    assert statuses == ["200 OK", "200 OK", "200 OK", "201 Created"]
    assert (await client.get("/fhir/Patient")).json()["total"] == 1


async def test_updates_of_one_resource_at_once_each_make_a_version(client: httpx.AsyncClient) -> None:
    created = await put(client, "/fhir/Patient/p1", patient(id="p1"))
    assert created.status_code == 201
    responses = await asyncio.gather(
        *(put(client, "/fhir/Patient/p1", patient(id="p1", birthDate=f"19{40 + i}-01-01")) for i in range(6))
    )
    assert [r.status_code for r in responses] == [200] * 6
    versions = sorted(int(r.json()["meta"]["versionId"]) for r in responses)
    assert versions == [2, 3, 4, 5, 6, 7]
    history = await client.get("/fhir/Patient/p1/_history")
    assert history.json()["total"] == 7
    current = orjson.loads((await client.get("/fhir/Patient/p1")).content)
    assert current["meta"]["versionId"] == "7"


async def test_updates_creating_one_new_id_at_once(client: httpx.AsyncClient) -> None:
    genders = ("male", "female", "other", "unknown")
    responses = await asyncio.gather(
        *(put(client, "/fhir/Patient/p2", patient(id="p2", gender=g)) for g in genders)
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.text[:200] for r in responses]
    assert sorted(r.json()["meta"]["versionId"] for r in responses) == ["1", "2", "3", "4"]


async def test_bundles_naming_two_conditional_creates_in_opposite_orders(client: httpx.AsyncClient) -> None:
    # both criteria are locked at once, in one order: no deadlock (503), one resource per criteria
    def entry(cpr: str) -> dict[str, object]:
        body = {**PATIENT, "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": cpr}]}
        criteria = f"identifier=urn:oid:1.2.208.176.1.2|{cpr}"
        return {"resource": body, "request": {"method": "POST", "url": "Patient", "ifNoneExist": criteria}}

    first, second = entry("0101010101"), entry("0202020202")
    bundles = [tx(first, second) if i % 2 else tx(second, first) for i in range(6)]
    responses = await asyncio.gather(*(post_bundle(client, b) for b in bundles))
    assert [r.status_code for r in responses] == [200] * 6, [r.text[:300] for r in responses]
    assert (await client.get("/fhir/Patient")).json()["total"] == 2


async def test_bundles_creating_two_ids_by_put_in_opposite_orders(client: httpx.AsyncClient) -> None:
    # all PUT targets are locked at once, in one order: no deadlock; one Bundle creates, the others update
    def put_entry(pid: str) -> dict[str, object]:
        return {"resource": {**PATIENT, "id": pid}, "request": {"method": "PUT", "url": f"Patient/{pid}"}}

    bundles = [
        tx(put_entry("a"), put_entry("b")) if i % 2 else tx(put_entry("b"), put_entry("a")) for i in range(6)
    ]
    responses = await asyncio.gather(*(post_bundle(client, b) for b in bundles))
    assert [r.status_code for r in responses] == [200] * 6, [r.text[:300] for r in responses]
    statuses = sorted(e["response"]["status"] for r in responses for e in r.json()["entry"])
    assert statuses.count("201 Created") == 2 and statuses.count("200 OK") == 10
    for pid in ("a", "b"):
        assert (await client.get(f"/fhir/Patient/{pid}")).json()["meta"]["versionId"] == "6"
