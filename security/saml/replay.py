"""Replay defence for ID cards: an assertion id is accepted once and remembered until it expires.

SAML 2.0 Profiles §4.1.4.5 (a relying party keeps the ids of consumed assertions at least until
their NotOnOrAfter).  :class:`ReplayCache` is the seam: the in-memory cache below serves one
process; the doors then claim the same key in the database (:class:`ReplayClaim`, table
``replay_guard``), which every worker shares and a restart keeps.

The in-memory cache is bounded.  When it is full of unexpired ids it refuses new ones
(fail closed) instead of forgetting old ones, which would re-open them for replay; only
signature-verified cards from a pinned issuer reach it, so filling it takes a trusted issuer.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from hub.core.errors import AuthenticationError


@dataclass(frozen=True, slots=True)
class ReplayClaim:
    """A single-use key that passed this process's cache; the caller claims it in the shared store too.

    The in-memory cache sees one process.  The door claims ``key_hash`` in the database until
    ``expires_at`` (``hub.storage.claim_replay_key_txn``), so other workers and a restarted process refuse
    the same card (scope ``card``) or message (scope ``message``) as well.
    """

    key: str
    expires_at: datetime

    @property
    def key_hash(self) -> str:
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()


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
