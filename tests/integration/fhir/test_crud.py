"""create / read / vread / update / patch / delete through HTTP, on every engine."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson

FHIR = "application/fhir+json"


def patient(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "2512489996"}],
        "name": [{"family": "Berggren", "given": ["Nancy", "Ann"]}],
        "birthDate": "1948-12-25",
    }
    body.update(extra)
    return body


async def post(client: httpx.AsyncClient, path: str, body: Any, **headers: str) -> httpx.Response:
    return await client.post(path, content=orjson.dumps(body), headers={"content-type": FHIR, **headers})


async def put(client: httpx.AsyncClient, path: str, body: Any, **headers: str) -> httpx.Response:
    return await client.put(path, content=orjson.dumps(body), headers={"content-type": FHIR, **headers})


async def test_create_read_roundtrip(client: httpx.AsyncClient) -> None:
    r = await post(client, "/fhir/Patient", patient())
    assert r.status_code == 201, r.text
    created = r.json()
    pid = created["id"]
    assert created["meta"]["versionId"] == "1"
    assert r.headers["etag"] == 'W/"1"'
    assert r.headers["location"] == f"http://testserver/fhir/Patient/{pid}/_history/1"
    assert "last-modified" in r.headers
    got = await client.get(f"/fhir/Patient/{pid}")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/fhir+json")
    assert got.content == r.content  # stored bytes served as is
    assert got.json()["name"][0]["given"] == ["Nancy", "Ann"]


async def test_update_versions_and_vread(client: httpx.AsyncClient) -> None:
    pid = (await post(client, "/fhir/Patient", patient())).json()["id"]
    r = await put(client, f"/fhir/Patient/{pid}", patient(id=pid, gender="female"))
    assert r.status_code == 200
    assert r.json()["meta"]["versionId"] == "2"
    v1 = await client.get(f"/fhir/Patient/{pid}/_history/1")
    assert v1.status_code == 200 and "gender" not in v1.json()
    v2 = await client.get(f"/fhir/Patient/{pid}/_history/2")
    assert v2.json()["gender"] == "female"
    missing = await client.get(f"/fhir/Patient/{pid}/_history/9")
    assert missing.status_code == 404


async def test_update_as_create_with_client_id(client: httpx.AsyncClient) -> None:
    r = await put(client, "/fhir/Patient/cpr-2512489996", patient(id="cpr-2512489996"))
    assert r.status_code == 201
    assert r.json()["id"] == "cpr-2512489996"


async def test_if_match_conflicts(client: httpx.AsyncClient) -> None:
    pid = (await post(client, "/fhir/Patient", patient())).json()["id"]
    ok = await put(client, f"/fhir/Patient/{pid}", patient(id=pid, gender="male"), **{"if-match": 'W/"1"'})
    assert ok.status_code == 200
    stale = await put(
        client, f"/fhir/Patient/{pid}", patient(id=pid, gender="other"), **{"if-match": 'W/"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    body = patient(id=pid, gender="other", meta={"versionId": "1"})
    conflict = await put(client, f"/fhir/Patient/{pid}", body)
    assert conflict.status_code == 409
    current = await client.get(f"/fhir/Patient/{pid}")
    assert current.json()["gender"] == "male"


async def test_update_id_rules(client: httpx.AsyncClient) -> None:
    r = await put(client, "/fhir/Patient/abc", patient())
    assert r.status_code == 400
    r = await put(client, "/fhir/Patient/abc", patient(id="xyz"))
    assert r.status_code == 400
    assert "does not match" in r.json()["issue"][0]["diagnostics"]


async def test_delete_then_gone(client: httpx.AsyncClient) -> None:
    pid = (await post(client, "/fhir/Patient", patient())).json()["id"]
    r = await client.delete(f"/fhir/Patient/{pid}")
    assert r.status_code == 204
    gone = await client.get(f"/fhir/Patient/{pid}")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    again = await client.delete(f"/fhir/Patient/{pid}")
    assert again.status_code == 204
    assert (await client.delete("/fhir/Patient/never-was")).status_code == 404
    # history keeps the delete marker
    hist = (await client.get(f"/fhir/Patient/{pid}/_history")).json()
    assert [e["request"]["method"] for e in hist["entry"]] == ["DELETE", "POST"]


async def test_json_patch(client: httpx.AsyncClient) -> None:
    pid = (await post(client, "/fhir/Patient", patient())).json()["id"]
    ops = [
        {"op": "replace", "path": "/birthDate", "value": "1948-12-26"},
        {"op": "add", "path": "/gender", "value": "female"},
    ]
    r = await client.patch(
        f"/fhir/Patient/{pid}",
        content=orjson.dumps(ops),
        headers={"content-type": "application/json-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["birthDate"] == "1948-12-26" and r.json()["meta"]["versionId"] == "2"
    bad = [{"op": "test", "path": "/gender", "value": "male"}]
    r = await client.patch(
        f"/fhir/Patient/{pid}",
        content=orjson.dumps(bad),
        headers={"content-type": "application/json-patch+json"},
    )
    assert r.status_code == 412
    invalid = [{"op": "add", "path": "/birthDate", "value": "not-a-date"}]
    r = await client.patch(
        f"/fhir/Patient/{pid}",
        content=orjson.dumps(invalid),
        headers={"content-type": "application/json-patch+json"},
    )
    assert r.status_code == 400
    assert (await client.get(f"/fhir/Patient/{pid}")).json()["meta"]["versionId"] == "2"


async def test_prefer_return(client: httpx.AsyncClient) -> None:
    r = await post(client, "/fhir/Patient", patient(), prefer="return=minimal")
    assert r.status_code == 201 and r.content == b"" and "location" in r.headers
    r = await post(client, "/fhir/Patient", patient(), prefer="return=OperationOutcome")
    assert r.status_code == 201 and r.json()["resourceType"] == "OperationOutcome"


async def test_unsupported_type_is_404_naming_supported(client: httpx.AsyncClient) -> None:
    r = await post(client, "/fhir/Medication", {"resourceType": "Medication"})
    assert r.status_code == 404
    text = r.json()["issue"][0]["diagnostics"]
    assert "Medication" in text and "Observation" in text


async def test_history_type_level_and_paging(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await post(client, "/fhir/Patient", patient())
    first = (await client.get("/fhir/Patient/_history", params={"_count": "2"})).json()
    assert first["type"] == "history" and first["total"] == 3 and len(first["entry"]) == 2
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await client.get(nxt.removeprefix("http://testserver"))).json()
    assert len(second["entry"]) == 1
    ids = {e["resource"]["id"] for e in first["entry"] + second["entry"]}
    assert len(ids) == 3


async def test_binary_patch_entry_in_transaction(client: httpx.AsyncClient) -> None:
    pid = (await post(client, "/fhir/Patient", patient())).json()["id"]
    ops = base64.b64encode(orjson.dumps([{"op": "add", "path": "/gender", "value": "female"}])).decode()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "application/json-patch+json",
                    "data": ops,
                },
                "request": {"method": "PATCH", "url": f"Patient/{pid}"},
            }
        ],
    }
    r = await post(client, "/fhir", bundle)
    assert r.status_code == 200, r.text
    assert (await client.get(f"/fhir/Patient/{pid}")).json()["gender"] == "female"
