"""Operator actions of the command line go into the hash-chained audit log (issue 6, "Audit": every
interaction, failed ones included).

``telehub packages install``, ``packs install``, ``migrate``, ``reindex``, ``xds gc-blobs`` and
``audit verify`` change or inspect the hub outside its HTTP doors.  Each appends one IHE BALP-shaped record
(:mod:`security.audit`): who (the operating-system user on this host, role ``admin``, IT system
``telehub-cli``), what (the action), on which object (package, pack, database, blob store, audit log) and the
outcome, with the reason of a failure.

The audit log must be writable BEFORE the action runs: when the database cannot be reached (or, on
PostgreSQL, is not migrated) the command changes nothing and exits 2.  An embedded SQLite database is created
and migrated on first use, as ``telehub serve`` does.  Two exceptions: ``migrate`` creates the log, so its
record is written after it; ``audit verify``, which changes nothing, still runs on a log it cannot write to (a
read-only copy), with a warning that the verification was not recorded.  When the record cannot be written
after the action (the database went away meanwhile), the command says so on stderr and exits 3, so the
operator can record it by hand.
"""

from __future__ import annotations

import asyncio
import getpass
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
import typer
from rich.console import Console

from hub.core.errors import HubError
from hub.core.settings import Settings
from hub.fhir import audit_row
from hub.storage import Database, append_audit_txn, ensure_ready
from security import (
    AuditAction,
    AuditAgent,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    EntityKind,
    Role,
    canonical_bytes,
    chain_hash,
)

OPERATOR_SYSTEM = "telehub-cli"
NOT_RECORDED_EXIT = 3
_err = Console(stderr=True, highlight=False)


@dataclass(slots=True)
class OperatorAction:
    """What the command did, filled in while it runs."""

    action: AuditAction
    entities: list[AuditEntity] = field(default_factory=list)
    failure: str | None = None

    def about(self, kind: EntityKind, identifier: str, description: str | None = None) -> None:
        self.entities.append(AuditEntity(kind, identifier[:1000], description))


def operator_agent() -> AuditAgent:
    """The operating-system user on this host (the login name, else the numeric uid)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a container's arbitrary uid)
        user = "unknown"
    host = socket.gethostname()
    return AuditAgent(
        subject=f"os-user:{user}@{host}",
        roles=(Role.ADMIN.value,),
        name=user,
        it_system=OPERATOR_SYSTEM,
        network_address=host,
    )


async def _ready(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await ensure_ready(db)
    finally:
        await db.close()


async def _append(settings: Settings, record: AuditRecord) -> None:
    db = Database(settings.database_url)
    try:
        await ensure_ready(db)
        await db.run_write(
            "audit_operator",
            append_audit_txn,
            db.engine,
            [audit_row(record, None)],
            chain_hash,
            at_commit=False,
        )
    finally:
        await db.close()


def _failure_of(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, HubError):
        return cause.message
    return str(cause or exc) or type(exc).__name__


@contextmanager
def audited(
    settings: Settings, action: AuditAction, *, check_first: bool = True, required: bool = True
) -> Iterator[OperatorAction]:
    """Run the ``with`` body as one audited operator action (see the module docstring).

    ``required=False`` is for actions that change nothing (verifying the chain, perhaps on a read-only copy):
    when the log cannot be written they still run, with a warning that they were not recorded.
    """
    record_it = True
    if check_first:
        try:
            asyncio.run(_ready(settings))
        except (HubError, OSError) as exc:
            message = exc.message if isinstance(exc, HubError) else str(exc)
            if required:
                refusal = f"refused: the audit log is not writable ({message}); nothing was changed"
                _err.print(refusal, markup=False)
                raise typer.Exit(2) from exc
            _err.print(f"warning: this {action.value} will not be recorded ({message})", markup=False)
            record_it = False
    op = OperatorAction(action)
    outcome = AuditOutcome.SUCCESS
    try:
        yield op
    except (typer.Exit, click.exceptions.Exit) as exc:
        if exc.exit_code:
            outcome = AuditOutcome.SERIOUS_FAILURE
            op.failure = op.failure or _failure_of(exc)
        raise
    except BaseException as exc:
        outcome = AuditOutcome.MAJOR_FAILURE
        op.failure = op.failure or _failure_of(exc)
        raise
    finally:
        if op.failure and outcome is AuditOutcome.SUCCESS:
            outcome = AuditOutcome.SERIOUS_FAILURE  # the command reported a failure without exiting
        record = AuditRecord.new(
            action,
            outcome,
            operator_agent(),
            entities=tuple(op.entities),
            outcome_description=op.failure[:500] if op.failure else None,
        )
        if record_it:
            _write(settings, record, raising=required and outcome is AuditOutcome.SUCCESS)


def _write(settings: Settings, record: AuditRecord, *, raising: bool) -> None:
    try:
        asyncio.run(_append(settings, record))
    except (HubError, OSError) as exc:
        message = exc.message if isinstance(exc, HubError) else str(exc)
        _err.print(
            f"the {record.action.value} ran, but its audit record could not be written ({message}): "
            f"record it by hand - {canonical_bytes(record).decode()}",
            markup=False,
        )
        if raising:
            raise typer.Exit(NOT_RECORDED_EXIT) from exc


__all__ = ["NOT_RECORDED_EXIT", "OPERATOR_SYSTEM", "OperatorAction", "audited", "operator_agent"]
