"""The hash-chained audit log under concurrent transactions, on each engine (PostgreSQL chains at commit, in
the database, by the formula of ``security.audit.chain_hash``; SQLite hashes in Python, one writer)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.cli.audit import verify_log
from hub.storage import AuditRow, Database, append_audit_txn, audit_rows_txn
from security import chain_hash


def audit_row(n: int, note: str = "") -> AuditRow:
    """A read record numbered ``n`` (``recorded_us``), with Danish letters and an emoji in it."""
    record = f'{{"n":{n},"who":"Søren Ærø 🩺","note":"{note}"}}'.encode()
    return AuditRow(
        recorded_us=n,
        action="read",
        outcome="0",
        patient_key="2512484916",
        actor="Søren",
        organisation=None,
        purpose="TREAT",
        override=False,
        record=record,
    )


async def _append(db: Database, rows: list[AuditRow], *, at_commit: bool = True) -> None:
    async def txn(conn: AsyncConnection) -> None:
        await append_audit_txn(conn, db.engine, rows, chain_hash, at_commit=at_commit)
        await asyncio.sleep(0.01)  # hold the transaction open so the others overlap it

    await db.run_write("test_audit", txn)


async def _all_rows(db: Database) -> list[AuditRow]:
    return await db.run("test_audit_rows", audit_rows_txn, 0, 10_000)


async def _pending(db: Database) -> int:
    async def txn(conn: AsyncConnection) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM audit_pending"))).scalar_one())

    return await db.run("test_pending", txn)


async def test_concurrent_transactions_make_one_unbroken_chain(database: Database) -> None:
    # half chain at commit (a change's transaction), half at once (batched read records): one lock, one chain
    await asyncio.gather(
        *(
            _append(database, [audit_row(2 * i), audit_row(2 * i + 1)], at_commit=i % 2 == 0)
            for i in range(20)
        )
    )
    rows = await _all_rows(database)
    assert len(rows) == 40
    result = await verify_log(database)
    assert result.broken_seq is None and result.rows == 40
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    # the two rows of each transaction stay adjacent and in their order
    order = [int(r.recorded_us) for r in rows]
    pairs = {order[i] // 2 for i in range(0, 40, 2) if order[i] + 1 == order[i + 1] and order[i] % 2 == 0}
    assert len(pairs) == 20
    assert await _pending(database) == 0


async def test_rolled_back_work_leaves_no_audit_rows(database: Database) -> None:
    async def failing(conn: AsyncConnection) -> None:
        await append_audit_txn(conn, database.engine, [audit_row(1, "rolled back")], chain_hash)
        raise RuntimeError("the change fails after its audit row was written")

    with pytest.raises(RuntimeError):
        await database.run_write("test_audit_fail", failing)

    async def partly(conn: AsyncConnection) -> None:
        await append_audit_txn(conn, database.engine, [audit_row(2, "kept")], chain_hash)
        with pytest.raises(RuntimeError):
            async with conn.begin_nested():
                await append_audit_txn(conn, database.engine, [audit_row(3, "savepoint")], chain_hash)
                raise RuntimeError("the savepoint's work is undone")
        await append_audit_txn(conn, database.engine, [audit_row(4, "kept too")], chain_hash)

    await database.run_write("test_audit_partly", partly)
    rows = await _all_rows(database)
    assert [r.recorded_us for r in rows] == [2, 4]
    assert (await verify_log(database)).broken_seq is None
    assert await _pending(database) == 0


async def test_the_database_computes_the_python_hash(database: Database) -> None:
    await _append(database, [audit_row(1), audit_row(2, 'quote \\" and newline \\n')])

    async def direct(conn: AsyncConnection) -> None:  # an audit-only transaction chains at once, same lock
        await append_audit_txn(conn, database.engine, [audit_row(3)], chain_hash, at_commit=False)

    await database.run_write("test_audit_direct", direct)
    await _append(database, [audit_row(4)])
    assert (await verify_log(database)).broken_seq is None
    first, second, *_ = await _all_rows(database)
    assert first.prev_hash == "0" * 64
    assert first.row_hash == chain_hash(first.prev_hash, first.record)
    assert second.prev_hash == first.row_hash
    assert second.row_hash == chain_hash(second.prev_hash, second.record)
