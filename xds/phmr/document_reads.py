"""DocumentReference read and search, served from the XDS registry (never from the generic resource store).

https://hl7.org/fhir/R4/http.html#read and #search; IHE MHD ITI-67 (Find Document References) over ITI-18
FindDocuments semantics (:mod:`xds.phmr.document_query`).  Authorisation is the FHIR door's policy for
``DocumentReference`` (the same table as every other clinical resource); Danish negative consent and a
citizen's own-CPR scope go INSIDE the registry query (the same consent filter as ITI-18), so a blocked
document is simply absent, and a search says "some data may have been withheld" the way FHIR searches do.
Every read and search is audited.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import InvalidInputError, NotFoundError
from hub.core.instants import fhir_instant, now_us
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from hub.core.registry_query import AssociationFilter, EntryFilter, Selection
from hub.fhir import AccessDecision, Action, AuditEntry, FhirService, Handling, RequestContext
from hub.storage import associations_txn, patient_keys_txn, withheld_entries_exist_txn
from hub.storage.engines import StorageEngine
from xds.codes import AssociationType
from xds.hl7v2 import CX
from xds.model import DocumentEntry
from xds.phmr.document_query import DocumentSearch, PatientParameter, PatientSource, translate
from xds.phmr.document_reference import CPR_OID, RELATION_CODES, document_reference, entry_uuid_of
from xds.services import patient_key, stamped_entries_txn

RESOURCE = "DocumentReference"
_RELATIONS = tuple(t.value for t in RELATION_CODES)
Relations = dict[str, list[tuple[AssociationType, str]]]


@dataclass(frozen=True, slots=True)
class FoundDocuments:
    entries: list[DocumentEntry]
    relations: Relations
    more: bool
    withheld: bool
    total: int | None = None  # exact when every match was read (no next page)
    updated: dict[str, int | None] = dataclasses.field(default_factory=dict)  # entryUUID -> last change µs


async def relations_txn(conn: AsyncConnection, entry_uuids: Sequence[str]) -> Relations:
    """entryUUID -> (type, target) of the document relationships whose source it is."""
    found = await associations_txn(
        conn, AssociationFilter(ends=tuple(entry_uuids), types=_RELATIONS, sources_only=True)
    )
    out: Relations = {}
    for assoc in found:
        if assoc.source and assoc.target and assoc.association_type:
            out.setdefault(assoc.source, []).append((AssociationType(assoc.association_type), assoc.target))
    return out


def _scoped(f: EntryFilter, decision: AccessDecision) -> EntryFilter | None:
    """``f`` within a citizen's own compartment (None: the citizen asked for someone else)."""
    if decision.patient_key is None:
        return f
    if f.patient_key is not None and f.patient_key != decision.patient_key:
        return None
    return dataclasses.replace(f, patient_key=decision.patient_key)


async def read_entry_txn(
    conn: AsyncConnection, engine: StorageEngine, entry_uuid: str, decision: AccessDecision
) -> tuple[DocumentEntry, Relations, int | None] | None:
    """The entry, its relationships and when it last changed (None: unknown or not visible)."""
    f = _scoped(EntryFilter(selection=Selection(entry_uuids=(entry_uuid,))), decision)
    found = await stamped_entries_txn(conn, engine, f, consent=decision.consent) if f is not None else []
    if not found:
        return None
    entry, updated = found[0]
    return entry, await relations_txn(conn, [entry.entry_uuid]), updated


async def _patient_txn(conn: AsyncConnection, search: DocumentSearch) -> CX | None:
    return await patient_cx_txn(conn, search.patient)


async def patient_cx_txn(conn: AsyncConnection, parameter: PatientParameter | None) -> CX | None:
    """The CX of a patient search parameter: given, or the CPR of the hub Patient it names (None: no CPR)."""
    if parameter is None:
        return None
    if parameter.source is PatientSource.IDENTIFIER:
        return parameter.cx
    pid = parameter.patient_id or ""
    key = (await patient_keys_txn(conn, [pid])).get(pid, pid)  # an unknown Patient is keyed by its id
    return CX(id=key, assigning_authority=CPR_OID) if key.isdigit() and len(key) == 10 else None


async def find_entries_txn(
    conn: AsyncConnection, engine: StorageEngine, search: DocumentSearch, decision: AccessDecision
) -> FoundDocuments:
    """One page of matching entries, their relationships and whether consent withheld any."""
    empty = FoundDocuments([], {}, more=False, withheld=False, total=0)
    if search.impossible:
        return empty
    patient = await _patient_txn(conn, search)
    if search.patient is not None and patient is None:
        return empty  # a hub Patient without a CPR has no documents in the registry
    f = _scoped(search.entry_filter(patient), decision)
    if f is None:
        return empty
    found = await stamped_entries_txn(
        conn, engine, f, consent=decision.consent, limit=search.count + 1, offset=search.offset
    )
    page = [entry for entry, _ in found[: search.count]]
    withheld = decision.consent is not None and await withheld_entries_exist_txn(
        conn, engine, f, decision.consent
    )
    relations = await relations_txn(conn, [e.entry_uuid for e in page]) if page else {}
    more = len(found) > search.count
    return FoundDocuments(
        page,
        relations,
        more=more,
        withheld=withheld,
        # exact when this page reached the end; unknown past the end (the rows before were not read)
        total=None if more or (not page and search.offset) else search.offset + len(page),
        updated=dict((entry.entry_uuid, at) for entry, at in found[: search.count]),
    )


