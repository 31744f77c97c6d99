"""A hub in ``dev`` security mode with a helper that issues real signed dev tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.core.settings import Settings
from security import DevCredentialRequest, DevIssuer, PurposeOfUse, Role
from tests.integration.conftest import make_settings
from tests.integration.phmr.conftest import running_hub

Token = Callable[..., dict[str, str]]


@pytest.fixture
def dev_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "var", security={"mode": "dev"})


@pytest.fixture
async def secure(dev_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    async with running_hub(dev_settings) as running:
        yield running


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
