"""Bad and hostile input gets a precise 4xx OperationOutcome, never a 500, and nothing is stored."""

from __future__ import annotations

import httpx
import orjson
import pytest

from hub.core.settings import Settings

FHIR = "application/fhir+json"


async def assert_nothing_stored(client: httpx.AsyncClient) -> None:
    assert (await client.get("/fhir/Patient")).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{", "malformed JSON at line 1"),
        (b"", "empty"),
        (b"[1,2]", "JSON object"),
        (b'{"name": []}', "resourceType"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"resourceType": "Patient", "birthDate": "1948-02-30"}', "calendar"),
        (b'{"resourceType": "Patient", "shoeSize": 44}', "unknown element"),
        (b'{"resourceType": "Patient", "": 44}', "unknown element ''"),
        (b'{"resourceType": "Patient", "name": [{"": ["x"]}]}', "unknown element ''"),
        (b'{"resourceType": "Patient", "active": "yes"}', "boolean"),
        (b'{"resourceType": "Patient", "id": "bad id!"}', "id"),
        (b'{"resourceType": "Patient", "name": [{}]}', "empty"),
        (b'{"resourceType": "Patient", "gender": " male"}', "whitespace"),
    ],
)
async def test_malformed_bodies(client: httpx.AsyncClient, body: bytes, fragment: str) -> None:
    r = await client.post("/fhir/Patient", content=body, headers={"content-type": FHIR})
    assert r.status_code == 400, r.text
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    assert fragment.lower() in orjson.dumps(oo).decode().lower()
    await assert_nothing_stored(client)


async def test_errors_carry_fhirpath_expressions(client: httpx.AsyncClient) -> None:
    body = {"resourceType": "Patient", "name": [{"family": "A", "given": [1]}], "birthDate": "x"}
    r = await client.post("/fhir/Patient", content=orjson.dumps(body), headers={"content-type": FHIR})
    expressions = {e for i in r.json()["issue"] for e in i.get("expression", [])}
    assert {"Patient.name[0].given[0]", "Patient.birthDate"} <= expressions


async def test_deep_nesting_and_huge_arrays(client: httpx.AsyncClient) -> None:
    deep = b'{"resourceType":"Patient","extension":' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = await client.post("/fhir/Patient", content=deep, headers={"content-type": FHIR})
    assert r.status_code == 400
    huge = orjson.dumps({"resourceType": "Patient", "name": [{"family": "x"}] * 100_000})
    r = await client.post("/fhir/Patient", content=huge, headers={"content-type": FHIR})
    assert r.status_code == 400 and "limit" in r.text
    await assert_nothing_stored(client)


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    r = await client.post("/fhir/Patient", content=b"{}", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert "Content-Type" in r.json()["issue"][0]["diagnostics"]


async def test_oversized_body_is_413(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    from hub.app import build_app
    from hub.storage import ensure_ready
    from tests.integration.conftest import make_settings

    settings: Settings = make_settings(database_url, Path(str(tmp_path)) / "var", max_body_bytes=1000)
    app = build_app(settings)
    await ensure_ready(app.state.services.fhir.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        big = orjson.dumps({"resourceType": "Patient", "name": [{"family": "x" * 2000}]})
        r = await c.post("/fhir/Patient", content=big, headers={"content-type": FHIR})
        assert r.status_code == 413 and r.json()["resourceType"] == "OperationOutcome"

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b"x" * 500

        r = await c.post("/fhir/Patient", content=chunks(), headers={"content-type": FHIR})
        assert r.status_code == 413
    await app.state.services.fhir.db.close()


async def test_unknown_routes_and_methods_are_operation_outcomes(client: httpx.AsyncClient) -> None:
    r = await client.get("/fhir/Patient/a/b/c/d")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    r = await client.put("/fhir/Patient", content=b"{}", headers={"content-type": FHIR})
    assert r.status_code == 405 and r.json()["resourceType"] == "OperationOutcome"


async def test_injection_strings_are_just_data(client: httpx.AsyncClient) -> None:
    evil = "x' OR '1'='1; DROP TABLE resource; --"
    r = await client.get("/fhir/Patient", params={"family": evil, "_id": evil.replace(" ", "")})
    assert r.status_code in (200, 400)
    body = {"resourceType": "Patient", "name": [{"family": evil}]}
    r = await client.post("/fhir/Patient", content=orjson.dumps(body), headers={"content-type": FHIR})
    assert r.status_code == 201
    found = (await client.get("/fhir/Patient", params={"family:exact": evil})).json()
    assert found["total"] == 1


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/fhir/Patient", b'{"resourceType": "Patient", "name": [{"family": "A\\u0000B"}]}'),
        ("POST", "/fhir/Patient", b'{"resourceType": "Patient", "name": [{"given": ["A\\u001bB"]}]}'),
        ("GET", "/fhir/Patient?name=A%00B", None),
        ("GET", "/fhir/Patient?na%00me=x", None),
        ("GET", "/fhir/Patient/abc%00", None),
        ("DELETE", "/fhir/Patient/abc%00", None),
        ("POST", "/fhir/Patient/_search", b"name=A%00B"),
    ],
)
async def test_control_characters_are_refused_before_the_database(
    client: httpx.AsyncClient, method: str, url: str, body: bytes | None
) -> None:
    # FHIR strings allow no control characters but tab/CR/LF; PostgreSQL text cannot hold U+0000 at all
    content_type = "application/x-www-form-urlencoded" if url.endswith("_search") else FHIR
    r = await client.request(method, url, content=body, headers={"content-type": content_type})
    assert r.status_code == 400, r.text
    assert "control character U+00" in r.text
    await assert_nothing_stored(client)


async def test_tabs_and_line_breaks_stay_allowed(client: httpx.AsyncClient) -> None:
    body = {"resourceType": "Patient", "name": [{"text": "Nancy\tAnn\r\nBerggren"}]}
    r = await client.post("/fhir/Patient", content=orjson.dumps(body), headers={"content-type": FHIR})
    assert r.status_code == 201, r.text


async def test_control_characters_in_bundle_entry_urls(client: httpx.AsyncClient) -> None:
    get = {"request": {"method": "GET", "url": "Patient/abc\u0000"}}
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [get]}
    r = await client.post("/fhir", content=orjson.dumps(batch), headers={"content-type": FHIR})
    assert r.status_code == 200, r.text
    (entry,) = r.json()["entry"]
    assert entry["response"]["status"].startswith("400") and "control character U+0000" in r.text
    delete = {"request": {"method": "DELETE", "url": "Patient/x\u0000"}}
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [delete]}
    r = await client.post("/fhir", content=orjson.dumps(transaction), headers={"content-type": FHIR})
    assert r.status_code == 400 and "control character U+0000" in r.text