async def read_document_reference(fhir: FhirService, ctx: RequestContext, resource_id: str) -> dict[str, Any]:
    """``GET /fhir/DocumentReference/<id>``: the registry entry with entryUUID ``urn:uuid:<id>``."""
    decision = fhir.policy.check(ctx, Action.READ, RESOURCE)
    found = await fhir.db.run(
        "docref_read", read_entry_txn, fhir.db.engine, entry_uuid_of(resource_id), decision
    )
    if found is None:
        await fhir.audit.record(ctx, AuditEntry(Action.READ, "4", RESOURCE, (resource_id,), ()), decision)
        raise NotFoundError(f"DocumentReference/{resource_id} is not known", message_id="TH-REST-NOT-FOUND")
    entry, relations, updated = found
    key = patient_key(entry.patient_id)
    entry_ = AuditEntry(Action.READ, "0", RESOURCE, (resource_id,), (key,) if key else ())
    await fhir.audit.record(ctx, entry_, decision)
    return document_reference(
        entry, relations.get(entry.entry_uuid, ()), base_url=ctx.base_url, last_updated_us=updated
    )


def _unknown(ctx: RequestContext, names: Sequence[str]) -> list[Issue]:
    if not names:
        return []
    shown = ", ".join(sorted(names))
    if ctx.handling is Handling.STRICT:
        raise InvalidInputError(
            f"unknown search parameter(s) for DocumentReference: {shown}",
            message_id="TH-SEARCH-UNKNOWN-PARAM",
        )
    return [
        Issue(
            IssueSeverity.WARNING,
            IssueType.NOT_SUPPORTED,
            f"unknown search parameter(s) ignored: {shown}",
            message_id="TH-SEARCH-UNKNOWN-PARAM",
        )
    ]


async def search_document_references(
    fhir: FhirService, ctx: RequestContext, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """``GET /fhir/DocumentReference?…``: a searchset Bundle built from the registry."""
    decision = fhir.policy.check(ctx, Action.SEARCH, RESOURCE)
    settings = fhir.settings
    search = translate(
        fhir.indexer.registry,
        params,
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
        local_base=fhir.indexer.local_base,
    )
    warnings = _unknown(ctx, search.ignored)
    found = await fhir.db.run("docref_search", find_entries_txn, fhir.db.engine, search, decision)
    if found.withheld:
        warnings.append(
            Issue(
                IssueSeverity.WARNING,
                IssueType.SUPPRESSED,
                "some data may have been withheld according to the patient's consent",
                message_id="TH-CONSENT-WITHHELD",
            )
        )
    resources = [
        document_reference(
            e,
            found.relations.get(e.entry_uuid, ()),
            base_url=ctx.base_url,
            last_updated_us=found.updated.get(e.entry_uuid),
        )
        for e in found.entries
    ]
    keys = tuple(sorted({k for e in found.entries if (k := patient_key(e.patient_id))}))
    query = urlencode(list(params))
    entry_ = AuditEntry(Action.SEARCH, "0", RESOURCE, tuple(r["id"] for r in resources), keys, detail=query)
    await fhir.audit.record(ctx, entry_, decision)
    return _bundle(ctx, params, search, found, resources, warnings)


def _bundle(
    ctx: RequestContext,
    params: Sequence[tuple[str, str]],
    search: DocumentSearch,
    found: FoundDocuments,
    resources: list[dict[str, Any]],
    warnings: list[Issue],
) -> dict[str, Any]:
    base = f"{ctx.base_url}/{RESOURCE}"
    keep = [(n, v) for n, v in params if n != "_offset"]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": fhir_instant(now_us())},
        "type": "searchset",
    }
    if found.total is not None:
        bundle["total"] = found.total
    links = [{"relation": "self", "url": _url(base, params)}]
    if found.more:
        links.append(
            {"relation": "next", "url": _url(base, [*keep, ("_offset", str(search.offset + search.count))])}
        )
    if search.offset:
        previous = max(search.offset - search.count, 0)
        links.append({"relation": "previous", "url": _url(base, [*keep, ("_offset", str(previous))])})
    bundle["link"] = links
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources
    ]
    if warnings:
        entries.append({"resource": operation_outcome(warnings), "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def _url(base: str, params: Sequence[tuple[str, str]]) -> str:
    query = urlencode(list(params))
    return f"{base}?{query}" if query else base


__all__ = [
    "FoundDocuments",
    "find_entries_txn",
    "patient_cx_txn",
    "read_document_reference",
    "read_entry_txn",
    "relations_txn",
    "search_document_references",
]
