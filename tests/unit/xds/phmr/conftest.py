"""Fixtures for the PHMR pipeline tests: a FhirService over a real (not yet opened) database, and the
processor built as the composition root builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.core.settings import SecurityMode, SecuritySettings, Settings
from hub.fhir import AllowAllPolicy, FhirService, NullAuditTrail, NullWriteValidator, ResourceIndexer
from hub.fhir.search import default_registry
from hub.storage import Database
from xds.phmr import PhmrProcessor

LOCAL_BASE = "http://testserver/fhir"


def fhir_service(settings: Settings, db: Database) -> FhirService:
    return FhirService(
        settings=settings,
        db=db,
        indexer=ResourceIndexer(default_registry(), local_base=LOCAL_BASE),
        policy=AllowAllPolicy(),
        validator=NullWriteValidator(),
        audit=NullAuditTrail(),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        data_dir=tmp_path / "var",
        base_url="http://testserver",
        security=SecuritySettings(mode=SecurityMode.DEV),
    )


@pytest.fixture
async def fhir(settings: Settings) -> AsyncIterator[FhirService]:
    db = Database(settings.database_url)
    try:
        yield fhir_service(settings, db)
    finally:
        await db.close()


@pytest.fixture
def processor(settings: Settings, fhir: FhirService) -> PhmrProcessor:
    return PhmrProcessor.from_settings(settings, fhir)
