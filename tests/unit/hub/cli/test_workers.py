"""Per-worker listening sockets (``hub.cli.workers``): several bind one port, sharing its connections."""

from __future__ import annotations

import socket

import pytest

from hub.cli.workers import bind_reuse_port, reuse_port_supported

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux-only")


def test_several_sockets_bind_one_port_and_share_its_connections() -> None:
    first = bind_reuse_port("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = bind_reuse_port("127.0.0.1", port)
    try:
        for sock in (first, second):
            sock.listen(64)
            sock.setblocking(False)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        accepted = {id(first): 0, id(second): 0}
        for sock in (first, second):
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[id(sock)] += 1
        for client in clients:
            client.close()
        assert sum(accepted.values()) == 32
        assert all(count > 0 for count in accepted.values())  # 2 x 2**-32 chance of a false failure
    finally:
        first.close()
        second.close()


def test_a_port_in_plain_use_is_refused() -> None:
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen(1)
    try:
        with pytest.raises(OSError):
            bind_reuse_port("127.0.0.1", plain.getsockname()[1])
    finally:
        plain.close()


def test_localhost_binds_ipv4_like_a_single_worker() -> None:
    sock = bind_reuse_port("localhost", 0)
    try:
        assert sock.family == socket.AF_INET
    finally:
        sock.close()
