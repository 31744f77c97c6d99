"""``telehub audit head | verify [--anchor]`` through the console entry point, on each engine: the chain shows
edits in the middle; an anchor kept outside the database also shows deleted or rewritten newest rows."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from hub.cli import app
from hub.storage import Database, append_audit_txn, audit_rows_txn
from security import chain_hash
from tests.unit.hub.storage.test_audit_store import audit_row

runner = CliRunner()


async def _append(url: str, numbers: range) -> None:
    db = Database(url)
    try:
        for n in numbers:
            await db.run_write("t", append_audit_txn, db.engine, [audit_row(n)], chain_hash)
    finally:
        await db.close()


async def _sql(url: str, statement: str) -> None:
    db = Database(url)
    try:
        async with db.sa_engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await db.close()


async def _rewrite_from(url: str, seq: int) -> None:
    """An insider edits row ``seq`` and recomputes every hash after it: the chain itself holds again."""
    db = Database(url)
    try:
        rows = await db.run("t", audit_rows_txn, 0, 1000)
        async with db.sa_engine.begin() as conn:
            prev = "0" * 64
            for row in rows:
                record = b'{"n":"forged"}' if row.seq == seq else row.record
                digest = chain_hash(prev, record)
                if row.seq >= seq:
                    await conn.execute(
                        text("UPDATE audit_log SET record = :r, prev_hash = :p, hash = :h WHERE seq = :s"),
                        {"r": record.decode(), "p": prev, "h": digest, "s": row.seq},
                    )
                prev = digest
    finally:
        await db.close()


def _cli(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("TELEHUB_DATABASE_URL", url)
    result = runner.invoke(app, ["audit", *args])
    return result.exit_code, result.output


def test_head_and_anchors_catch_deleted_and_rewritten_newest_rows(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _cli(monkeypatch, database_url, "head")[0] == 1  # empty log: nothing to anchor
    asyncio.run(_append(database_url, range(1, 6)))
    code, out = _cli(monkeypatch, database_url, "head")
    assert code == 0
    anchor = out.strip()
    seq = int(anchor.split(":")[0])
    assert _cli(monkeypatch, database_url, "verify", "--anchor", anchor) == (
        0,
        "audit chain intact: 5 rows verified, 1 anchor(s) hold\n",
    )

    asyncio.run(_append(database_url, range(6, 9)))
    asyncio.run(_rewrite_from(database_url, seq - 1))
    assert _cli(monkeypatch, database_url, "verify")[0] == 0  # the chain alone cannot tell
    code, out = _cli(monkeypatch, database_url, "verify", "--anchor", anchor)
    assert code == 1 and "rewritten" in out

    asyncio.run(_sql(database_url, f"DELETE FROM audit_log WHERE seq >= {seq}"))
    code, out = _cli(monkeypatch, database_url, "verify", "--anchor", anchor)
    assert code == 1 and f"anchored row {seq} is gone" in out
    assert _cli(monkeypatch, database_url, "verify")[0] == 0  # the chain alone cannot tell
    # each verification appended its own record; the one that may now sit at ``seq`` still differs
    code, out = _cli(monkeypatch, database_url, "verify", "--anchor", anchor)
    assert code == 1 and str(seq) in out


def test_a_malformed_anchor_is_a_usage_error(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _cli(monkeypatch, database_url, "verify", "--anchor", "12:not-a-hash")
    assert code == 2 and "SEQ:HASH" in out
