"""HTTP-level fixtures: the real ASGI app on a fresh database, driven by httpx.ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import build_app
from hub.core.settings import Settings
from hub.storage import ensure_ready


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test app: explicit ``open`` security unless a test asks for another mode."""
    security = overrides.pop("security", {"mode": "open"})
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        base_url="http://testserver",
        security=security,
        **overrides,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "var")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings)
    services = app.state.services
    await ensure_ready(services.fhir.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await services.fhir.audit.close()
    await services.fhir.db.close()
