"""The audit trail of the FHIR door: one IHE BALP-shaped record per interaction and patient, hash-chained in
``audit_log``.

Changes are audited in the transaction that makes them (they commit or vanish
together).  Reads, searches and refusals change nothing, so their records go
through :class:`AuditWriter`: a queue flushed in one transaction every
``flush_interval`` seconds or ``batch_size`` records, off the response path.  A
crash can lose at most that window of read records; ``close()`` flushes on
shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import ErrorCategory
from hub.core.instants import now_us
from hub.fhir.context import RequestContext
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.storage import AuditRow, Database, append_audit_txn
from security import (
    AuditAction,
    AuditAgent,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    EntityKind,
    Principal,
    canonical_bytes,
    chain_hash,
)

log = logging.getLogger("telehub.audit")
_CPR = re.compile(r"^\d{10}$")
_MAX_RETRY_PAUSE = 5.0  # seconds between attempts to write queued audit records while the database fails

ACTIONS: dict[Action, AuditAction] = {
    Action.READ: AuditAction.READ,
    Action.VREAD: AuditAction.READ,
    Action.HISTORY: AuditAction.READ,
    Action.SEARCH: AuditAction.SEARCH,
    Action.CREATE: AuditAction.CREATE,
    Action.UPDATE: AuditAction.UPDATE,
    Action.PATCH: AuditAction.UPDATE,
    Action.DELETE: AuditAction.DELETE,
    Action.VALIDATE: AuditAction.VALIDATE,
    Action.TRANSACTION: AuditAction.TRANSACTION,
    Action.BATCH: AuditAction.TRANSACTION,
    Action.CAPABILITIES: AuditAction.READ,
    Action.CONSENT_DENIAL: AuditAction.CONSENT_DENIAL,
}
_OUTCOMES = {o.value: o for o in AuditOutcome}
_SERVER_SIDE = frozenset({ErrorCategory.STORAGE, ErrorCategory.CONFIGURATION})


def _agent(ctx: RequestContext) -> AuditAgent:
    if isinstance(ctx.principal, Principal):
        return AuditAgent.from_principal(ctx.principal, network_address=ctx.client_address or None)
    return AuditAgent(subject=None, network_address=ctx.client_address or None)


def build_rows(
    ctx: RequestContext,
    action: AuditAction,
    outcome: AuditOutcome,
    *,
    resource_type: str | None,
    resource_ids: Sequence[str],
    patient_keys: Sequence[str],
    decision: AccessDecision | None,
    detail: str = "",
) -> list[AuditRow]:
    """One record per patient touched (one without a patient when none is), as BALP asks for queries."""
    principal = ctx.principal if isinstance(ctx.principal, Principal) else None
    agent = _agent(ctx)
    entities = tuple(
        AuditEntity(EntityKind.RESOURCE, f"{resource_type}/{rid}" if resource_type else rid)
        for rid in resource_ids
    )
    if detail:
        entities += (AuditEntity(EntityKind.QUERY, detail[:1000]),)
    override = bool(decision and decision.override)
    rows = []
    for key in patient_keys or (None,):
        record = AuditRecord.new(
            action,
            outcome,
            agent,
            patient_cpr=key if key and _CPR.match(key) else None,
            patient_id=key if key and not _CPR.match(key) else None,
            entities=entities,
            purpose_of_use=principal.purpose_of_use if principal else None,
            override=override,
            override_reason=principal.override_reason if principal and override else None,
            decision_reason=decision.reason if decision else None,
            outcome_description=None if outcome is AuditOutcome.SUCCESS else detail[:500] or None,
        )
        rows.append(audit_row(record, key))
    return rows


def audit_row(record: AuditRecord, patient_key: str | None) -> AuditRow:
    """The row that stores ``record``: its canonical bytes, and the columns the log is searched by."""
    return AuditRow(
        recorded_us=now_us(),
        action=record.action.value,
        outcome=record.outcome.value,
        patient_key=patient_key,
        actor=record.agent.subject,
        organisation=record.agent.organisation_sor,
        purpose=record.purpose_of_use.value if record.purpose_of_use else None,
        override=record.override,
        record=canonical_bytes(record),
    )


class AuditWriter:
    """Batches records that change nothing (reads, refusals) into few transactions.

    :meth:`submit` queues records (written within ``flush_interval``, off the response path).
    :meth:`release` is for the records of data about to be released: with ``durable`` it returns only once
    they are committed (group commit: the writer flushes at once, and records arriving during a flush share
    the next transaction); if that transaction fails it raises, and the caller releases nothing.
    """

    def __init__(
        self, db: Database, *, batch_size: int = 256, flush_interval: float = 0.05, durable: bool = False
    ) -> None:
        self._db = db
        self._batch_size = batch_size
        self._interval = flush_interval
        self.durable = durable
        self._pending: list[AuditRow] = []
        self._waiting: list[tuple[Sequence[AuditRow], asyncio.Future[None]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def submit(self, rows: Sequence[AuditRow]) -> None:
        self._pending.extend(rows)
        self._start()
        if len(self._pending) >= self._batch_size and self._wakeup is not None:
            self._wakeup.set()

    async def release(self, rows: Sequence[AuditRow]) -> None:
        """Record a release of data: queued (batched mode) or committed before returning (durable mode)."""
        if not self.durable:
            self.submit(rows)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((rows, done))
        self._start()
        assert self._wakeup is not None
        self._wakeup.set()
        await done

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="telehub-audit-writer")

    async def _run(self) -> None:
        assert self._wakeup is not None
        pause = self._interval
        while self._pending or self._waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=pause)
            self._wakeup.clear()
            try:
                await self.flush()
            except Exception:  # logged by flush; the queued records stay and are retried, less and less often
                if self._closing:
                    raise  # shutting down: close() reports it rather than waiting for the database forever
                pause = min(pause * 2, _MAX_RETRY_PAUSE)
            else:
                pause = self._interval

    async def flush(self) -> None:
        while self._pending or self._waiting:
            rows, self._pending = self._pending, []
            waiting, self._waiting = self._waiting, []
            try:
                # a transaction of audit records only: chained right away (see append_audit_txn)
                await self._db.run_write(
                    "audit_append",
                    append_audit_txn,
                    self._db.engine,
                    [*rows, *(row for batch, _ in waiting for row in batch)],
                    chain_hash,
                    at_commit=False,
                )
            except Exception as exc:
                # never lose records silently: queued ones go back for the next flush; the reads waiting
                # for theirs fail (their data is not released, so their records are not kept either)
                self._pending[:0] = rows
                for _, done in waiting:
                    if not done.done():
                        done.set_exception(exc)
                log.exception(
                    "could not write %d audit records (%d queued ones will be retried)",
                    len(rows) + sum(len(batch) for batch, _ in waiting),
                    len(rows),
                )
                raise
            for _, done in waiting:
                if not done.done():
                    done.set_result(None)

    async def close(self) -> None:
        """Write everything queued (at shutdown, or in tests); raises when the database refuses it."""
        self._closing = True
        try:
            if self._task is not None and not self._task.done():
                if self._wakeup is not None:
                    self._wakeup.set()
                await self._task
            await self.flush()
        finally:
            self._closing = False


class SecurityAuditTrail:
    """AuditTrail writing security.audit records into the hash-chained log."""

    def __init__(self, db: Database, *, durable_reads: bool = False) -> None:
        self._db = db
        self.writer = AuditWriter(db, durable=durable_reads)

    async def record_txn(
        self, conn: AsyncConnection, ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None
    ) -> None:
        rows = self._rows(ctx, entry, decision)
        await append_audit_txn(conn, self._db.engine, rows, chain_hash)

    async def record(self, ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None) -> None:
        await self.writer.release(self._rows(ctx, entry, decision))

    def record_failure(
        self,
        ctx: RequestContext,
        action: Action,
        resource_type: str | None,
        category: ErrorCategory,
        message: str,
    ) -> None:
        audit_action = (
            AuditAction.LOGIN_FAILURE if category is ErrorCategory.UNAUTHENTICATED else ACTIONS[action]
        )
        outcome = AuditOutcome.SERIOUS_FAILURE if category in _SERVER_SIDE else AuditOutcome.MINOR_FAILURE
        self.writer.submit(
            build_rows(
                ctx,
                audit_action,
                outcome,
                resource_type=resource_type,
                resource_ids=(),
                patient_keys=(),
                decision=None,
                detail=message,
            )
        )

    async def close(self) -> None:
        await self.writer.close()

    @staticmethod
    def _rows(ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None) -> list[AuditRow]:
        return build_rows(
            ctx,
            ACTIONS[entry.action],
            _OUTCOMES.get(entry.outcome, AuditOutcome.SERIOUS_FAILURE),
            resource_type=entry.resource_type,
            resource_ids=entry.resource_ids,
            patient_keys=entry.patient_keys,
            decision=decision,
            detail=entry.detail,
        )
