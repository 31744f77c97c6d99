"""Lineage: PHMR Observations follow the life of the document they were derived from (issue 4).

THE RULE.  An Observation extracted from a PHMR is current exactly while the DocumentEntry named by its
``derivedFrom`` is Approved.  When that entry is deprecated - replaced by RPLC or XFRM_RPLC (ITI TF-3
4.2.2.2.2), deprecated by an ITI-57 status change, or deleted by ITI-62 - each of its current Observations

1. gets a new version with ``status = entered-in-error`` and a note naming the reason (kept in history:
   ``GET /fhir/Observation/<id>/_history/<n>`` still shows it), then
2. is deleted in the same transaction, so it leaves every search result, and a read answers 410 Gone whose
   OperationOutcome names the replacing DocumentReference when there is one (:func:`retirement_txn`).

A replacement document is a new document with its own uniqueId, so its Observations have their own ids
and are current: a search sees the replacement's measurements once, never both versions.  One exception
keeps data that is still backed by the registry: when another Approved entry registers the SAME document
(an identical re-submission under a new entryUUID), the Observations are re-pointed to that entry instead
of being retired.  Re-approving a deprecated entry does not bring its Observations back (the processor
seam reports deprecations only); submitting the document again does.

All of this runs inside the transaction that deprecates the entries, through
:meth:`xds.phmr.processor.PhmrProcessor.lifecycle_txn`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import AssociationFilter
from hub.fhir import Action, AuditEntry, FhirService, PreparedWrite, finalise, prepare, update_txn
from hub.fhir.search import parse_search_request
from hub.storage import (
    ConsentBlock,
    SearchSpec,
    StoredResource,
    associations_txn,
    read_current_txn,
    read_version_txn,
    search_page_txn,
    write_version_txn,
)
from xds.codes import AssociationType, AvailabilityStatus
from xds.model import DocumentEntry
from xds.phmr.document_reference import entry_uuid_of, resource_id
from xds.phmr.measurement_writes import derived_decision, request_context
from xds.phmr_observations import mark_entered_in_error
from xds.services import entries_by_unique_id_txn

RETIRED_STATUS = "entered-in-error"
_CHUNK = 200  # document references per derived-from search
_PAGE = 1000
_REPLACING = (AssociationType.RPLC.value, AssociationType.XFRM_RPLC.value)


def _referenced(body: Mapping[str, Any]) -> list[str]:
    """DocumentReference ids named by ``derivedFrom``."""
    out = []
    for ref in body.get("derivedFrom") or ():
        text = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(text, str) and text.startswith("DocumentReference/"):
            out.append(text.split("/", 1)[1])
    return out


async def derived_observations_txn(
    conn: AsyncConnection, fhir: FhirService, reference_ids: Sequence[str]
) -> list[StoredResource]:
    """Current Observations whose ``derivedFrom`` names one of the DocumentReferences (search index)."""
    found: list[StoredResource] = []
    for start in range(0, len(reference_ids), _CHUNK):
        chunk = reference_ids[start : start + _CHUNK]
        value = ",".join(f"DocumentReference/{r}" for r in chunk)
        request = parse_search_request(fhir.indexer.registry, "Observation", [("derived-from", value)])
        spec = SearchSpec(res_type="Observation", criteria=request.criteria, sort=())
        after: tuple[object, ...] | None = None
        while True:
            page = await search_page_txn(conn, spec, after=after, backwards=False, limit=_PAGE)
            found.extend(page.resources)
            if not page.more_after or page.last_key is None:
                break
            after = page.last_key
    return found


def _reason(entry: DocumentEntry, replacement: DocumentEntry | None) -> str:
    old = f"DocumentReference/{resource_id(entry.entry_uuid)}"
    if replacement is not None:
        return f"{old} was replaced by DocumentReference/{resource_id(replacement.entry_uuid)}"
    if entry.availability_status is AvailabilityStatus.DEPRECATED:
        return f"{old} was deprecated"
    return f"{old} was deleted from the registry"


async def _alternatives_txn(
    conn: AsyncConnection, fhir: FhirService, deprecated: Sequence[DocumentEntry]
) -> dict[str, DocumentEntry]:
    """uniqueId -> another Approved entry registering the same document (identical re-submission)."""
    gone = {e.entry_uuid for e in deprecated}
    unique_ids = sorted({e.unique_id for e in deprecated if e.unique_id})
    others = await entries_by_unique_id_txn(conn, fhir.db.engine, unique_ids)
    return {
        e.unique_id: e
        for e in others
        if e.unique_id and e.entry_uuid not in gone and e.availability_status is AvailabilityStatus.APPROVED
    }


async def retire_txn(
    conn: AsyncConnection,
    fhir: FhirService,
    deprecated: Sequence[DocumentEntry],
    replaced_by: Mapping[str, DocumentEntry],
) -> int:
    """Apply the lineage rule to the Observations of ``deprecated`` entries; returns how many retired."""
    if not deprecated:
        return 0
    by_reference = {resource_id(e.entry_uuid): e for e in deprecated}
    found = await derived_observations_txn(conn, fhir, sorted(by_reference))
    if not found:
        return 0
    alternatives = await _alternatives_txn(conn, fhir, deprecated)
    rctx = request_context(fhir, None)
    decision = derived_decision("the registry lifecycle", "(lineage)")
    retired: list[StoredResource] = []
    reasons: dict[str, str] = {}
    for stored in found:
        if stored.data is None:
            continue
        body = orjson.loads(stored.data)
        entry = next((by_reference[r] for r in _referenced(body) if r in by_reference), None)
        if entry is None:
            continue
        alternative = alternatives.get(entry.unique_id or "")
        if alternative is not None:
            await _repoint_txn(conn, fhir, body, stored, alternative)
            continue
        reason = _reason(entry, replaced_by.get(entry.entry_uuid))
        await _retire_one_txn(conn, fhir, body, stored, reason)
        retired.append(stored)
        reasons[reason] = reason
    if retired:
        patients = tuple(sorted({s.patient_key for s in retired if s.patient_key}))
        entry_ = AuditEntry(
            Action.DELETE,
            "0",
            "Observation",
            tuple(s.res_id for s in retired),
            patients,
            detail="lineage: " + "; ".join(reasons),
        )
        await fhir.audit.record_txn(conn, rctx, entry_, decision)
    return len(retired)


def _without_server_meta(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the server-assigned ``meta.versionId``/``lastUpdated`` (finalise sets new ones)."""
    out = dict(body)
    meta = {k: v for k, v in (body.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        out["meta"] = meta
    else:
        out.pop("meta", None)
    return out


async def _retire_one_txn(
    conn: AsyncConnection, fhir: FhirService, body: dict[str, Any], stored: StoredResource, reason: str
) -> None:
    retired = mark_entered_in_error(_without_server_meta(body))
    notes = list(retired.get("note") or [])
    notes.append({"text": f"Retired by telehub lineage: its source document {reason}."})
    retired["note"] = notes
    version = stored.version + 1
    interim = PreparedWrite(
        resource_type=stored.res_type,
        resource_id=stored.res_id,
        body=retired,
        index=(),  # deleted below in the same transaction: its index rows would be removed at once
        patient_key=stored.patient_key,
        warnings=(),
    )
    first = fhir.clock()
    await write_version_txn(
        conn,
        rid=stored.rid,
        res_type=stored.res_type,
        version=version,
        last_updated=first,
        patient_key=stored.patient_key,
        data=finalise(interim, version=version, last_updated=first),
        method="PUT",
        index=(),
    )
    await write_version_txn(
        conn,
        rid=stored.rid,
        res_type=stored.res_type,
        version=version + 1,
        last_updated=fhir.clock(),
        patient_key=stored.patient_key,
        data=None,
        method="DELETE",
        index=(),
    )
    await fhir.run_hooks_txn(conn, stored.res_type, stored.rid, None)


async def _repoint_txn(
    conn: AsyncConnection,
    fhir: FhirService,
    body: dict[str, Any],
    stored: StoredResource,
    alternative: DocumentEntry,
) -> None:
    moved = _without_server_meta(body)
    moved["derivedFrom"] = [{"reference": f"DocumentReference/{resource_id(alternative.entry_uuid)}"}]
    prepared = prepare(fhir, moved, resource_id=stored.res_id, expected_type=stored.res_type, derived=True)
    prepared = dataclasses.replace(prepared, patient_key=stored.patient_key, patient_ref=None)
    decision = derived_decision("the registry lifecycle", alternative.unique_id or "")
    await update_txn(conn, fhir, request_context(fhir, None), prepared, decision, None, "PUT")


# ---------------------------------------------------------------------------------------- 410 detail


@dataclass(frozen=True, slots=True)
class Retirement:
    """Why a deleted Observation is gone: lineage retired it (see the module rule)."""

    observation_id: str
    document: str  # the DocumentReference id it was derived from
    replaced_by: str | None  # the replacing DocumentReference id, when the document was replaced
    version: int  # the entered-in-error version (vread-able)

    def explanation(self) -> str:
        text = (
            f"Observation/{self.observation_id} was retired (status entered-in-error, version "
            f"{self.version}) because its source document DocumentReference/{self.document} "
        )
        if self.replaced_by:
            return (
                text + f"was replaced by DocumentReference/{self.replaced_by}; its measurements are "
                f"Observation?derived-from=DocumentReference/{self.replaced_by}"
            )
        return text + "is no longer current in the registry"


async def retirement_txn(
    conn: AsyncConnection,
    observation_id: str,
    *,
    consent: ConsentBlock | None = None,
    patient_key: str | None = None,
) -> Retirement | None:
    """The lineage retirement of a deleted Observation, or None (not deleted, or deleted by someone)."""
    current = await read_current_txn(conn, "Observation", observation_id, consent, patient_key)
    if current is None or not current.deleted or current.version < 2:
        return None
    previous = await read_version_txn(
        conn, "Observation", observation_id, current.version - 1, consent, patient_key
    )
    if previous is None or previous.data is None:
        return None
    body = orjson.loads(previous.data)
    documents = _referenced(body)
    if body.get("status") != RETIRED_STATUS or not documents:
        return None
    replacing = await associations_txn(
        conn,
        AssociationFilter(ends=(entry_uuid_of(documents[0]),), types=_REPLACING, targets_only=True),
    )
    replaced_by = resource_id(replacing[-1].source) if replacing and replacing[-1].source else None
    return Retirement(observation_id, documents[0], replaced_by, previous.version)


__all__ = [
    "RETIRED_STATUS",
    "Retirement",
    "derived_observations_txn",
    "retire_txn",
    "retirement_txn",
]
