"""``telehub audit verify | head``: walk the hash-chained audit log and report the first broken row; print the
chain head for safekeeping outside the database, and check such anchors later.

The chain alone shows edits, deletions and insertions in the middle, but not that the newest rows were deleted
(or that everything after some row was rewritten with fresh hashes).  An anchor - the ``SEQ:HASH`` of a row,
printed by ``telehub audit head`` into the operations log, a ticket or a notary - closes that gap: ``verify
--anchor SEQ:HASH`` fails when that row is gone or carries another hash."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import typer
from rich.console import Console

from hub.cli.configuration import load_settings
from hub.cli.operator_audit import audited
from hub.core.errors import HubError
from hub.storage import GENESIS, AuditRow, Database, audit_head_txn, audit_row_txn, audit_rows_txn
from security import AuditAction, EntityKind, verify_chain

app = typer.Typer(help="The audit log: verify its hash chain, print its head.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
CHUNK = 5_000
T = TypeVar("T")
ANCHOR = typer.Option([], "--anchor", help="SEQ:HASH printed earlier by `telehub audit head` (repeatable).")


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


@dataclass(frozen=True, slots=True)
class Anchor:
    """A row's sequence number and hash, kept outside the database."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise typer.BadParameter(f"{text!r} is not SEQ:HASH (a row number and 64 lower-case hex digits)")
        return cls(int(seq), digest)

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


async def check_anchors(db: Database, anchors: list[Anchor]) -> VerifyResult | None:
    """The first anchor the log contradicts (its row gone, or another hash there), as a broken result."""
    for anchor in anchors:
        row = await db.run("audit_anchor", audit_row_txn, anchor.seq)
        if row is None:
            reason = f"anchored row {anchor.seq} is gone: rows at or after it were deleted"
            return VerifyResult(0, anchor.seq, reason)
        if row.row_hash != anchor.hash:
            found = row.row_hash
            reason = f"anchored row {anchor.seq} has hash {found}, not {anchor.hash}: the chain was rewritten"
            return VerifyResult(0, anchor.seq, reason)
    return None


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


def _on_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the configured database; a storage or configuration error exits 2 with its message."""

    async def run() -> T:
        db = Database(load_settings().database_url)
        try:
            return await work(db)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except HubError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def verify(
    anchor: list[str] = ANCHOR,
) -> None:
    """Check every row's hash and its link to the previous row, and the anchors; exit 1 at the first break.
    The verification is itself audited (its record is appended after the check)."""
    anchors = [Anchor.parse(text) for text in anchor]

    async def run(db: Database) -> VerifyResult:
        result = await verify_log(db)
        if result.broken_seq is None:
            contradicted = await check_anchors(db, anchors)
            if contradicted is not None:
                return VerifyResult(result.rows, contradicted.broken_seq, contradicted.reason)
        return result

    # the verification itself is recorded (when the log can be written: it may be a read-only copy)
    with audited(load_settings(), AuditAction.VERIFY_AUDIT, required=False) as op:
        result = _on_database(run)
        if result.broken_seq is not None:
            op.failure = f"audit chain broken at row {result.broken_seq}: {result.reason}"
            op.about(EntityKind.DATA_STORE, "audit_log", op.failure)
            err.print(f"[red]audit chain BROKEN at row {result.broken_seq}: {result.reason}[/red]")
            raise typer.Exit(1)
        checked = f", {len(anchors)} anchor(s) hold" if anchors else ""
        op.about(EntityKind.DATA_STORE, "audit_log", f"intact: {result.rows} rows verified{checked}")
    console.print(f"audit chain intact: {result.rows} rows verified{checked}")


@app.command()
def head() -> None:
    """Print the newest row as SEQ:HASH, alone on stdout: keep it outside the database (`verify --anchor`)."""

    async def run(db: Database) -> tuple[int, str] | None:
        return await db.run("audit_head", audit_head_txn)

    newest = _on_database(run)
    if newest is None:
        err.print("the audit log is empty")
        raise typer.Exit(1)
    typer.echo(str(Anchor(*newest)))
