"""Signature-verified ID cards, remembered by the SHA-256 of their exact bytes until they expire.

DGWS clients fetch an ID card from the STS and send it with every request for hours.  The XML-Signature
check (signxml: about 1 ms of CPU) gives the same answer for the same bytes under the same pinned
certificates, so the verifier asks this cache first.  What is cached is the card *as read from the
element signxml verified*; the key is the digest of exactly the bytes handed to signxml (the assertion
serialised with its in-scope namespaces), so a hit stands for a verification of identical input.  The
message-level checks (one assertion, its place, comments, unique id, the signature's reference),
Conditions, audience, authentication level and replay still run on every request.

Bounded: the least recently used entry goes first when full; an expired entry is never returned.  One
instance per verifier (its trust configuration), so a restart with other certificates starts empty.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from security.saml.idcard import IdCard


def _utc_now() -> datetime:
    return datetime.now(UTC)


def card_key(verified_bytes: bytes) -> bytes:
    """The cache key of the bytes a signature check was (or would be) run on."""
    return hashlib.sha256(verified_bytes).digest()


class VerifiedCardCache:
    """Thread-safe LRU of verified cards; ``max_entries`` 0 disables it."""

    def __init__(self, max_entries: int, *, clock: Callable[[], datetime] = _utc_now) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must not be negative")
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._cards: OrderedDict[bytes, IdCard] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._cards)

    def get(self, key: bytes) -> IdCard | None:
        """The verified card stored under ``key``, unless it has expired (then it is dropped)."""
        with self._lock:
            card = self._cards.get(key)
            if card is None:
                return None
            expires = card.not_on_or_after
            if expires is None or self._clock() >= expires:
                del self._cards[key]
                return None
            self._cards.move_to_end(key)
            return card

    def put(self, key: bytes, card: IdCard) -> None:
        """Remember a card whose signature was just verified (cards without an expiry are not kept)."""
        if self._max == 0 or card.not_on_or_after is None:
            return
        with self._lock:
            self._cards[key] = card
            self._cards.move_to_end(key)
            while len(self._cards) > self._max:
                self._cards.popitem(last=False)
