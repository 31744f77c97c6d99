"""XDS door fixtures: the real ASGI app on a fresh database (both engines), an XdsClient over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.suites.xds_client import XdsClient
from hub.app import build_app
from hub.core.settings import Settings
from hub.storage import ensure_ready
from tests.integration.conftest import make_settings


def xds_settings(database_url: str, data_dir: Path, **xds: Any) -> Settings:
    """Open security (explicit), Danish profile checks as configured per test."""
    return make_settings(database_url, data_dir, xds=xds)


@pytest.fixture
def xds_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def app_client(
    database_url: str, tmp_path: Path, xds_options: dict[str, Any]
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = build_app(xds_settings(database_url, tmp_path / "var", **xds_options))
    services = app.state.services
    await ensure_ready(services.fhir.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield app, http
    await services.xds.close()
    await services.fhir.audit.close()
    await services.fhir.db.close()


@pytest.fixture
def http(app_client: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


@pytest.fixture
def xds(http: httpx.AsyncClient) -> XdsClient:
    return XdsClient(http)
