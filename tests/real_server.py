"""A real ``telehub serve`` process, for tests of the console entry point, real sockets or a real crash."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TELEHUB = str(Path(sys.executable).with_name("telehub"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(tmp_path: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The test's environment without inherited ``TELEHUB_*``, plus the database, a data dir and ``settings``
    (``security__mode="open"`` becomes ``TELEHUB_SECURITY__MODE=open``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEHUB_")}
    env.update({"TELEHUB_DATABASE_URL": database_url, "TELEHUB_DATA_DIR": str(tmp_path / "var")})
    env.update({f"TELEHUB_{name.upper()}": value for name, value in settings.items()})
    return env


def wait_for(url: str, proc: subprocess.Popen[bytes]) -> httpx.Response | None:
    """The first answer of ``url`` within 10 s, or None when the process died or never answered."""
    for _ in range(100):
        if proc.poll() is not None:
            return None
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    return None
