"""A hub in ``dev`` security mode with a helper that issues real signed dev tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import build_app
from hub.core.settings import Settings
from hub.storage import ensure_ready
from security import DevCredentialRequest, DevIssuer, PurposeOfUse, Role
from tests.integration.conftest import make_settings

Token = Callable[..., dict[str, str]]


@pytest.fixture
def dev_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "var", security={"mode": "dev"})


@pytest.fixture
async def secure(dev_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = build_app(dev_settings)
    services = app.state.services
    await ensure_ready(services.fhir.db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http, services
    await services.fhir.audit.close()
    await services.fhir.db.close()


@pytest.fixture
def token(dev_settings: Settings) -> Token:
    issuer = DevIssuer(dev_settings)

    def make(
        role: str, *, purpose: str | None = None, reason: str | None = None, **kw: Any
    ) -> dict[str, str]:
        request = DevCredentialRequest(
            role=Role(role),
            purpose=PurposeOfUse(purpose) if purpose else None,
            reason=reason,
            **kw,
        )
        return {"authorization": f"Bearer {issuer.issue_token(request)}"}

    return make
