"""Replay defence for ID cards: an assertion id is accepted once and remembered until it expires.

SAML 2.0 Profiles §4.1.4.5 (a relying party keeps the ids of consumed assertions at least until
their NotOnOrAfter).  :class:`ReplayCache` is the seam: the in-memory cache below serves one
process; a database-backed implementation (a row per id with its expiry, a unique index, and a
periodic delete of expired rows) can replace it for several workers without touching callers.

The in-memory cache is bounded.  When it is full of unexpired ids it refuses new ones
(fail closed) instead of forgetting old ones, which would re-open them for replay; only
signature-verified cards from a pinned issuer reach it, so filling it takes a trusted issuer.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from hub.core.errors import AuthenticationError


class ReplayCache(Protocol):
    def check_and_store(self, assertion_id: str, expires_at: datetime) -> None:
        """Remember ``assertion_id`` until ``expires_at``; AuthenticationError if it was seen before."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InMemoryReplayCache:
    """Thread-safe, bounded; expired ids are purged lazily in expiry order."""

    def __init__(self, *, max_entries: int = 100_000, clock: Callable[[], datetime] = _utc_now) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def check_and_store(self, assertion_id: str, expires_at: datetime) -> None:
        with self._lock:
            now = self._clock()
            self._purge(now)
            if assertion_id in self._expiry:
                raise AuthenticationError(
                    f"ID card {assertion_id!r} was already used (replayed assertion id refused)"
                )
            if len(self._expiry) >= self._max:
                raise AuthenticationError("replay cache is full: ID card refused until older ids expire")
            self._expiry[assertion_id] = expires_at
            heapq.heappush(self._heap, (expires_at, assertion_id))

    def _purge(self, now: datetime) -> None:
        while self._heap and self._heap[0][0] <= now:
            expires_at, assertion_id = heapq.heappop(self._heap)
            if self._expiry.get(assertion_id) == expires_at:
                del self._expiry[assertion_id]
