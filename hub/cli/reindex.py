"""``telehub reindex [--type T]…``: extract every live resource's search-index rows again (after search
parameters were added through the API or by a package).  See :mod:`hub.fhir.reindex`."""

from __future__ import annotations

import asyncio
import importlib

import typer
from rich.console import Console

from hub.cli.configuration import load_settings
from hub.cli.operator_audit import audited
from hub.core.errors import HubError
from hub.core.settings import Settings
from hub.fhir import REINDEX_BATCH, DefinitionWatcher, ReindexResult, reindex
from hub.storage import ensure_ready
from security import AuditAction, EntityKind

console = Console()
err = Console(stderr=True)
TYPES = typer.Option([], "--type", help="Resource type to re-index (repeatable; default: every type).")
BATCH = typer.Option(REINDEX_BATCH, "--batch", min=1, max=10_000, help="Resources per transaction.")


AFTER = typer.Option(
    0, "--after", min=0, help="Resume: start after this rid (printed by an interrupted run)."
)


async def _run(
    settings: Settings, types: list[str], batch: int, after: int, done: list[int]
) -> ReindexResult:
    """Re-index; ``done`` ends with the last rid whose batch committed (for resuming after a failure)."""

    def report(result: ReindexResult) -> None:
        done.append(result.last_rid)
        err.print(f"… {result.resources:,} resources, up to rid {result.last_rid}", highlight=False)

    # the composition root, looked up by name as ``telehub serve`` does ("hub.app:create_app")
    services = importlib.import_module("hub.app").build_services(settings)
    try:
        await ensure_ready(services.fhir.db)  # refuses an un-migrated or newer schema, as `serve` does
        await DefinitionWatcher(services.fhir).poll()  # SearchParameters stored through the API count too
        return await reindex(services.fhir, types, batch=batch, after=after, progress=report)
    finally:
        await services.fhir.audit.close()
        if services.xds is not None:
            await services.xds.close()
        await services.fhir.db.close()


def reindex_command(types: list[str] = TYPES, batch: int = BATCH, after: int = AFTER) -> None:
    """Re-extract the search-index rows of every live resource with today's search parameters (audited).
    Each batch commits on its own: an interrupted run says where to resume (``--after RID``)."""
    settings = load_settings()
    done = [after]
    with audited(settings, AuditAction.REINDEX) as op:
        scope = f"types: {', '.join(types) or 'all'}, after rid {after}"
        op.about(EntityKind.DATA_STORE, "search index", scope)
        try:
            result = asyncio.run(_run(settings, types, batch, after, done))
        except (HubError, KeyboardInterrupt) as exc:
            message = exc.message if isinstance(exc, HubError) else "interrupted"
            resume = f"every resource up to rid {done[-1]} is re-indexed; resume with --after {done[-1]}"
            op.failure = f"{message}; {resume}"
            err.print(f"{message}\n{resume}", style="red", markup=False, highlight=False)
            raise typer.Exit(2 if isinstance(exc, HubError) else 130) from exc
        op.about(EntityKind.DATA_STORE, "search index", f"{result.replaced} of {result.resources} re-indexed")
    skipped = result.resources - result.replaced
    changed = f"; {skipped:,} changed meanwhile and were indexed by that write" if skipped else ""
    console.print(
        f"re-indexed {result.replaced:,} of {result.resources:,} resources"
        f" ({result.rows:,} index rows){changed}"
    )


__all__ = ["reindex_command"]
