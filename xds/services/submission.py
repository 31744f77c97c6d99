"""The one write transaction of every XDS submission (ITI-41, ITI-42, ITI-57): rules, identities, rows,
registry changes, repository rows, processor writes and audit - all or nothing.

IHE ITI TF-2b 3.42.4.1.3 (registry rules, "the registry shall not store any part of a submission that
fails"), 3.41.4.1.3 (repository stores then registers), 3.57.4.1.3 (metadata update); ITI TF-3 4.2.2.2
(RPLC/APND/XFRM effects), 4.2.3.4.3 (Folder lastUpdateTime).  The rules read the registry through
:class:`xds.services.lookup.ConnectionLookup` on the same connection, so what they checked is what the
transaction changes: on SQLite the writer lane serialises submissions; on PostgreSQL submissions that
share a uniqueId, an association target or a logical id wait for each other (``lock_keys``), and the
unique entryUUID index rejects a racing duplicate.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import ObjectUpdate, RepositoryDocument
from hub.storage import (
    AuditRow,
    append_audit_txn,
    insert_registry_txn,
    insert_repository_documents_txn,
    update_objects_txn,
)
from hub.storage.engines import StorageEngine
from security import chain_hash
from xds.codes import AvailabilityStatus
from xds.dtm import dtm_from_datetime
from xds.errors import RegistryError, XdsError
from xds.identifiers import assign_identities
from xds.model import DocumentEntry, Folder, RegistryObject, RegistryObjectList
from xds.registry_rules import (
    RegistryChanges,
    RegistryState,
    RuleOptions,
    check_register,
    check_update,
    gather_registry_state,
    plan_changes,
)
from xds.services.lookup import ConnectionLookup
from xds.services.lookup_rules import check_update_lookups
from xds.services.processing import (
    DocumentProcessor,
    ProcessedDocument,
    ProcessorRegistry,
    SubmissionContext,
)
from xds.services.registry_rows import encode, kind_of, patient_key, registry_write, status_value, time_key


class SubmissionKind(enum.Enum):
    """Which rule set applies."""

    REGISTER = "register"  # ITI-41 / ITI-42 / $submit-document
    UPDATE = "update"  # ITI-57


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document whose bytes are already in the blob store (ITI-41), keyed by its DocumentEntry id."""

    document_id: str
    mime_type: str
    sha1: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class ProcessedItem:
    document_id: str
    processor: DocumentProcessor
    processed: ProcessedDocument


@dataclass(frozen=True, slots=True)
class SubmissionPlan:
    """Everything decided before the transaction opens."""

    kind: SubmissionKind
    objects: RegistryObjectList
    documents: tuple[StoredDocument, ...] = ()
    processed: tuple[ProcessedItem, ...] = ()
    findings: tuple[RegistryError, ...] = ()  # repository/processor findings (warnings only by now)
    repository_unique_id: str = ""


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What was stored: the objects with registry identities, the changes, and every warning."""

    objects: RegistryObjectList
    changes: RegistryChanges
    warnings: tuple[RegistryError, ...]
    mapping: dict[str, str]

    @property
    def patient_keys(self) -> tuple[str, ...]:
        keys = (patient_key(o.patient_id) for o in self.objects.identified_objects())
        return tuple(dict.fromkeys(k for k in keys if k))


async def submit_txn(
    conn: AsyncConnection,
    plan: SubmissionPlan,
    *,
    options: RuleOptions,
    check_patients: bool,
    processors: ProcessorRegistry,
    ctx: SubmissionContext,
    audit: Sequence[AuditRow] | None = None,
) -> SubmissionResult:
    """Check and store one submission inside ``conn``'s transaction; XdsError rolls everything back."""
    await ctx.engine.lock_keys(conn, lock_keys(plan.objects))
    lookup = ConnectionLookup(conn)
    state = await gather_registry_state(plan.objects, lookup, check_patients=check_patients)
    check = check_update if plan.kind is SubmissionKind.UPDATE else check_register
    findings = [*plan.findings, *check(plan.objects, state, options)]
    if plan.kind is SubmissionKind.UPDATE:
        findings += await check_update_lookups(plan.objects, state, lookup)
    if any(f.is_error for f in findings):
        raise XdsError(f"the submission was rejected: {error_summary(findings)}", findings)
    assigned, mapping = assign_identities(plan.objects)
    moment = datetime.fromtimestamp(ctx.now_us / 1_000_000, tz=UTC)
    completed, changes = plan_changes(assigned, state, now=dtm_from_datetime(moment))
    known = {uuid: patient_key(getattr(o, "patient_id", None)) for uuid, o in state.objects.items()}
    await insert_registry_txn(conn, registry_write(completed, known), ctx.now_us)
    deprecated = await _apply_changes(conn, completed, changes, state, ctx.now_us)
    await _store_documents(conn, ctx.engine, plan, completed, mapping, ctx.now_us)
    entries = {e.entry_uuid: e for e in completed.document_entries}
    for item in plan.processed:
        entry = entries.get(mapping.get(item.document_id, item.document_id))
        if entry is not None:
            await item.processor.persist_txn(conn, item.processed, entry, ctx)
    if deprecated:
        await processors.lifecycle_txn(conn, deprecated, _replacements(completed, entries))
    if audit:
        await append_audit_txn(conn, ctx.engine, audit, chain_hash)
    return SubmissionResult(completed, changes, tuple(findings), mapping)


