"""PHMR pipeline through HTTP: the real app on a fresh database of each engine, plus helpers that submit
documents and count what the hub stored (registry rows, repository rows, Observations, Devices, blobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.suites.xds_client import XdsClient
from hub.app import build_app
from hub.core.settings import Settings
from hub.storage import ensure_ready, referenced_blob_keys_txn
from security import DevCredentialRequest, DevIssuer, PurposeOfUse, Role
from tests.integration.conftest import make_settings

Token = Callable[..., dict[str, str]]
CPR = "2512484916"  # the patient of tests/unit/profiles/cda/phmr_builder.py
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
XML = {"content-type": "application/xml"}
FHIR = {"content-type": "application/fhir+json"}


@pytest.fixture
def xds_overrides() -> dict[str, Any]:
    """``Settings.xds`` fields for the test app (parametrize this name to change them)."""
    return {}


@pytest.fixture
def phmr_settings(database_url: str, tmp_path: Path, xds_overrides: dict[str, Any]) -> Settings:
    return make_settings(database_url, tmp_path / "var", xds=xds_overrides)


@asynccontextmanager
async def running_hub(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A hub app on ``settings`` behind an in-process HTTP client; its services closed afterwards."""
    app = build_app(settings)
    services = app.state.services
    await ensure_ready(services.fhir.db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http, services
    await services.xds.close()
    await services.fhir.audit.close()
    await services.fhir.db.close()


@pytest.fixture
async def hub(phmr_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with running_hub(phmr_settings) as running:
        yield running


@pytest.fixture
def http(hub: tuple[httpx.AsyncClient, Any]) -> httpx.AsyncClient:
    return hub[0]


@pytest.fixture
def xds(http: httpx.AsyncClient) -> XdsClient:
    return XdsClient(http)


async def submit(http: httpx.AsyncClient, document: bytes, **params: str) -> httpx.Response:
    return await http.post("/fhir/$submit-document", content=document, headers=XML, params=params)


def named(parameters: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [p for p in parameters["parameter"] if p["name"] == name]


def reference_ids(parameters: dict[str, Any], name: str) -> list[str]:
    return [p["valueReference"]["reference"].split("/", 1)[1] for p in named(parameters, name)]


def matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


async def observations(http: httpx.AsyncClient, cpr: str = CPR, **params: str) -> list[dict[str, Any]]:
    query = {"patient:identifier": f"{CPR_SYSTEM}|{cpr}", "_count": "1000", **params}
    r = await http.get("/fhir/Observation", params=query)
    assert r.status_code == 200, r.text
    return matches(r.json())


async def stored_counts(http: httpx.AsyncClient, services: Any, cpr: str = CPR) -> dict[str, int]:
    """What the hub holds for the patient: DocumentEntries (any status), Observations, Devices, repository
    documents (referenced blobs)."""
    docs = await http.get(
        "/fhir/DocumentReference",
        params={"patient.identifier": f"{CPR_SYSTEM}|{cpr}", "status": "current,superseded"},
    )
    assert docs.status_code == 200, docs.text
    devices = await http.get("/fhir/Device", params={"_count": "1000"})
    referenced = await services.fhir.db.run("test_blobs", referenced_blob_keys_txn)
    return {
        "entries": len(matches(docs.json())),
        "observations": len(await observations(http, cpr)),
        "devices": len(matches(devices.json())),
        "repository": len(referenced),
    }


NOTHING = {"entries": 0, "observations": 0, "devices": 0, "repository": 0}


def blob_files(settings: Settings) -> list[Path]:
    return [p for p in settings.blob_dir.rglob("*") if p.is_file()] if settings.blob_dir.exists() else []


# ------------------------------------------------------------------------------ security (dev tokens)


@pytest.fixture
def dev_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "var", security={"mode": "dev"})


@pytest.fixture
def token(dev_settings: Settings) -> Token:
    issuer = DevIssuer(dev_settings)

    def make(role: str, *, purpose: str | None = None, **kw: Any) -> dict[str, str]:
        request = DevCredentialRequest(
            role=Role(role), purpose=PurposeOfUse(purpose) if purpose else None, **kw
        )
        return {"authorization": f"Bearer {issuer.issue_token(request)}"}

    return make


@pytest.fixture
async def secure_hub(dev_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with running_hub(dev_settings) as running:
        yield running
