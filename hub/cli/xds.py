"""``telehub xds``: the XDS.b registry/repository's operator commands.

- ``telehub xds nist PATH [--target URL]``: run the NIST XDS toolkit testkit (``conformance.suites.nist_xds``)
  against a fresh in-process hub per test, or a running hub; prints the pass-rate table per group and
  every failing step with its cause (``--format json|junit`` for machines).  Exit 1 when a runnable step
  fails.
- ``telehub xds gc-blobs [--grace-seconds N]``: delete repository blobs no document row references (left
  by failed submissions; see ``hub.storage.blob_store``).

:func:`in_process_hub` is the composition-root half of the NIST runner (conformance may not import the app).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from conformance import ReportFormat, render
from conformance.suites import failures, group_table, run_nist
from hub.cli.configuration import load_settings
from hub.cli.operator_audit import audited
from hub.core.settings import SecurityMode, SecuritySettings, Settings, Strictness, XdsSettings
from hub.storage import Database, FileBlobStore, ensure_ready, referenced_blob_keys_txn
from security import AuditAction, AuditEntity, EntityKind

app = typer.Typer(name="xds", help="XDS.b registry and repository tools.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False)


@asynccontextmanager
async def in_process_hub() -> AsyncIterator[httpx.AsyncClient]:
    """A fresh hub (own SQLite database and blob store, explicit open security, DK metadata profile checks
    as warnings because the NIST metadata is not Danish, patient ids checked against FHIR Patients - the
    runner's Patient Identity Feed) reached through httpx.ASGITransport."""
    with tempfile.TemporaryDirectory(prefix="telehub-nist-") as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/hub.db",
            data_dir=Path(tmp),
            base_url="http://nist.invalid",
            security=SecuritySettings(mode=SecurityMode.OPEN),
            xds=XdsSettings(danish_profile_strictness=Strictness.WARNING, patient_registry=True),
        )
        # the composition root, looked up by name as ``telehub serve`` does ("hub.app:create_app"); the
        # throwaway hub has no FHIR packages on purpose (XDS tests), so its "core not installed" warning
        # would only confuse the report
        validation_log = logging.getLogger("telehub.validation")
        level = validation_log.level
        validation_log.setLevel(logging.ERROR)
        try:
            application = importlib.import_module("hub.app").build_app(settings)
        finally:
            validation_log.setLevel(level)
        services = application.state.services
        await ensure_ready(services.fhir.db)
        transport = httpx.ASGITransport(app=application)
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://nist.invalid", timeout=300
            ) as http:
                yield http
        finally:
            if services.xds is not None:
                await services.xds.close()
            await services.fhir.audit.close()
            await services.fhir.db.close()


@app.command("nist")
def nist(
    path: Annotated[Path, typer.Argument(help="The NIST testkit folder (holding tests/).")],
    target: Annotated[str | None, typer.Option("--target", help="Base URL of a running hub.")] = None,
    test: Annotated[list[str] | None, typer.Option("--test", help="Only this test id (repeatable).")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Only this group (R.b, SQ.b …).")] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Report format.")
    ] = ReportFormat.TEXT,
) -> None:
    """Run the NIST XDS testkit and report pass rates per group."""
    if not (path / "tests").is_dir():
        _err.print(f"[red]Not a NIST testkit folder (no tests/):[/red] {path}")
        raise typer.Exit(2)
    report = run_nist(path, target, tests=test or (), groups=group or (), hub=in_process_hub)
    if output_format is ReportFormat.TEXT:
        _out.print(group_table(report))
        for line in failures(report):
            _out.print(f"FAIL {line}")
    else:
        _out.print(render(report, output_format))
    raise typer.Exit(1 if failures(report) else 0)


@app.command("gc-blobs")
def gc_blobs(
    grace_seconds: Annotated[
        float, typer.Option("--grace-seconds", help="Keep unreferenced blobs younger than this.")
    ] = 3600.0,
) -> None:
    """Delete repository blobs that no document row references (audited, with the keys deleted)."""
    settings = load_settings()

    async def collect() -> list[str]:
        db = Database(settings.database_url)
        try:
            await ensure_ready(db)
            referenced = await db.run("xds_blob_keys", referenced_blob_keys_txn)
        finally:
            await db.close()
        return FileBlobStore(settings.blob_dir).collect_garbage(referenced, grace_seconds=grace_seconds)

    with audited(settings, AuditAction.COLLECT_BLOBS) as op:
        deleted = asyncio.run(collect())
        op.about(
            EntityKind.DATA_STORE, str(settings.blob_dir), f"{len(deleted)} unreferenced blob(s) deleted"
        )
        op.entities.extend(AuditEntity(EntityKind.DATA_STORE, f"blob {key}") for key in deleted[:1000])
    _out.print(f"deleted {len(deleted)} unreferenced blob(s) under {settings.blob_dir}")
