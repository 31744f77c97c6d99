"""``telehub reindex [--type T]…``: extract every live resource's search-index rows again (after search
parameters were added through the API or by a package).  See :mod:`hub.fhir.reindex`."""

from __future__ import annotations

import asyncio
import importlib

import typer
from rich.console import Console

from hub.core.errors import HubError
from hub.core.settings import Settings
from hub.fhir import REINDEX_BATCH, DefinitionWatcher, ReindexResult, reindex
from hub.storage import ensure_ready

console = Console()
err = Console(stderr=True)
TYPES = typer.Option([], "--type", help="Resource type to re-index (repeatable; default: every type).")
BATCH = typer.Option(REINDEX_BATCH, "--batch", min=1, max=10_000, help="Resources per transaction.")


async def _run(settings: Settings, types: list[str], batch: int) -> ReindexResult:
    # the composition root, looked up by name as ``telehub serve`` does ("hub.app:create_app")
    services = importlib.import_module("hub.app").build_services(settings)
    try:
        await ensure_ready(services.fhir.db)  # refuses an un-migrated or newer schema, as `serve` does
        await DefinitionWatcher(services.fhir).poll()  # SearchParameters stored through the API count too
        return await reindex(
            services.fhir,
            types,
            batch=batch,
            progress=lambda r: err.print(f"… {r.resources:,} resources", highlight=False),
        )
    finally:
        await services.fhir.audit.close()
        if services.xds is not None:
            await services.xds.close()
        await services.fhir.db.close()


def reindex_command(types: list[str] = TYPES, batch: int = BATCH) -> None:
    """Re-extract the search-index rows of every live resource with today's search parameters."""
    try:
        settings = Settings()
        result = asyncio.run(_run(settings, types, batch))
    except HubError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    skipped = result.resources - result.replaced
    changed = f"; {skipped:,} changed meanwhile and were indexed by that write" if skipped else ""
    console.print(
        f"re-indexed {result.replaced:,} of {result.resources:,} resources"
        f" ({result.rows:,} index rows){changed}"
    )


__all__ = ["reindex_command"]
