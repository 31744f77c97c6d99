"""Plain values that cross the storage boundary (no SQLAlchemy types leak out of hub/storage)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One stored version of a resource: the JSON bytes exactly as they are served."""

    rid: int
    res_type: str
    res_id: str
    version: int
    last_updated: int  # microseconds since epoch, UTC
    deleted: bool
    data: bytes | None  # None for a delete marker
    method: str = ""
    patient_key: str | None = None


@dataclass(frozen=True, slots=True)
class CurrentState:
    """The head row of a logical resource, read for update (locked on PostgreSQL)."""

    rid: int
    version: int
    deleted: bool
    last_updated: int
    patient_key: str | None
