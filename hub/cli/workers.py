"""Several worker processes, each with its own listening socket on the same port (``SO_REUSEPORT``).

uvicorn's own ``--workers`` shares ONE listening socket between the workers, and whichever worker wakes up
first accepts every pending connection in one go: a client that opens its keep-alive connections at once
(a hospital gateway, a load test) ends up on a single worker while the others idle (measured: 15 of 16
connections on one of two workers).  With one socket per worker bound with ``SO_REUSEPORT``, Linux spreads
new connections over the workers' sockets by a hash of the connection, so the work is shared.

The parent only binds the sockets (each worker's event loop listens and accepts on its own), starts the
workers (``spawn``), restarts a worker that dies (its socket stays open in the parent, so connections
queued on it wait for the replacement), stops them all on SIGINT/SIGTERM, and gives up when a worker
fails during start-up (a broken database or configuration would fail the same way on every restart).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("telehub.serve")

STARTUP_FAILURE = 3  # the exit code of a worker that never started serving (uvicorn uses the same)
_POLL_SECONDS = 0.5
_STOP_SECONDS = 30.0


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def bind_reuse_port(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT`` (not yet listening); IPv6 when ``host`` has a
    colon, as uvicorn decides ("localhost" is then 127.0.0.1, as with one worker)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _worker(config: Mapping[str, Any], sock: socket.socket) -> None:
    """One worker process: a uvicorn server on ``sock``; exits STARTUP_FAILURE when it never served."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(**config, workers=1))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Workers:
    """Supervises ``count`` workers serving ``config`` (keyword arguments of ``uvicorn.Config``)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        host: str,
        port: int,
        count: int,
        target: Callable[[Mapping[str, Any], socket.socket], None] = _worker,
    ) -> None:
        self._config = dict(config)
        self._target = target
        self._sockets = [bind_reuse_port(host, port) for _ in range(count)]
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []
        self._stop = threading.Event()

    def _start(self, sock: socket.socket) -> BaseProcess:
        process = self._context.Process(target=self._target, args=(self._config, sock), daemon=False)
        process.start()
        return process

    def run(self) -> int:
        """Serve until SIGINT/SIGTERM (exit code 0) or until a worker fails to start (STARTUP_FAILURE)."""
        previous = {
            sig: signal.signal(sig, lambda *_: self._stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            self._processes = [self._start(sock) for sock in self._sockets]
            while not self._stop.wait(_POLL_SECONDS):
                code = self._watch()
                if code:
                    break
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self._sockets:
                sock.close()
        return code

    def _watch(self) -> int:
        for index, process in enumerate(self._processes):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed during start-up: stopping", process.pid)
                return STARTUP_FAILURE
            log.warning("worker %s died (exit code %s): starting a new one", process.pid, process.exitcode)
            self._processes[index] = self._start(self._sockets[index])
        return 0

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then stops
        for process in self._processes:
            process.join(_STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()


__all__ = ["STARTUP_FAILURE", "Workers", "bind_reuse_port", "reuse_port_supported"]
