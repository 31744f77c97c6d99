"""Benchmark harness: a real ``telehub serve`` process, wrk (or a Python fallback) as the load generator on
loopback, and RSS sampling of every worker.  It measures and reports; it never asserts on time."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RssSampler:
    """Samples the RSS of the server's worker processes (uvicorn children, or the server itself)."""

    root: psutil.Process
    peak_mb: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def workers(self) -> list[psutil.Process]:
        # uvicorn's workers are multiprocessing spawns too: leave out only the resource tracker
        children = [
            c for c in self.root.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())
        ]
        return children or [self.root]

    def current_mb(self) -> list[float]:
        out = []
        for p in self.workers():
            try:
                out.append(p.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                continue
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in self.workers():
                try:
                    rss = p.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
                self.peak_mb[p.pid] = max(self.peak_mb.get(p.pid, 0.0), rss)
            time.sleep(0.2)

    def __enter__(self) -> RssSampler:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    @property
    def peak(self) -> float:
        return max(self.peak_mb.values(), default=0.0)


def install_core(data_dir: Path, package: Path) -> bool:
    """``telehub packages install`` of hl7.fhir.r4.core into ``data_dir``, as an operator does; False when
    the package file is not available (../shared/testdata missing)."""
    if not package.is_file():
        return False
    telehub = str(Path(sys.executable).with_name("telehub"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEHUB_")}
    env["TELEHUB_DATA_DIR"] = str(data_dir)
    # the installation is audited (hub.cli.operator_audit), here in the embedded database inside data_dir
    subprocess.run([telehub, "packages", "install", str(package)], env=env, check=True, capture_output=True)
    return True


class Server:
    """``telehub serve`` in a subprocess, with its own environment."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        data_dir: Path,
        extra_env: dict[str, str] | None = None,
        app_factory: str | None = None,
    ):
        self.port = free_port()
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEHUB_")}
        env.update(
            {
                "TELEHUB_DATABASE_URL": database_url,
                "TELEHUB_DATA_DIR": str(data_dir),
                "TELEHUB_LOG_LEVEL": "warning",
                "TELEHUB_BASE_URL": self.url,
            }
        )
        env.update(extra_env or {})
        telehub = str(Path(sys.executable).with_name("telehub"))
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        command = [telehub, "serve", "--port", str(self.port), "--workers", str(workers)]
        if app_factory is not None:  # a benchmark-only build (the no-security baseline), served the same way
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                app_factory,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ]
        self.proc = subprocess.Popen(
            command,
            env=env,
            stdout=self._log,
            stderr=self._log,
        )
        self.process = psutil.Process(self.proc.pid)

    def _wait_for_listeners(self, seconds: float = 30) -> None:
        """Until every worker listens: with one socket per worker (telehub serve --workers N), load that
        starts earlier would all land on the workers already up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            processes = [self.process, *self.process.children(recursive=True)]
            listening = 0
            for process in processes:
                try:
                    connections = process.net_connections(kind="tcp")
                except psutil.NoSuchProcess:
                    continue
                if any(
                    c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.port
                    for c in connections
                ):
                    listening += 1
            if listening >= self.workers:
                return
            time.sleep(0.1)

    def __enter__(self) -> Server:
        for _ in range(300):
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    self._wait_for_listeners()
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self._log.seek(0)
        raise RuntimeError("telehub serve did not start:\n" + self._log.read().decode(errors="replace"))

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    tool: str

    def row(self) -> dict[str, float | int | str]:
        return {
            "req/s": round(self.requests_per_s, 1),
            "p50 ms": round(self.p50_ms, 2),
            "p95 ms": round(self.p95_ms, 2),
            "p99 ms": round(self.p99_ms, 2),
            "errors": self.errors,
            "tool": self.tool,
        }


_WRK_DONE = """
local lat = {}
done = function(summary, latency, requests)
  io.write(string.format("JSON{\\"p50\\":%f,\\"p95\\":%f,\\"p99\\":%f,\\"rps\\":%f,\\"errors\\":%d}\\n",
    latency:percentile(50)/1000, latency:percentile(95)/1000, latency:percentile(99)/1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""


def wrk(url: str, lua: str, *, duration: int, connections: int, threads: int = 1) -> LoadResult:
    """Run wrk with a Lua ``request`` function; statuses ≥ 400 count as errors."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua + _WRK_DONE)
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "-s", script, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    match = re.search(r"JSON(\{.*\})", out)
    if match is None:
        raise RuntimeError(out)
    data = json.loads(match.group(1))
    return LoadResult(data["rps"], data["p50"], data["p95"], data["p99"], int(data["errors"]), "wrk")


def lua_string(value: str) -> str:
    return json.dumps(value)
