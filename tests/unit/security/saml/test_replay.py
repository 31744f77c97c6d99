"""security.saml.replay: the in-memory replay cache (expiry, bound, threads)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from hub.core.errors import AuthenticationError
from security import InMemoryReplayCache


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_second_use_is_refused_until_expiry() -> None:
    clock = Clock()
    cache = InMemoryReplayCache(clock=clock)
    cache.check_and_store("a", clock.now + timedelta(minutes=5))
    with pytest.raises(AuthenticationError, match="already used"):
        cache.check_and_store("a", clock.now + timedelta(minutes=5))
    clock.now += timedelta(minutes=5)
    cache.check_and_store("a", clock.now + timedelta(minutes=5))  # expired ids are forgotten
    assert len(cache) == 1


def test_full_cache_fails_closed_then_recovers_after_expiry() -> None:
    clock = Clock()
    cache = InMemoryReplayCache(max_entries=2, clock=clock)
    cache.check_and_store("a", clock.now + timedelta(minutes=1))
    cache.check_and_store("b", clock.now + timedelta(minutes=10))
    with pytest.raises(AuthenticationError, match="full"):
        cache.check_and_store("c", clock.now + timedelta(minutes=10))
    with pytest.raises(AuthenticationError, match="already used"):
        cache.check_and_store("a", clock.now + timedelta(minutes=1))  # never forgotten early
    clock.now += timedelta(minutes=1)
    cache.check_and_store("c", clock.now + timedelta(minutes=10))
    assert len(cache) == 2


def test_invalid_bound() -> None:
    with pytest.raises(ValueError, match="positive"):
        InMemoryReplayCache(max_entries=0)


def test_concurrent_use_of_one_id_succeeds_exactly_once() -> None:
    cache = InMemoryReplayCache()
    expires = datetime.now(UTC) + timedelta(minutes=5)
    outcomes: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            cache.check_and_store("same-card", expires)
            ok = True
        except AuthenticationError:
            ok = False
        with lock:
            outcomes.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(True) == 1 and outcomes.count(False) == 7
