"""``telehub reindex`` through the console entry point, on each engine: lost or missing index rows come back,
and a resource written meanwhile keeps the rows of its own (newer) version."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from hub.app import build_app
from hub.cli import app
from hub.core.settings import Settings
from hub.storage import current_versions_txn, ensure_ready, replace_index_txn

runner = CliRunner()
FHIR = {"content-type": "application/fhir+json"}
PATIENT_SYSTEM = "urn:oid:1.2.208.176.1.2"


def _observation(n: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"identifier": {"system": PATIENT_SYSTEM, "value": "2512484916"}},
        "effectiveDateTime": f"2024-03-{n:02d}T08:00:00+01:00",
        "valueQuantity": {"value": 70 + n, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }


async def _with_hub(settings: Settings, work: Any) -> Any:
    application = build_app(settings)
    services = application.state.services
    await ensure_ready(services.fhir.db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://t"
        ) as http:
            return await work(http, services)
    finally:
        await services.xds.close()
        await services.fhir.audit.close()
        await services.fhir.db.close()


async def _found(http: httpx.AsyncClient) -> int:
    answer = await http.get("/fhir/Observation", params={"code": "http://loinc.org|29463-7"})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "var", security={"mode": "open"})


def test_reindex_restores_lost_index_rows(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(database_url, tmp_path)

    async def seed(http: httpx.AsyncClient, services: Any) -> int:
        for n in range(1, 8):
            created = await http.post(
                "/fhir/Observation", content=orjson.dumps(_observation(n)), headers=FHIR
            )
            assert created.status_code == 201, created.text
        async with services.fhir.db.sa_engine.begin() as conn:  # the token rows are lost
            await conn.execute(text("DELETE FROM idx_token"))
        return await _found(http)

    assert asyncio.run(_with_hub(settings, seed)) == 0
    monkeypatch.setenv("TELEHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TELEHUB_SECURITY__MODE", "open")
    result = runner.invoke(app, ["reindex", "--type", "Observation", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "re-indexed 7 of 7 resources" in result.output

    async def found(http: httpx.AsyncClient, services: Any) -> int:
        return await _found(http)

    assert asyncio.run(_with_hub(settings, found)) == 7


def test_a_resource_written_meanwhile_keeps_its_own_rows(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path)

    async def race(http: httpx.AsyncClient, services: Any) -> tuple[int, int, int]:
        body = {**_observation(1), "id": "o1"}
        assert (
            await http.put("/fhir/Observation/o1", content=orjson.dumps(body), headers=FHIR)
        ).status_code == 201
        db = services.fhir.db
        (read,) = await db.run("t", current_versions_txn, 0, 10, ("Observation",))
        stale = services.fhir.indexer.index(orjson.loads(read.data))[0]
        changed = {**body, "code": {"coding": [{"system": "http://loinc.org", "code": "3141-9"}]}}
        assert (
            await http.put("/fhir/Observation/o1", content=orjson.dumps(changed), headers=FHIR)
        ).status_code == 200
        replaced = await db.run_write("t", replace_index_txn, [(read, stale)])
        new_code = await http.get("/fhir/Observation", params={"code": "http://loinc.org|3141-9"})
        return replaced, await _found(http), int(new_code.json()["total"])

    assert asyncio.run(_with_hub(settings, race)) == (0, 0, 1)


def test_an_unmigrated_database_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import POSTGRES_URL, _pg_create

    if not POSTGRES_URL:
        pytest.skip("TELEHUB_TEST_POSTGRES_URL not set")
    import uuid

    url = asyncio.run(_pg_create(f"telehub_empty_{uuid.uuid4().hex[:8]}"))
    monkeypatch.setenv("TELEHUB_DATABASE_URL", url)
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["reindex"])
    assert result.exit_code == 2


def test_an_interrupted_reindex_resumes_after_the_last_committed_rid(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(database_url, tmp_path)

    async def seed(http: httpx.AsyncClient, services: Any) -> list[int]:
        for n in range(1, 8):
            created = await http.post(
                "/fhir/Observation", content=orjson.dumps(_observation(n)), headers=FHIR
            )
            assert created.status_code == 201, created.text
        async with services.fhir.db.sa_engine.begin() as conn:
            await conn.execute(text("DELETE FROM idx_token"))
        versions = await services.fhir.db.run("t", current_versions_txn, 0, 100, ("Observation",))
        return [v.rid for v in versions]

    rids = asyncio.run(_with_hub(settings, seed))
    monkeypatch.setenv("TELEHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TELEHUB_SECURITY__MODE", "open")
    result = runner.invoke(app, ["reindex", "--type", "Observation", "--batch", "2", "--after", str(rids[3])])
    assert result.exit_code == 0, result.output
    assert "re-indexed 3 of 3 resources" in result.output and f"up to rid {rids[-1]}" in result.output

    async def found(http: httpx.AsyncClient, services: Any) -> int:
        return await _found(http)

    assert asyncio.run(_with_hub(settings, found)) == 3  # the first four were left for another run
