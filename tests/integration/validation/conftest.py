"""A hub with ``hl7.fhir.r4.core`` loaded (from ../shared/testdata, read in place) for the validation tests.

Packages are parsed once per process (``hub.fhir.validation``), so each app here costs a registry copy.
``open_hub`` runs what ``serve`` runs at start-up (``hub.app.start_definitions``), which the ASGI transport
does not do by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.api import ApiServices
from hub.app import build_app, start_definitions
from hub.core.settings import Settings
from hub.storage import ensure_ready
from tests.conftest import testdata_path
from tests.integration.conftest import make_settings

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
DK = "http://telehub.dk/fhir/StructureDefinition/"
DK_OBSERVATION = DK + "dk-tm-observation"
CPR = "urn:oid:1.2.208.176.1.2"
MSG = "urn:oid:1.2.208.184.100.1"

Hub = tuple[httpx.AsyncClient, ApiServices]
OpenHub = Callable[[Settings], AbstractAsyncContextManager[Hub]]


@pytest.fixture(scope="session")
def core_tgz() -> Path:
    return testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")


@pytest.fixture
def core_settings(database_url: str, tmp_path: Path, core_tgz: Path) -> Callable[..., Settings]:
    """Settings with the core package configured; keyword arguments go into the validation section."""

    def build(**validation: Any) -> Settings:
        return make_settings(
            database_url, tmp_path / "var", validation={"packages": [str(core_tgz)], **validation}
        )

    return build


@contextlib.asynccontextmanager
async def open_hub(settings: Settings) -> AsyncIterator[Hub]:
    app = build_app(settings)
    services: ApiServices = app.state.services
    await ensure_ready(services.fhir.db)
    watcher = await start_definitions(services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            yield http, services
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await services.fhir.audit.close()
        if services.xds is not None:  # its own audit writer (ITI transactions)
            await services.xds.close()
        await services.fhir.db.close()


@pytest.fixture
def hub() -> OpenHub:
    return open_hub


@pytest.fixture
async def core_hub(core_settings: Callable[..., Settings]) -> AsyncIterator[Hub]:
    async with open_hub(core_settings()) as opened:
        yield opened


def home_observation(**extra: Any) -> dict[str, Any]:
    """A Danish home measurement (body weight) conforming to dk-tm-observation."""
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">vægt</div>'},
        "status": "final",
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-05-01T08:30:00+02:00",
        "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        "method": {"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "AUT"}]},
    }
    body.update(extra)
    return body


async def post_json(client: httpx.AsyncClient, path: str, body: Any, **headers: str) -> httpx.Response:
    return await client.post(path, content=orjson.dumps(body), headers={"content-type": FHIR_JSON, **headers})


def errors(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in outcome["issue"] if i["severity"] in ("error", "fatal")]


def message_ids(outcome: dict[str, Any]) -> set[str]:
    return {c["code"] for i in outcome["issue"] for c in (i.get("details") or {}).get("coding", ())}
