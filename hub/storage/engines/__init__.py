"""Engine objects: every SQLite/PostgreSQL difference is a method here, never an ``if sqlite:`` in a store."""

from __future__ import annotations

from hub.storage.engines.base import ENGINE_KEY, RowValue, StorageEngine, engine_of, lock_keys_txn
from hub.storage.engines.postgres import PostgresEngine
from hub.storage.engines.sqlite import SqliteEngine


def engine_for_url(url: str) -> StorageEngine:
    """Pick the engine implementation from the database URL scheme."""
    if url.startswith("sqlite"):
        return SqliteEngine(url)
    if url.startswith("postgresql"):
        return PostgresEngine(url)
    from hub.core.errors import ConfigurationError

    raise ConfigurationError(
        f"unsupported database URL scheme in {url.split('://', 1)[0]!r}: "
        "use sqlite+aiosqlite:///path or postgresql+asyncpg://user:pass@host/db"
    )


__all__ = [
    "ENGINE_KEY",
    "PostgresEngine",
    "RowValue",
    "SqliteEngine",
    "StorageEngine",
    "engine_for_url",
    "engine_of",
    "lock_keys_txn",
]
