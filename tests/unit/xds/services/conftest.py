"""An XdsService over a fresh migrated database (both engines), callers with real Principals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.core.settings import SecurityMode, SecuritySettings, Settings, Strictness, XdsSettings
from hub.storage import Database
from security import AuthenticationMethod, Principal, PurposeOfUse, Role
from tests import xds_builders as b
from xds.services import Caller, XdsService

SYSTEM = Principal(
    "municipality-system", frozenset({Role.SYSTEM}), AuthenticationMethod.SAML, organisation_sor="123456"
)
ADMIN = Principal("admin", frozenset({Role.ADMIN}), AuthenticationMethod.SAML)
PHYSICIAN = Principal(
    "dr-hansen",
    frozenset({Role.PHYSICIAN}),
    AuthenticationMethod.SAML,
    authorisation_id="ABC12",
    organisation_sor="654321",
    purpose_of_use=PurposeOfUse.TREATMENT,
)
CITIZEN = Principal("citizen", frozenset({Role.CITIZEN}), AuthenticationMethod.SAML, cpr=b.PATIENT)


def xds_settings(tmp_path: Path, **xds: object) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite:///unused.db",
        data_dir=tmp_path / "var",
        security=SecuritySettings(mode=SecurityMode.OPEN),
        xds=XdsSettings(danish_profile_strictness=Strictness.ERROR, **xds),  # type: ignore[arg-type]
    )


@pytest.fixture
async def service(database_url: str, tmp_path: Path) -> AsyncIterator[XdsService]:
    db = Database(database_url)
    svc = XdsService(xds_settings(tmp_path), db)
    try:
        yield svc
    finally:
        await svc.close()
        await db.close()


@pytest.fixture
def system() -> Caller:
    return Caller(SYSTEM, "10.0.0.1")


@pytest.fixture
def admin() -> Caller:
    return Caller(ADMIN)


@pytest.fixture
def physician() -> Caller:
    return Caller(PHYSICIAN)


@pytest.fixture
def citizen() -> Caller:
    return Caller(CITIZEN)
