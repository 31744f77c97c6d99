"""SQL for the append-only, hash-chained audit log (IHE BALP records serialised by ``security.audit``).

Each row stores the hash of the previous row.  On SQLite an append hashes its rows
under the engine's audit chain lock (the writer lane); on PostgreSQL the rows are
chained as their transaction commits, by a trigger that takes an advisory lock
(revision 0005), so concurrent transactions cannot fork the chain either way.  The
hash function is passed in (storage does not know the record format); the
PostgreSQL trigger computes the same formula, and ``telehub audit verify``
recomputes it from Python.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.engines import StorageEngine
from hub.storage.schema import audit_log, audit_pending

A = audit_log.c
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One record to append (``record`` is its canonical JSON) or one stored row (with seq and hashes)."""

    recorded_us: int
    action: str
    outcome: str
    patient_key: str | None
    actor: str | None
    organisation: str | None
    purpose: str | None
    override: bool
    record: bytes
    seq: int = 0
    prev_hash: str = ""
    row_hash: str = ""

    @property
    def record_bytes(self) -> bytes:
        return self.record


_CHAIN_HEAD = select(A.hash).order_by(A.seq.desc()).limit(1)
_APPEND = insert(audit_log)
_PENDING = insert(audit_pending)


def _values(row: AuditRow) -> dict[str, object]:
    return {
        "recorded_us": row.recorded_us,
        "action": row.action[:64],
        "outcome": row.outcome[:16],
        "patient_key": row.patient_key,
        "actor": row.actor[:512] if row.actor else None,
        "organisation": row.organisation,
        "purpose": row.purpose,
        "override": row.override,
        "record": row.record.decode("utf-8"),
    }


async def append_audit_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    rows: Sequence[AuditRow],
    hasher: Callable[[str, bytes], str],
    *,
    at_commit: bool = True,
) -> None:
    """Append ``rows`` in order, chaining each row's hash to the previous one.

    Where the database chains at commit (PostgreSQL), the rows go to ``audit_pending`` and its trigger
    computes the same ``hasher`` formula in SQL when this transaction commits; otherwise, or with
    ``at_commit=False`` (a transaction that only appends audit records, which commits right after), they
    are hashed here, under the chain lock, and inserted into ``audit_log`` directly.  Both take one lock.
    """
    if not rows:
        return
    if at_commit and engine.chains_audit_at_commit:
        await conn.execute(_PENDING, [_values(row) for row in rows])
        return
    await engine.lock_audit_chain(conn)
    last = (await conn.execute(_CHAIN_HEAD)).scalar_one_or_none()
    prev = last or GENESIS
    values = []
    for row in rows:
        digest = hasher(prev, row.record)
        values.append({**_values(row), "prev_hash": prev, "hash": digest})
        prev = digest
    await conn.execute(_APPEND, values)


def _row(r: Sequence[object]) -> AuditRow:
    seq, recorded, action, outcome, patient, actor, org, purpose, override, record, prev, digest = r
    return AuditRow(
        recorded_us=int(recorded),  # type: ignore[call-overload]
        action=str(action),
        outcome=str(outcome),
        patient_key=str(patient) if patient is not None else None,
        actor=str(actor) if actor is not None else None,
        organisation=str(org) if org is not None else None,
        purpose=str(purpose) if purpose is not None else None,
        override=bool(override),
        record=str(record).encode("utf-8"),
        seq=int(seq),  # type: ignore[call-overload]
        prev_hash=str(prev),
        row_hash=str(digest),
    )


_SUCCESS = "0"  # AuditOutcome.SUCCESS (DICOM/BALP outcome code)
_COLUMNS = (
    A.seq,
    A.recorded_us,
    A.action,
    A.outcome,
    A.patient_key,
    A.actor,
    A.organisation,
    A.purpose,
    A.override,
    A.record,
    A.prev_hash,
    A.hash,
)


async def audit_rows_txn(conn: AsyncConnection, after_seq: int, limit: int) -> list[AuditRow]:
    """Rows in chain order after ``after_seq`` (for verification, in chunks)."""
    stmt = select(*_COLUMNS).where(A.seq > after_seq).order_by(A.seq).limit(limit)
    return [_row(r) for r in (await conn.execute(stmt)).all()]


async def audit_head_txn(conn: AsyncConnection) -> tuple[int, str] | None:
    """The newest row's sequence number and hash (None for an empty log)."""
    row = (await conn.execute(select(A.seq, A.hash).order_by(A.seq.desc()).limit(1))).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def audit_row_txn(conn: AsyncConnection, seq: int) -> AuditRow | None:
    row = (await conn.execute(select(*_COLUMNS).where(A.seq == seq))).first()
    return _row(row) if row is not None else None


async def successful_actions_txn(
    conn: AsyncConnection, *, patient_key: str, actions: Collection[str], before_seq: int | None, limit: int
) -> list[AuditRow]:
    """A patient's successful records of ``actions``, newest first, keyset-paged on seq (below
    ``before_seq``): the candidates of the citizen's access log, so writes and refusals never crowd out
    the lookups it shows."""
    stmt = select(*_COLUMNS).where(
        A.patient_key == patient_key, A.action.in_(sorted(actions)), A.outcome == _SUCCESS
    )
    if before_seq is not None:
        stmt = stmt.where(A.seq < before_seq)
    stmt = stmt.order_by(A.seq.desc()).limit(limit)
    return [_row(r) for r in (await conn.execute(stmt)).all()]


async def audit_search_txn(
    conn: AsyncConnection,
    *,
    patient_key: str | None,
    since_us: int | None,
    until_us: int | None,
    action: str | None,
    before_seq: int | None,
    limit: int,
) -> tuple[list[AuditRow], int]:
    """Newest first, keyset-paged on seq, with the total."""
    where = []
    if patient_key is not None:
        where.append(A.patient_key == patient_key)
    if since_us is not None:
        where.append(A.recorded_us >= since_us)
    if until_us is not None:
        where.append(A.recorded_us <= until_us)
    if action is not None:
        where.append(A.action == action)
    total = int((await conn.execute(select(func.count()).select_from(audit_log).where(*where))).scalar_one())
    if before_seq is not None:
        where.append(A.seq < before_seq)
    stmt = select(*_COLUMNS).where(*where).order_by(A.seq.desc()).limit(limit)
    return [_row(r) for r in (await conn.execute(stmt)).all()], total
