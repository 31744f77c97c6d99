"""Composition root: builds every service from Settings and wires the doors (the only place that knows
which implementation backs which Protocol)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from hub.api import ApiServices, BearerAuthenticator, build_routes, install_error_handlers
from hub.core.heap import settle
from hub.core.settings import ReadAudit, Settings
from hub.fhir import (
    ConsentHook,
    DefinitionWatcher,
    FhirService,
    ResourceIndexer,
    SecurityAuditTrail,
    SecurityPolicy,
    build_validation,
    unknown_required_profiles,
)
from hub.fhir.search import default_registry
from hub.storage import Database, ensure_ready
from security import Authenticator
from xds.phmr import DocumentReferenceWriteGuard, PhmrProcessor
from xds.services import XdsService

log = logging.getLogger("telehub")


def build_services(settings: Settings) -> ApiServices:
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    local_base = settings.base_url.rstrip("/") + "/fhir" if settings.base_url else None
    authenticator = Authenticator(
        settings
    )  # refuses production mode without trust; warns loudly in open mode
    search = default_registry()
    validation = build_validation(settings, search)  # packages parsed once per process; extends `search`
    fhir = FhirService(
        settings=settings,
        db=db,
        indexer=ResourceIndexer(search, local_base=local_base),
        policy=SecurityPolicy(),
        validator=validation,
        audit=SecurityAuditTrail(db, durable_reads=settings.security.read_audit is ReadAudit.DURABLE),
        hooks=(ConsentHook(), DocumentReferenceWriteGuard()),
    )
    xds = XdsService(settings, db, authenticator=authenticator)
    xds.add_processor(PhmrProcessor.from_settings(settings, fhir))  # PHMR -> Observations, with lineage
    return ApiServices(
        settings=settings,
        fhir=fhir,
        authenticator=BearerAuthenticator(authenticator),
        xds=xds,
        validation=validation,
    )


async def start_definitions(services: ApiServices) -> asyncio.Task[None]:
    """Definitions stored through the API reach the validator before the first request, and those
    written by other workers every few seconds after (hub.fhir.stored_definitions)."""
    watcher = DefinitionWatcher(services.fhir)
    applied = await watcher.poll()
    if applied:
        log.info("%d stored definition(s) loaded into the validator", applied)
    if services.validation is not None:
        for url in unknown_required_profiles(services.validation):
            log.warning("required profile %s is not loaded: every write of its type will be refused", url)
    return asyncio.create_task(watcher.run(), name="telehub-definitions")


def build_app(settings: Settings | None = None, *, settle_heap: bool = False) -> Starlette:
    """The application; ``settle_heap`` (a served worker's own process) tunes the garbage collector once
    the worker is ready (``hub.core.heap``)."""
    settings = settings or Settings()
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = await ensure_ready(services.fhir.db)
        log.info("telehub ready on %s (schema %s)", services.fhir.db.engine.name, state.current)
        watcher = await start_definitions(services)
        if settle_heap:
            settled = settle(freeze=settings.gc_freeze, gen0_threshold=settings.gc_gen0_threshold)
            log.info("heap settled: %d objects frozen, gc thresholds %s", settled.frozen, settled.thresholds)
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await services.fhir.audit.close()
            if services.xds is not None:
                await services.xds.close()
            await services.fhir.db.close()

    app = Starlette(routes=build_routes(), lifespan=lifespan)
    app.state.services = services
    install_error_handlers(app)
    return app


def create_app() -> Starlette:
    """uvicorn factory (``hub.app:create_app``): every worker builds its own services from the environment."""
    settings = Settings()
    _log_beside_uvicorn(settings.log_level)
    return build_app(settings, settle_heap=True)


class _UvicornStyle(logging.Formatter):
    """``INFO:     message``, as uvicorn's own lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname + ':':9} {super().format(record)}"


def _log_beside_uvicorn(level: str) -> None:
    """telehub's own records (``telehub`` and its children: ready, heap, definitions, audit, security) go to
    stderr at ``TELEHUB_LOG_LEVEL``, formatted like uvicorn's; without a handler only warnings reached it."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_UvicornStyle("%(message)s"))
        log.addHandler(handler)
        log.propagate = False
    # uvicorn's "trace" is not a logging level: the most detailed one stands for it
    log.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.DEBUG))
