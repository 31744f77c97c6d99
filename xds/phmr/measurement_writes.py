"""Writing a PHMR's Observations and Devices inside the submission transaction (issue 4, "Measurements as
FHIR Observations, with lineage"; https://hl7.org/fhir/R4/http.html#create / #update semantics).

Everything was checked and indexed before the transaction (``xds.phmr.processor``).  Here:

1. **Retarget.**  ``derivedFrom`` must name ``DocumentReference/<final entryUUID>``; when the submission
   used a symbolic id the final UUID is known only now.  And when the hub holds exactly one Patient with
   the document's CPR, ``subject`` gains the literal ``Patient/<id>`` reference (the CPR identifier stays),
   so ``Observation?patient=Patient/<id>`` finds the measurement as well as
   ``Observation?patient:identifier=urn:oid:1.2.208.176.1.2|<CPR>``.  Only the index rows of the changed
   elements are recomputed (from a stub resource holding just those elements), once per document.
2. **Idempotent write.**  The ids derive from the document uniqueId and the measurement's id, so a
   re-submitted document maps onto the resources it made before.  The common case - none exists - is one
   bulk insert inside a SAVEPOINT; when an id exists, the savepoint is rolled back and each resource is
   looked at: absent -> created; current and equal apart from ``meta``/``derivedFrom``/the literal patient
   reference -> left alone (an identical re-submission changes nothing, and its lineage stays with the
   entry that first registered it); different, or retired (deleted) -> a new version.  A concurrent
   submission that creates one of these ids first (a shared Device) makes that round fail on the unique
   key; its savepoint is undone and the round is repeated, now finding the row.
3. **Audit.**  One FHIR audit entry per resource type for the bulk insert, in the same transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import ConflictError
from hub.core.search import IndexEntry
from hub.fhir import (
    AccessDecision,
    Action,
    AuditEntry,
    FhirService,
    PreparedWrite,
    RequestContext,
    finalise,
    update_txn,
)
from hub.storage import (
    NewResource,
    insert_new_many_txn,
    patient_ids_of_key_txn,
    read_current_txn,
)
from xds.model import DocumentEntry
from xds.phmr.document_reference import CPR_OID, resource_id
from xds.phmr.outcome import PhmrPayload, WriteResult
from xds.services import SubmissionContext

_IGNORED = frozenset({"meta", "derivedFrom"})
_CONCURRENT_RETRIES = 3  # rounds of look-up + insert when concurrent submissions race for the same ids


def request_context(fhir: FhirService, ctx: SubmissionContext | None) -> RequestContext:
    """The FHIR request context of derived writes: the submitter as principal (for the audit trail)."""
    base = fhir.settings.base_url
    return RequestContext(
        base_url=f"{base.rstrip('/')}/fhir" if base else "",
        principal=ctx.principal if ctx is not None else None,
    )


def derived_decision(transaction: str, unique_id: str) -> AccessDecision:
    """Derived resources ride on the document submission's authorisation (SUBMIT_DOCUMENTS)."""
    return AccessDecision(reason=f"derived from document {unique_id} submitted by {transaction}")


async def hub_patient_txn(conn: AsyncConnection, cpr: str) -> str | None:
    """The id of THE Patient resource carrying ``cpr`` (None when there is none, or more than one)."""
    ids = await patient_ids_of_key_txn(conn, cpr)
    return ids[0] if len(ids) == 1 else None


def retarget(
    fhir: FhirService, prepared: Sequence[PreparedWrite], changes: Mapping[str, Any]
) -> list[PreparedWrite]:
    """``prepared`` with top-level elements replaced by ``changes`` and their index rows recomputed.

    Every resource of one document carries the same values in the changed elements, so one stub (before
    and after) tells which parameters depend on them and what their new rows are.
    """
    if not prepared or not changes:
        return list(prepared)
    first = prepared[0]
    rtype = first.resource_type
    before = {"resourceType": rtype, **{k: first.body[k] for k in changes if k in first.body}}
    after = {"resourceType": rtype, **changes}
    old_rows, _ = fhir.indexer.index(before)
    new_rows, _ = fhir.indexer.index(after)
    affected = {e.param_hash for e in (*old_rows, *new_rows)}
    out = []
    for p in prepared:
        index: tuple[IndexEntry, ...] = (*(e for e in p.index if e.param_hash not in affected), *new_rows)
        out.append(dataclasses.replace(p, body={**p.body, **changes}, index=index))
    return out


def _comparable(body: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k not in _IGNORED}
    subject = out.get("subject")
    if isinstance(subject, dict):
        out["subject"] = {k: v for k, v in subject.items() if k != "reference"}
    return out


def same_content(stored: bytes, body: Mapping[str, Any]) -> bool:
    """Equal apart from meta, derivedFrom and the literal patient reference (see the module docstring)."""
    current = orjson.loads(stored)
    return isinstance(current, dict) and _comparable(current) == _comparable(body)


