"""``telehub serve | migrate | config | version`` through the real console entry point."""

from __future__ import annotations

import json
import re
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from tests.real_server import TELEHUB, free_port, server_env, wait_for

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and "telehub 0.1.0" in result.stdout


def test_config_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATABASE_URL", "postgresql+asyncpg://hub:s3cret@db.example/telehub")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["database_url"] == "postgresql+asyncpg://hub:***@db.example/telehub"
    assert "s3cret" not in result.stdout
    assert data["port"] == 8080


def test_config_reads_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "telehub.toml"
    toml.write_text('port = 9090\n[xds]\nhome_community_id = "urn:oid:1.2.208.176.8.1"\n')
    monkeypatch.setenv("TELEHUB_CONFIG", str(toml))
    data = json.loads(runner.invoke(app, ["config"]).stdout)
    assert data["port"] == 9090 and data["xds"]["home_community_id"] == "urn:oid:1.2.208.176.8.1"


def test_invalid_configuration_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_PORT", "not-a-port")
    assert runner.invoke(app, ["config"]).exit_code == 2


@pytest.mark.parametrize(
    "command",
    [
        ["config"],
        ["validate", "README.md"],
        ["packs", "list"],
        ["packages", "list"],
        ["migrate"],
        ["reindex"],
    ],
)
def test_a_settings_file_that_is_not_there_is_exit_2_for_every_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    monkeypatch.setenv("TELEHUB_CONFIG", str(tmp_path / "telehub.tolm"))
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "invalid configuration" in result.output and "telehub.tolm" in result.output
    assert "Traceback" not in result.output


def test_migrate(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEHUB_DATABASE_URL", database_url)
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.stdout
    assert "schema at revision" in result.stdout


def test_serve_refuses_several_workers_on_sqlite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TELEHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    result = runner.invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_serve_answers_over_real_http(database_url: str, tmp_path: Path) -> None:
    """The console script runs uvicorn; PostgreSQL needs ``telehub migrate`` first (the fixture did it)."""
    port = free_port()
    log = tmp_path / "serve.log"
    with (
        log.open("wb") as out,
        subprocess.Popen(
            [TELEHUB, "serve", "--port", str(port)],
            env=server_env(tmp_path, database_url),
            stdout=out,
            stderr=out,
        ) as proc,
    ):
        try:
            response = wait_for(f"http://127.0.0.1:{port}/fhir/metadata", proc)
            assert response is not None, log.read_text()
            assert response.status_code == 200
            assert response.json()["resourceType"] == "CapabilityStatement"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    # the ready worker froze its start-up heap and raised generation 0 (hub.core.heap; defaults)
    settled = re.search(r"heap settled: (\d+) objects frozen, gc thresholds \((\d+),", log.read_text())
    assert settled is not None, log.read_text()
    assert int(settled[1]) > 10_000
    assert int(settled[2]) == 10_000


def test_serve_refuses_unmigrated_postgres(tmp_path: Path) -> None:
    from tests.conftest import POSTGRES_URL, _pg_create

    if not POSTGRES_URL:
        pytest.skip("TELEHUB_TEST_POSTGRES_URL not set")
    import asyncio
    import uuid

    url = asyncio.run(_pg_create(f"telehub_empty_{uuid.uuid4().hex[:8]}"))
    port = free_port()
    proc = subprocess.run(
        [TELEHUB, "serve", "--port", str(port)],
        env=server_env(tmp_path, url),
        capture_output=True,
        timeout=60,
    )
    output = (proc.stdout + proc.stderr).decode()
    assert proc.returncode != 0
    assert "telehub migrate" in output


def _connect_at_once(port: int, count: int) -> list[socket.socket]:
    """``count`` TCP connections whose handshakes all start before any completes (non-blocking connects)."""
    clients = [socket.socket() for _ in range(count)]
    for client in clients:
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
    for client in clients:
        select.select([], [client], [], 10)
        client.setblocking(True)
    return clients


def _postgres_or_skip(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SQLite has one writer)")


@pytest.mark.slow
def test_several_workers_share_the_connections_and_stop_together(database_url: str, tmp_path: Path) -> None:
    """One listening socket per worker (SO_REUSEPORT): keep-alive connections opened at once land on both
    workers, not all on the one that woke first; SIGTERM to ``telehub serve`` stops every worker."""
    import psutil

    _postgres_or_skip(database_url)
    port = free_port()
    log = tmp_path / "serve.log"
    command = [TELEHUB, "serve", "--port", str(port), "--workers", "2"]
    with (
        log.open("wb") as out,
        subprocess.Popen(command, env=server_env(tmp_path, database_url), stdout=out, stderr=out) as proc,
    ):
        try:
            ready = wait_for(f"http://127.0.0.1:{port}/health", proc)
            assert ready is not None, log.read_text()
            workers: list[psutil.Process] = []
            for _ in range(100):  # until both workers listen (each one's event loop opens its own socket)
                workers = [
                    w
                    for w in psutil.Process(proc.pid).children()
                    if any(c.status == psutil.CONN_LISTEN for c in w.net_connections(kind="tcp"))
                ]
                if len(workers) == 2:
                    break
                time.sleep(0.2)
            assert len(workers) == 2, log.read_text()
            # connected at once, as a gateway or a load test does: with one shared socket the worker that
            # wakes first accepts the whole queue
            clients = _connect_at_once(port, 24)
            try:
                for client in clients:
                    client.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                for client in clients:
                    assert client.recv(65536).startswith(b"HTTP/1.1 200")  # the connection stays open
                serving = {
                    w.pid
                    for w in workers
                    for c in w.net_connections(kind="tcp")
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
                }
                assert len(serving) == 2, log.read_text()
            finally:
                for client in clients:
                    client.close()
        finally:
            proc.terminate()
            proc.wait(timeout=40)
    assert proc.returncode == 0
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_several_workers_on_an_unmigrated_postgres_exit_with_an_error(
    database_url: str, tmp_path: Path
) -> None:
    from tests.conftest import _pg_create

    _postgres_or_skip(database_url)
    import asyncio
    import uuid

    url = asyncio.run(_pg_create(f"telehub_empty_{uuid.uuid4().hex[:8]}"))
    proc = subprocess.run(
        [TELEHUB, "serve", "--port", str(free_port()), "--workers", "2"],
        env=server_env(tmp_path, url),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "telehub migrate" in (proc.stdout + proc.stderr).decode()
