"""Instants as integer microseconds since the Unix epoch (UTC), and their FHIR / HTTP renderings."""

from __future__ import annotations

import datetime as dt
import time
from email.utils import format_datetime

_UTC = dt.UTC


def now_us() -> int:
    return time.time_ns() // 1000


def to_datetime(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1_000_000, tz=_UTC).replace(microsecond=us % 1_000_000)


def fhir_instant(us: int) -> str:
    """``2026-11-25T17:01:04.123456Z`` (FHIR instant, microsecond precision)."""
    return to_datetime(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def http_date(us: int) -> str:
    """RFC 7231 IMF-fixdate, for Last-Modified."""
    return format_datetime(to_datetime(us).replace(microsecond=0), usegmt=True)


class MonotonicClock:
    """Strictly increasing microsecond timestamps within one process, so versions never share an instant."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        now = now_us()
        if now <= self._last:
            now = self._last + 1
        self._last = now
        return now
