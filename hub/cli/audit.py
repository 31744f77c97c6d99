"""``telehub audit verify``: walk the hash-chained audit log and report the first broken row."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import typer
from rich.console import Console

from hub.core.errors import HubError
from hub.core.settings import Settings
from hub.storage import GENESIS, AuditRow, Database, audit_rows_txn
from security import verify_chain

app = typer.Typer(help="The audit log: verify its hash chain.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class _Ordinal:
    """A row presented to the verifier by position: PostgreSQL sequences may skip numbers when a
    transaction rolls back, so gaps in ``seq`` are not tampering; the prev_hash links are what count."""

    seq: int
    prev_hash: str
    row_hash: str
    record_bytes: bytes


@dataclass(frozen=True, slots=True)
class VerifyResult:
    rows: int
    broken_seq: int | None
    reason: str | None


async def verify_log(db: Database) -> VerifyResult:
    after, prev, position = 0, GENESIS, 0
    while True:
        rows: list[AuditRow] = await db.run("audit_verify", audit_rows_txn, after, CHUNK)
        if not rows:
            return VerifyResult(position, None, None)
        ordinals = [_Ordinal(position + i + 1, r.prev_hash, r.row_hash, r.record) for i, r in enumerate(rows)]
        broken = verify_chain(ordinals, start_hash=prev)
        if broken is not None:
            real = rows[broken.seq - position - 1].seq
            return VerifyResult(position + len(rows), real, broken.reason)
        position += len(rows)
        after, prev = rows[-1].seq, rows[-1].row_hash


@app.command()
def verify() -> None:
    """Check every row's hash and its link to the previous row; exit 1 at the first broken row."""

    async def run() -> VerifyResult:
        db = Database(Settings().database_url)
        try:
            return await verify_log(db)
        finally:
            await db.close()

    try:
        result = asyncio.run(run())
    except HubError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    if result.broken_seq is not None:
        err.print(f"[red]audit chain BROKEN at row {result.broken_seq}: {result.reason}[/red]")
        raise typer.Exit(1)
    console.print(f"audit chain intact: {result.rows} rows verified")
