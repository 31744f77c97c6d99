"""ITI-62 Delete Document Set at the registry (IHE ITI TF-2b 3.62.4.1.3).

The request names entryUUIDs of DocumentEntries, SubmissionSets, Folders and Associations.  Rules
(:func:`xds.registry_rules.check_delete`): every id is registered (UnresolvedReferenceException), no
association that stays refers to a deleted object (ReferencesExistException), and no object is left outside
every SubmissionSet (XDSUnreferencedObjectException).  The rules read the registry and the rows are deleted
in ONE transaction; processors are told about the deleted DocumentEntries (their derived data must leave
the current view), and the audit records commit with the deletion.  Repository bytes stay (ITI-86 would
remove them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import HubError
from hub.core.registry_query import ObjectKind
from hub.storage import AuditRow, append_audit_txn, delete_objects_txn
from hub.storage.engines import StorageEngine
from security import Action, AuditAction, AuditOutcome, chain_hash
from xds.errors import XdsError
from xds.messages import RemoveObjectsRequest
from xds.model import DocumentEntry, SubmissionSet
from xds.registry_rules import check_delete, gather_delete_state
from xds.services.audit_records import AuditFacts, audit_rows
from xds.services.lookup import ConnectionLookup
from xds.services.lookup_rules import check_delete_lookups
from xds.services.processing import ProcessorRegistry
from xds.services.registry_rows import kind_of, patient_key
from xds.services.runtime import Caller, XdsRuntime
from xds.services.submission import error_summary


@dataclass(frozen=True, slots=True)
class DeleteResult:
    deleted: tuple[str, ...]
    patient_keys: tuple[str, ...]


async def delete_txn(
    conn: AsyncConnection,
    request: RemoveObjectsRequest,
    processors: ProcessorRegistry,
    caller: Caller,
    facts: AuditFacts,
    engine: StorageEngine,
) -> DeleteResult:
    lookup = ConnectionLookup(conn)
    state = await gather_delete_state(request.object_ids, lookup)
    findings = check_delete(request.object_ids, state)
    findings += await check_delete_lookups(request.object_ids, state, lookup)
    if any(f.is_error for f in findings):
        raise XdsError(f"the deletion was rejected: {error_summary(findings)}", findings)
    by_kind: dict[ObjectKind, list[str]] = defaultdict(list)
    entries: list[DocumentEntry] = []
    patients: list[str] = []
    documents: list[str] = []
    sets: list[str] = []
    for uuid in request.object_ids:
        obj = state.objects[uuid]
        by_kind[kind_of(obj)].append(uuid)
        key = patient_key(getattr(obj, "patient_id", None))
        if key:
            patients.append(key)
        if isinstance(obj, DocumentEntry):
            entries.append(obj)
            documents.append(obj.unique_id or uuid)
        elif isinstance(obj, SubmissionSet):
            sets.append(obj.unique_id or uuid)
    if entries:
        await processors.lifecycle_txn(conn, entries, {})
    await delete_objects_txn(conn, by_kind)
    done = AuditFacts(
        facts.action,
        facts.outcome,
        patient_keys=tuple(patients),
        documents=tuple(documents),
        submission_sets=tuple(sets),
        decision_reason=facts.decision_reason,
    )
    rows: list[AuditRow] = audit_rows(caller.principal, done, client_address=caller.client_address)
    await append_audit_txn(conn, engine, rows, chain_hash)
    return DeleteResult(tuple(request.object_ids), tuple(dict.fromkeys(patients)))


async def delete(rt: XdsRuntime, caller: Caller, request: RemoveObjectsRequest) -> DeleteResult:
    """Delete the named registry objects; XdsError (Failure response) when a rule fails."""
    decision = rt.authorize(caller, Action.DELETE_DOCUMENTS, AuditAction.ITI_62)
    facts = AuditFacts(AuditAction.ITI_62, AuditOutcome.SUCCESS, decision_reason=decision.reason)
    try:
        return await rt.db.run_write(
            "xds_delete", delete_txn, request, rt.processors, caller, facts, rt.db.engine
        )
    except HubError as exc:
        failed = AuditFacts(
            AuditAction.ITI_62,
            AuditOutcome.SERIOUS_FAILURE,
            query=" ".join(request.object_ids),
            decision_reason=decision.reason,
            detail=str(exc),
        )
        rt.record(caller, failed)
        raise
