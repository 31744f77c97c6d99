"""``telehub serve | migrate | config | version``: running and operating the service."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.console import Console

from hub.cli.configuration import load_settings
from hub.cli.operator_audit import audited
from hub.cli.workers import Workers, reuse_port_supported
from hub.core.errors import HubError
from hub.core.settings import Settings, mask_url_password
from hub.fhir import SOFTWARE_VERSION
from hub.storage import Database, head_revision, upgrade
from security import AuditAction, EntityKind

console = Console()
err = Console(stderr=True)


def serve(
    host: str | None = typer.Option(None, help="Interface to listen on (default from settings: 127.0.0.1)."),
    port: int | None = typer.Option(None, help="TCP port (default from settings: 8080)."),
    workers: int | None = typer.Option(None, help="Worker processes; PostgreSQL deployments use several."),
) -> None:
    """Run the hub (HTTP: /fhir, /xds, /health)."""
    import uvicorn

    settings = load_settings()
    n = workers or settings.workers
    if n > 1 and settings.database_url.startswith("sqlite"):
        err.print(
            "[red]SQLite has a single writer: run one worker, or use PostgreSQL for --workers > 1[/red]"
        )
        raise typer.Exit(2)
    if settings.database_url.startswith("sqlite"):
        # embedded default: create ./var and migrate before the workers start
        try:
            asyncio.run(_migrate(settings))
        except HubError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from exc
    bind_host, bind_port = host or settings.host, port or settings.port
    config: dict[str, Any] = {
        "app": "hub.app:create_app",
        "factory": True,
        "host": bind_host,
        "port": bind_port,
        "log_level": settings.log_level,
        "proxy_headers": True,
        "h11_max_incomplete_event_size": settings.security.max_header_bytes,
    }
    if n > 1 and reuse_port_supported():
        # one listening socket per worker: see hub.cli.workers for why not uvicorn's shared socket
        code = Workers(config, host=bind_host, port=bind_port, count=n).run()
        if code:
            raise typer.Exit(code)
        return
    uvicorn.run(**config, workers=n)


async def _migrate(settings: Settings) -> str | None:
    db = Database(settings.database_url)
    try:
        return (await upgrade(db)).current
    finally:
        await db.close()


def migrate() -> None:
    """Create or upgrade the database schema at TELEHUB_DATABASE_URL (audited once the log exists)."""
    settings = load_settings()
    # the migration creates the audit log, so it is recorded afterwards (a failed one only if the log exists)
    with audited(settings, AuditAction.MIGRATE, check_first=False) as op:
        try:
            current = asyncio.run(_migrate(settings))
        except HubError as exc:
            err.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from exc
        op.about(
            EntityKind.DATA_STORE, mask_url_password(settings.database_url), f"schema at revision {current}"
        )
    console.print(f"schema at revision [bold]{current}[/bold] (newest: {head_revision()})")


def config() -> None:
    """Print the effective settings (secrets masked) as JSON."""
    console.print_json(json.dumps(load_settings().masked()))


def version() -> None:
    """Print the telehub version."""
    console.print(f"telehub {SOFTWARE_VERSION}")
