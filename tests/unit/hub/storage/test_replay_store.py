"""The shared replay defence table on each engine: a key is claimed once until it expires, also when several
connections (workers) claim it at the same moment."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import Database, claim_replay_key_txn
from hub.storage.schema import replay_guard

KEY = "a" * 64


async def _claim(db: Database, key: str, *, expires: int, now: int, purge: bool = False) -> bool:
    return await db.run_write(
        "test_claim", claim_replay_key_txn, key, expires_us=expires, now_us=now, purge=purge
    )


async def _rows(db: Database) -> int:
    async def count(conn: AsyncConnection) -> int:
        return int((await conn.execute(select(func.count()).select_from(replay_guard))).scalar_one())

    return await db.run("test_count", count)


async def test_a_key_is_claimed_once_until_it_expires(database: Database) -> None:
    assert await _claim(database, KEY, expires=100, now=10)
    assert not await _claim(database, KEY, expires=200, now=50)  # replay before expiry
    assert not await _claim(database, KEY, expires=200, now=99)
    assert await _claim(database, KEY, expires=300, now=100)  # expired: the key may be used again
    assert not await _claim(database, KEY, expires=400, now=150)  # ...and now runs to the new expiry
    assert await _claim(database, "b" * 64, expires=100, now=150) is True  # other keys are independent
    assert await _rows(database) == 2


async def test_purge_deletes_expired_rows_only(database: Database) -> None:
    for n, expires in enumerate((10, 20, 500)):
        assert await _claim(database, f"{n:064d}", expires=expires, now=0)
    assert await _claim(database, KEY, expires=900, now=100, purge=True)
    assert await _rows(database) == 2  # the expiring-500 row and the new one
    assert not await _claim(database, f"{2:064d}", expires=900, now=100)


async def test_concurrent_claims_of_one_key_give_exactly_one_winner(database_url: str) -> None:
    workers = [Database(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(_claim(db, KEY, expires=10**15, now=1) for db in workers * 3))
    finally:
        for db in workers:
            await db.close()
    assert sorted(results) == [False] * 11 + [True]
