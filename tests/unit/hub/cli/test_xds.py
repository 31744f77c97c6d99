"""``telehub xds``: the NIST runner command and blob garbage collection, through typer's CliRunner."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hub.cli.xds import app
from hub.storage import BlobInfo, FileBlobStore
from tests.conftest import testdata_path


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def put(store: FileBlobStore, data: bytes) -> BlobInfo:
    """One blob write on a private loop (``asyncio.run`` would reset the thread's current loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(store.put_bytes(data))
    finally:
        loop.close()


def test_nist_command_reports_the_group_table() -> None:
    testkit = testdata_path("xds", "nist-testkit")
    result = invoke(["nist", str(testkit), "--test", "11966", "--test", "11991"])
    assert result.exit_code == 0, result.output
    assert "| PR.b | 2 | 2 | 2 | 100.0 % |" in result.output and "| R.b |" in result.output
    as_json = invoke(["nist", str(testkit), "--test", "11966", "--format", "json"])
    assert as_json.exit_code == 0 and '"suite": "nist-xds"' in as_json.output


def test_nist_command_refuses_a_non_testkit(tmp_path: Path) -> None:
    result = invoke(["nist", str(tmp_path)])
    assert result.exit_code == 2 and "tests/" in result.output


def test_gc_blobs_deletes_only_unreferenced_old_blobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/hub.db")
    monkeypatch.setenv("TELEHUB_DATA_DIR", str(tmp_path))
    store = FileBlobStore(tmp_path / "blobs")
    orphan = put(store, b"left by a failed submission")
    young = put(store, b"still in flight")
    old = time.time() - 7200
    os.utime(store.path(orphan.sha256), (old, old))
    result = invoke(["gc-blobs"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 unreferenced blob" in result.output
    assert not store.exists(orphan.sha256) and store.exists(young.sha256)
