"""Composition root: builds every service from Settings and wires the doors (the only place that knows
which implementation backs which Protocol)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from hub.api import ApiServices, BearerAuthenticator, build_routes, install_error_handlers
from hub.core.settings import Settings
from hub.fhir import (
    ConsentHook,
    FhirService,
    NullWriteValidator,
    ResourceIndexer,
    SecurityAuditTrail,
    SecurityPolicy,
)
from hub.fhir.search import default_registry
from hub.storage import Database, ensure_ready
from security import Authenticator

log = logging.getLogger("telehub")


def build_services(settings: Settings) -> ApiServices:
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    local_base = settings.base_url.rstrip("/") + "/fhir" if settings.base_url else None
    authenticator = Authenticator(
        settings
    )  # refuses production mode without trust; warns loudly in open mode
    fhir = FhirService(
        settings=settings,
        db=db,
        indexer=ResourceIndexer(default_registry(), local_base=local_base),
        policy=SecurityPolicy(),
        validator=NullWriteValidator(),
        audit=SecurityAuditTrail(db),
        hooks=(ConsentHook(),),
    )
    return ApiServices(settings=settings, fhir=fhir, authenticator=BearerAuthenticator(authenticator))


def build_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = await ensure_ready(services.fhir.db)
        log.info("telehub ready on %s (schema %s)", services.fhir.db.engine.name, state.current)
        try:
            yield
        finally:
            await services.fhir.audit.close()
            await services.fhir.db.close()

    app = Starlette(routes=build_routes(), lifespan=lifespan)
    app.state.services = services
    install_error_handlers(app)
    return app


def create_app() -> Starlette:
    """uvicorn factory (``hub.app:create_app``): every worker builds its own services from the environment."""
    return build_app(Settings())