def lock_keys(objects: RegistryObjectList) -> set[str]:
    """What concurrent submissions must not check and change at the same time: the uniqueIds this one
    brings (two submissions of one uniqueId with different bytes would otherwise both pass the uniqueness
    rule), the existing objects its associations point at (two RPLCs of one document) and the logical ids
    it versions (ITI-57).  Symbolic in-message ids are left out: every submitter uses "Document01"."""
    keys = {f"uid:{type(o).__name__}:{o.unique_id}" for o in objects.identified_objects() if o.unique_id}
    local = set(objects.by_id())
    for association in objects.associations:
        keys.update(f"obj:{end}" for end in (association.source, association.target) if end not in local)
    keys.update(
        f"obj:{o.logical_id}" for o in objects.objects() if o.logical_id and o.logical_id not in local
    )
    return keys


def error_summary(findings: Sequence[RegistryError], limit: int = 5) -> str:
    """The first error findings as one line (exception messages and logs)."""
    errors = [f"{f.error_code.value}: {f.code_context}" for f in findings if f.is_error]
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return "; ".join(errors[:limit]) + more


async def _apply_changes(
    conn: AsyncConnection,
    completed: RegistryObjectList,
    changes: RegistryChanges,
    state: RegistryState,
    now_us: int,
) -> list[DocumentEntry]:
    """Status changes, superseded versions and touched Folders; returns the DocumentEntries deprecated."""
    new_versions = {
        o.logical_id
        for o in completed.objects()
        if o.logical_id and o.logical_id != o.entry_uuid and o.logical_id in state.latest_by_logical_id
    }
    superseded = {state.latest_by_logical_id[lid].entry_uuid for lid in new_versions}
    status = dict(changes.status_changes)
    moment = dtm_from_datetime(datetime.fromtimestamp(now_us / 1_000_000, tz=UTC))
    updates: list[ObjectUpdate] = []
    deprecated: list[DocumentEntry] = []
    for uuid in sorted(set(status) | superseded | set(changes.touched_folders)):
        obj: RegistryObject | None = state.objects.get(uuid)
        if obj is None:
            continue  # an object of this very submission: inserted with its final values already
        changed = obj
        if uuid in status and status[uuid] is not obj.availability_status:
            changed = dataclasses.replace(changed, availability_status=status[uuid])
        if uuid in changes.touched_folders and isinstance(changed, Folder):
            changed = dataclasses.replace(changed, last_update_time=moment)
        newly_deprecated = (
            isinstance(changed, DocumentEntry)
            and changed.availability_status is AvailabilityStatus.DEPRECATED
            and obj.availability_status is not AvailabilityStatus.DEPRECATED
        )
        if newly_deprecated and isinstance(changed, DocumentEntry):
            deprecated.append(changed)
        updates.append(
            ObjectUpdate(
                kind=kind_of(obj),
                entry_uuid=uuid,
                status=status_value(changed.availability_status) if changed is not obj else None,
                ebrim=encode(changed) if changed is not obj else None,
                latest=False if uuid in superseded else None,
                last_update_key=time_key(moment)
                if isinstance(changed, Folder) and changed is not obj
                else None,
            )
        )
    await update_objects_txn(conn, updates, now_us)
    return deprecated


async def _store_documents(
    conn: AsyncConnection,
    engine: StorageEngine,
    plan: SubmissionPlan,
    completed: RegistryObjectList,
    mapping: dict[str, str],
    now_us: int,
) -> None:
    if not plan.documents:
        return
    entries = {e.entry_uuid: e for e in completed.document_entries}
    rows = []
    for document in plan.documents:
        entry = entries[mapping.get(document.document_id, document.document_id)]
        rows.append(
            RepositoryDocument(
                unique_id=entry.unique_id or "",
                repository_unique_id=plan.repository_unique_id,
                mime_type=document.mime_type,
                sha1=document.sha1,
                sha256=document.sha256,
                size=document.size,
                patient_key=patient_key(entry.patient_id),
                stored_us=now_us,
            )
        )
    await insert_repository_documents_txn(conn, engine, rows)


def _replacements(
    completed: RegistryObjectList, entries: dict[str, DocumentEntry]
) -> dict[str, DocumentEntry]:
    """Old entryUUID -> the replacing DocumentEntry (RPLC / XFRM_RPLC of this submission)."""
    return {
        a.target: entries[a.source]
        for a in completed.associations
        if a.association_type.replaces and a.source in entries
    }
