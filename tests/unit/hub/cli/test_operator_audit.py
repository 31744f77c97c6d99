"""Operator actions of the command line are audited (hub.cli.operator_audit), on each engine: one hash-chained
record per action with the operator, the object and the outcome; no writable audit log, no action."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from hub.cli import app
from hub.core.settings import mask_url_password
from hub.storage import Database, audit_rows_txn
from security import AuditAction, AuditRecord, record_from_bytes, to_audit_event
from tests.conftest import POSTGRES_URL, testdata_path

runner = CliRunner()


def _cli(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("TELEHUB_DATABASE_URL", url)
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _records(url: str) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        db = Database(url)
        try:
            rows = await db.run("t", audit_rows_txn, 0, 1000)
        finally:
            await db.close()
        return [record_from_bytes(r.record) for r in rows]

    return asyncio.run(read())


def _package(path: Path) -> Path:
    raw = json.dumps({"name": "dk.test.ops", "version": "1.0.0"}).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(raw)
        archive.addfile(info, io.BytesIO(raw))
    return path


def test_pack_installs_are_audited_with_operator_and_outcome(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    packs = tmp_path / "packs"
    schemas = testdata_path("cda", "schemas")
    code, out = _cli(
        monkeypatch, database_url, "packs", "install", "cda-r2", str(schemas), "--packs-dir", str(packs)
    )
    assert code == 0, out
    code, out = _cli(monkeypatch, database_url, "packs", "install", "cda-r2", str(tmp_path / "absent"))
    assert code == 1
    done, failed = _records(database_url)
    assert done.action is AuditAction.INSTALL_PACK and done.outcome.value == "0"
    assert done.agent.it_system == "telehub-cli" and done.agent.roles == ("admin",)
    assert done.agent.subject and done.agent.subject.startswith("os-user:")
    assert [e.identifier for e in done.entities] == ["cda-r2", "cda-r2 cda-r2"]
    assert failed.outcome.value == "8" and "does not exist" in (failed.outcome_description or "")
    event = to_audit_event(failed)
    assert event["subtype"][0]["code"] == "110131" and event["outcome"] == "8"
    assert event["entity"][0]["role"]["code"] == "5"


def test_package_install_migrate_and_verify_are_audited(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = _package(tmp_path / "ops.tgz")
    assert _cli(monkeypatch, database_url, "packages", "install", str(source))[0] == 0
    code, out = _cli(monkeypatch, database_url, "migrate")
    assert code == 0, out
    assert _cli(monkeypatch, database_url, "audit", "verify")[0] == 0
    code, out = _cli(monkeypatch, database_url, "reindex", "--type", "Observation")
    assert code == 0, out
    code, out = _cli(monkeypatch, database_url, "xds", "gc-blobs")
    assert code == 0, out
    installed, migrated, verified, reindexed, collected = _records(database_url)
    assert reindexed.action is AuditAction.REINDEX and "types: Observation" in (
        reindexed.entities[0].description or ""
    )
    assert collected.action is AuditAction.COLLECT_BLOBS
    assert collected.entities[0].description == "0 unreferenced blob(s) deleted"
    assert to_audit_event(collected)["action"] == "D"
    assert installed.action is AuditAction.INSTALL_PACKAGE
    assert "dk.test.ops#1.0.0" in [e.identifier for e in installed.entities]
    assert migrated.action is AuditAction.MIGRATE and "revision" in (migrated.entities[0].description or "")
    assert migrated.entities[0].identifier == mask_url_password(database_url)  # never a password
    assert verified.action is AuditAction.VERIFY_AUDIT and verified.outcome.value == "0"
    assert "intact: 2 rows verified" in (verified.entities[0].description or "")
    assert to_audit_event(verified)["type"]["code"] == "110101"


def test_a_broken_chain_verification_is_recorded_as_failed(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _cli(monkeypatch, database_url, "audit", "verify")[0] == 0
    assert _cli(monkeypatch, database_url, "audit", "verify")[0] == 0

    async def tamper() -> None:
        db = Database(database_url)
        try:
            async with db.sa_engine.begin() as conn:
                await conn.execute(text("UPDATE audit_log SET record = replace(record, 'intact', 'INTACT')"))
        finally:
            await db.close()

    asyncio.run(tamper())
    code, out = _cli(monkeypatch, database_url, "audit", "verify")
    assert code == 1 and "BROKEN" in out
    last = _records(database_url)[-1]
    assert last.action is AuditAction.VERIFY_AUDIT and last.outcome.value == "8"
    assert "broken at row" in (last.outcome_description or "")


def test_no_writable_audit_log_no_action(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    unreachable = "postgresql+asyncpg://telehub@127.0.0.1:1/telehub"
    schemas = str(testdata_path("cda", "schemas"))
    code, out = _cli(
        monkeypatch, unreachable, "packs", "install", "cda-r2", schemas, "--packs-dir", str(packs)
    )
    assert code == 2 and "audit log is not writable" in out and "nothing was changed" in out
    assert not packs.exists()
    code, out = _cli(monkeypatch, unreachable, "xds", "gc-blobs")
    assert code == 2 and "nothing was changed" in out


def test_verify_still_runs_on_a_log_it_cannot_write(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A read-only copy (here: a PostgreSQL database in read-only mode) is verified; the record is skipped."""
    if not database_url.startswith("postgresql"):
        pytest.skip("read-only mode is set with ALTER DATABASE on PostgreSQL")
    assert _cli(monkeypatch, database_url, "audit", "verify")[0] == 0
    name = database_url.rpartition("/")[2]

    async def read_only(on: bool) -> None:  # from the server's admin database, which stays writable
        assert POSTGRES_URL is not None
        admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {on}')
        finally:
            await admin.close()

    asyncio.run(read_only(True))
    try:
        code, out = _cli(monkeypatch, database_url, "audit", "verify")
        assert code == 0 and "audit chain intact: 1 rows verified" in out
        assert "could not be written" in out
        code, out = _cli(monkeypatch, database_url, "xds", "gc-blobs")  # an action that changes things
        assert code != 0
    finally:
        asyncio.run(read_only(False))
    assert [r.action for r in _records(database_url)] == [AuditAction.VERIFY_AUDIT]
