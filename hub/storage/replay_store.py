"""SQL of the shared replay defence (``replay_guard``): a single-use key is claimed once until it expires.

The claim is ONE atomic statement (``INSERT … ON CONFLICT (key_hash) DO UPDATE … WHERE the row has expired
RETURNING``): it inserts the key, or takes over a row whose claim has expired, or changes nothing and
returns no row (a replay).  Two workers claiming one key at once serialise on the primary key
(PostgreSQL makes the second wait for the first), so exactly one of them gets ``True``.
"""

from __future__ import annotations

from sqlalchemy import Insert, bindparam, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.engines import StorageEngine, engine_of
from hub.storage.schema import replay_guard

_CLAIMS: dict[str, Insert] = {}  # the claim statement of each engine, built once


def _claim_statement(engine: StorageEngine) -> Insert:
    statement = _CLAIMS.get(engine.name)
    if statement is None:
        statement = (
            engine.insert_or_update_where(
                replay_guard,
                keys=("key_hash",),
                update={"expires_us": bindparam("new_expiry")},
                where=replay_guard.c.expires_us <= bindparam("now"),
            )
            .values(key_hash=bindparam("key"), expires_us=bindparam("expiry"))
            .returning(replay_guard.c.key_hash)
        )
        _CLAIMS[engine.name] = statement
    return statement


async def claim_replay_key_txn(
    conn: AsyncConnection, key_hash: str, *, expires_us: int, now_us: int, purge: bool = False
) -> bool:
    """``True`` when ``key_hash`` was free (or its earlier claim has expired) and is now claimed.

    With ``purge`` the expired rows of every key are deleted first (callers do it now and then).
    """
    if purge:
        await conn.execute(delete(replay_guard).where(replay_guard.c.expires_us <= now_us))
    parameters = {"key": key_hash, "expiry": expires_us, "new_expiry": expires_us, "now": now_us}
    return (await conn.execute(_claim_statement(engine_of(conn)), parameters)).first() is not None