async def upsert_txn(
    conn: AsyncConnection,
    fhir: FhirService,
    rctx: RequestContext,
    decision: AccessDecision,
    prepared: Sequence[PreparedWrite],
    *,
    likely_new: bool = True,
) -> list[tuple[str, str, WriteResult]]:
    """Create or keep ``prepared`` (all of one type) idempotently; returns what happened to each.

    ``likely_new`` tries the bulk insert first (Observations of a new document); otherwise each resource is
    looked up first (Devices: one device measures for many documents, so it usually exists).
    """
    if not prepared:
        return []
    if likely_new:
        try:
            async with conn.begin_nested():
                await _insert_txn(conn, fhir, rctx, decision, prepared)
        except ConflictError:
            pass
        else:
            return [(p.resource_type, p.resource_id, WriteResult.CREATED) for p in prepared]
    # A concurrent submission may create the same id between our look-up and our insert (one device measures
    # for many documents; PostgreSQL runs submissions in parallel).  Its commit makes our insert fail with a
    # unique violation; the savepoint undoes our part, the next round finds that row and keeps or updates it.
    for attempt in range(1, _CONCURRENT_RETRIES + 1):
        try:
            async with conn.begin_nested():
                return await _one_by_one_txn(conn, fhir, rctx, decision, prepared)
        except ConflictError:
            if attempt == _CONCURRENT_RETRIES:
                raise
    raise AssertionError("unreachable")


async def _insert_txn(
    conn: AsyncConnection,
    fhir: FhirService,
    rctx: RequestContext,
    decision: AccessDecision,
    prepared: Sequence[PreparedWrite],
) -> None:
    items = []
    for p in prepared:
        now = fhir.clock()
        items.append(
            NewResource(
                res_type=p.resource_type,
                res_id=p.resource_id,
                last_updated=now,
                patient_key=p.patient_key,
                data=finalise(p, version=1, last_updated=now),
                index=p.index,
            )
        )
    rids = await insert_new_many_txn(conn, items, "POST")
    for rid, p in zip(rids, prepared, strict=True):
        await fhir.run_hooks_txn(conn, p.resource_type, rid, p.body)
    patients = tuple(sorted({p.patient_key for p in prepared if p.patient_key}))
    entry = AuditEntry(
        Action.CREATE, "0", prepared[0].resource_type, tuple(p.resource_id for p in prepared), patients
    )
    await fhir.audit.record_txn(conn, rctx, entry, decision)


async def _one_by_one_txn(
    conn: AsyncConnection,
    fhir: FhirService,
    rctx: RequestContext,
    decision: AccessDecision,
    prepared: Sequence[PreparedWrite],
) -> list[tuple[str, str, WriteResult]]:
    results: list[tuple[str, str, WriteResult]] = []
    fresh: list[PreparedWrite] = []
    for p in prepared:
        current = await read_current_txn(conn, p.resource_type, p.resource_id)  # deleted ones too
        if current is None:
            fresh.append(p)
            results.append((p.resource_type, p.resource_id, WriteResult.CREATED))
            continue
        if not current.deleted and current.data is not None and same_content(current.data, p.body):
            results.append((p.resource_type, p.resource_id, WriteResult.UNCHANGED))
            continue
        await update_txn(conn, fhir, rctx, p, decision, None, "PUT")  # locks the head row itself
        results.append((p.resource_type, p.resource_id, WriteResult.UPDATED))
    if fresh:
        await _insert_txn(conn, fhir, rctx, decision, fresh)
    return results


async def persist_measurements_txn(
    conn: AsyncConnection,
    fhir: FhirService,
    payload: PhmrPayload,
    entry: DocumentEntry,
    ctx: SubmissionContext | None,
) -> list[tuple[str, str, WriteResult]]:
    """Write the document's Devices, then its Observations (retargeted to ``entry``)."""
    changes: dict[str, Any] = {}
    final_id = resource_id(entry.entry_uuid)
    if final_id != payload.reference_id:
        changes["derivedFrom"] = [{"reference": f"DocumentReference/{final_id}"}]
    patient = payload.patient
    if patient is not None and patient.assigning_authority == CPR_OID and payload.observations:
        hub_patient = await hub_patient_txn(conn, patient.id)
        if hub_patient is not None:
            subject = dict(payload.observations[0].body.get("subject") or {})
            changes["subject"] = {"reference": f"Patient/{hub_patient}", **subject}
    observations = retarget(fhir, payload.observations, changes)
    rctx = request_context(fhir, ctx)
    decision = derived_decision(ctx.transaction if ctx is not None else "a submission", payload.unique_id)
    results = await upsert_txn(conn, fhir, rctx, decision, payload.devices, likely_new=False)
    results += await upsert_txn(conn, fhir, rctx, decision, observations)
    return results


__all__ = [
    "derived_decision",
    "hub_patient_txn",
    "persist_measurements_txn",
    "request_context",
    "retarget",
    "same_content",
    "upsert_txn",
]
