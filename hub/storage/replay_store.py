"""SQL of the shared replay defence (``replay_guard``): a single-use key is claimed once until it expires.

The claim is one write transaction: insert the key's row, or - when a row is there - take it over only if
it has expired.  Two workers claiming one key at once serialise on the primary key (PostgreSQL makes the
second insert wait for the first commit), so exactly one of them gets ``True``.
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.engines import engine_of
from hub.storage.schema import replay_guard


async def claim_replay_key_txn(
    conn: AsyncConnection, key_hash: str, *, expires_us: int, now_us: int, purge: bool = False
) -> bool:
    """``True`` when ``key_hash`` was free (or its earlier claim has expired) and is now claimed.

    With ``purge`` the expired rows of every key are deleted first (callers do it now and then).
    """
    if purge:
        await conn.execute(delete(replay_guard).where(replay_guard.c.expires_us <= now_us))
    inserted = await conn.execute(
        engine_of(conn).insert_ignoring_conflicts(replay_guard),
        {"key_hash": key_hash, "expires_us": expires_us},
    )
    if inserted.rowcount == 1:
        return True
    taken_over = await conn.execute(
        update(replay_guard)
        .where(replay_guard.c.key_hash == key_hash, replay_guard.c.expires_us <= now_us)
        .values(expires_us=expires_us)
    )
    return taken_over.rowcount == 1
