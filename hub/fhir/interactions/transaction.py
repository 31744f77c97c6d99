"""transaction Bundles: all-or-nothing in ONE database transaction (https://hl7.org/fhir/R4/http.html#transaction).

Entries run in the order of http.html#trules (DELETE, POST, PUT/PATCH, then
GET), ``urn:uuid:`` fullUrls are replaced by the ids the server assigns, and a
conditional create (``ifNoneExist``) that matches points references at the
existing resource.  Any failing entry fails the whole Bundle; nothing is stored.
Resources are checked and indexed before the transaction opens unless a
conditional create forces it to happen inside (its match decides the ids).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import HubError, InvalidInputError, NotSupportedError, PreconditionFailedError
from hub.fhir.bundle_entries import ORDER, BundleEntry, EntryMethod, rewrite_references
from hub.fhir.bundles import new_bundle, written_entry
from hub.fhir.context import RequestContext
from hub.fhir.interactions.conditional import find_matches_txn, lock_criteria_txn
from hub.fhir.interactions.delete import delete_txn
from hub.fhir.interactions.patch import apply_patch_entry_txn
from hub.fhir.interactions.update import lock_creates_txn, parse_if_match, update_txn
from hub.fhir.outcomes import BundleOutcome, WriteOutcome
from hub.fhir.patient_keys import in_flight_keys, resolve_keys_txn
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.resource_types import CONFORMANCE_TYPES
from hub.fhir.service import FhirService
from hub.fhir.stored_definitions import definition_stored
from hub.fhir.writes import PreparedWrite, finalise, new_id, prepare
from hub.storage import NewResource, StoredResource, insert_new_many_txn

ENTRY_ACTION = {
    EntryMethod.POST: Action.CREATE,
    EntryMethod.PUT: Action.UPDATE,
    EntryMethod.PATCH: Action.PATCH,
    EntryMethod.DELETE: Action.DELETE,
    EntryMethod.GET: Action.READ,
    EntryMethod.HEAD: Action.READ,
}


def _assign_ids(entries: list[BundleEntry]) -> dict[str, str]:
    """Server ids for POST entries, and the urn:uuid → Type/id map for every entry with a fullUrl."""
    mapping: dict[str, str] = {}
    for entry in entries:
        if entry.method is EntryMethod.POST:
            entry.resource_id = new_id()
        if entry.full_url and entry.resource_id and entry.method in (EntryMethod.POST, EntryMethod.PUT):
            mapping[entry.full_url] = f"{entry.resource_type}/{entry.resource_id}"
    return mapping


def _prepare(svc: FhirService, entry: BundleEntry) -> PreparedWrite:
    assert entry.resource is not None and entry.resource_id is not None
    resource = entry.resource
    if entry.method is EntryMethod.PUT and resource.get("id") != entry.resource_id:
        raise InvalidInputError(
            f"{entry.where}: resource.id must equal the id in request.url",
            expression=f"{entry.where}.resource.id",
            message_id="TH-BUNDLE-PUT-ID",
        )
    return prepare(svc, resource, resource_id=entry.resource_id, expected_type=entry.resource_type)


def _at(entry: BundleEntry, error: HubError) -> HubError:
    """The same error (category, and so status, kept) with its issues located inside the Bundle."""
    prefix = f"{entry.where}.resource"
    issues = [
        replace(
            i,
            diagnostics=f"{entry.where}: {i.diagnostics}",
            expression=tuple(f"{prefix}.{e}" if not e.startswith("Bundle.") else e for e in i.expression),
        )
        for i in error.issues
    ]
    located = type(error)(f"{entry.where}: {error.message}", issues=issues)
    located.__cause__ = error
    return located


async def transaction(
    svc: FhirService, ctx: RequestContext, entries: list[BundleEntry], decision: AccessDecision
) -> BundleOutcome:
    for entry in entries:
        if entry.method in (EntryMethod.GET, EntryMethod.HEAD):
            raise NotSupportedError(
                f"{entry.where}: GET inside a transaction is not supported; use a batch",
                message_id="TH-BUNDLE-GET",
            )
        svc.policy.check(ctx, ENTRY_ACTION[entry.method], entry.resource_type, entry.resource)
    mapping = _assign_ids(entries)
    conditional = any(e.if_none_exist for e in entries)
    prepared: dict[int, PreparedWrite] = {}
    if not conditional:
        for entry in entries:
            if entry.resource is not None and entry.method in (EntryMethod.POST, EntryMethod.PUT):
                rewrite_references(entry.resource, mapping)
                try:
                    prepared[entry.index] = _prepare(svc, entry)
                except HubError as error:
                    raise _at(entry, error) from None
    results = await svc.db.run_write(
        "fhir_transaction", _transaction_txn, svc, ctx, entries, mapping, prepared, decision
    )
    for entry in entries:  # definitions written or deleted reach the validator (and search) now
        if entry.resource_type not in CONFORMANCE_TYPES or entry.index not in results:
            continue
        result = results[entry.index]
        if isinstance(result, WriteOutcome):
            definition_stored(svc, entry.resource_type, result.stored.res_id, result.stored.data)
        elif entry.method is EntryMethod.DELETE and entry.resource_id:
            definition_stored(svc, entry.resource_type, entry.resource_id, None)
    return BundleOutcome(body=_response(ctx, entries, results))


async def _transaction_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    entries: list[BundleEntry],
    mapping: dict[str, str],
    prepared: dict[int, PreparedWrite],
    decision: AccessDecision,
) -> dict[int, WriteOutcome | int | None]:
    results: dict[int, WriteOutcome | int | None] = {}
    if not prepared:  # conditional creates decide ids first, then everything is checked here
        conditional = [
            (e.resource_type, e.if_none_exist)
            for e in entries
            if e.if_none_exist and e.method is EntryMethod.POST
        ]
        await lock_criteria_txn(conn, conditional)
        for entry in entries:
            if entry.if_none_exist and entry.method is EntryMethod.POST:
                matches = await find_matches_txn(
                    conn, svc, entry.resource_type, entry.if_none_exist, decision, limit=2
                )
                if len(matches) > 1:
                    raise PreconditionFailedError(
                        f"{entry.where}: ifNoneExist matches more than one resource",
                        message_id="TH-REST-CONDITIONAL-MULTIPLE",
                    )
                if matches:
                    results[entry.index] = WriteOutcome(stored=matches[0], created=False, matched=True)
                    if entry.full_url:
                        mapping[entry.full_url] = f"{entry.resource_type}/{matches[0].res_id}"
        for entry in entries:
            if (
                entry.resource is not None
                and entry.index not in results
                and entry.method in (EntryMethod.POST, EntryMethod.PUT)
            ):
                rewrite_references(entry.resource, mapping)
                try:
                    prepared[entry.index] = _prepare(svc, entry)
                except HubError as error:
                    raise _at(entry, error) from None
    puts = [
        (e.resource_type, e.resource_id) for e in entries if e.method is EntryMethod.PUT and e.resource_id
    ]
    await lock_creates_txn(conn, puts)
    ordered = sorted(entries, key=lambda e: (ORDER[e.method], e.index))
    creates = [e for e in ordered if e.method is EntryMethod.POST and e.index not in results]
    for entry in ordered:
        if entry.index in results:
            continue
        if entry.method is EntryMethod.POST:  # all plain creates go in one multi-row insert
            results.update(await _create_many_txn(conn, svc, ctx, creates, prepared, decision))
            continue
        try:
            results[entry.index] = await _run_entry_txn(
                conn, svc, ctx, entry, prepared.get(entry.index), decision
            )
        except HubError as error:
            raise _at(entry, error) from None
    return results


async def _create_many_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    creates: list[BundleEntry],
    prepared: dict[int, PreparedWrite],
    decision: AccessDecision,
) -> dict[int, WriteOutcome]:
    resolved = await resolve_keys_txn(
        conn, [prepared[e.index] for e in creates], in_flight_keys(list(prepared.values()))
    )
    for entry, p in zip(creates, resolved, strict=True):
        prepared[entry.index] = p
    items: list[NewResource] = []
    for entry in creates:
        p = prepared[entry.index]
        now = svc.clock()
        items.append(
            NewResource(
                p.resource_type,
                p.resource_id,
                now,
                p.patient_key,
                finalise(p, version=1, last_updated=now),
                p.index,
            )
        )
    rids = await insert_new_many_txn(conn, items, "POST")
    out: dict[int, WriteOutcome] = {}
    for entry, item, rid in zip(creates, items, rids, strict=True):
        p = prepared[entry.index]
        await svc.run_hooks_txn(conn, p.resource_type, rid, p.body)
        stored = StoredResource(
            rid=rid,
            res_type=item.res_type,
            res_id=item.res_id,
            version=1,
            last_updated=item.last_updated,
            deleted=False,
            data=item.data,
            method="POST",
            patient_key=item.patient_key,
        )
        out[entry.index] = WriteOutcome(stored=stored, created=True, warnings=p.warnings)
    patients = tuple(sorted({i.patient_key for i in items if i.patient_key}))
    by_type: dict[str, list[str]] = {}
    for i in items:
        by_type.setdefault(i.res_type, []).append(i.res_id)
    for rtype, ids in by_type.items():
        await svc.audit.record_txn(
            conn, ctx, AuditEntry(Action.CREATE, "0", rtype, tuple(ids), patients), decision
        )
    return out


async def _run_entry_txn(
    conn: AsyncConnection,
    svc: FhirService,
    ctx: RequestContext,
    entry: BundleEntry,
    prepared: PreparedWrite | None,
    decision: AccessDecision,
) -> WriteOutcome | int | None:
    if entry.method is EntryMethod.DELETE:
        if entry.resource_id is None:
            raise NotSupportedError("conditional delete is not supported", message_id="TH-BUNDLE-CDELETE")
        return await delete_txn(conn, svc, ctx, entry.resource_type, entry.resource_id, decision)
    if entry.method is EntryMethod.PATCH:
        if entry.resource_id is None or entry.resource is None:
            raise InvalidInputError("a PATCH entry needs Type/id and a Binary or Parameters resource")
        return await apply_patch_entry_txn(
            conn,
            svc,
            ctx,
            entry.resource_type,
            entry.resource_id,
            entry.resource,
            decision,
            parse_if_match(entry.if_match),
        )
    assert prepared is not None
    return await update_txn(conn, svc, ctx, prepared, decision, parse_if_match(entry.if_match), "PUT")


def _response(
    ctx: RequestContext, entries: list[BundleEntry], results: dict[int, WriteOutcome | int | None]
) -> dict[str, Any]:
    bundle = new_bundle("transaction-response")
    out: list[dict[str, Any]] = []
    for entry in entries:
        result = results.get(entry.index)
        item: dict[str, Any]
        if isinstance(result, WriteOutcome):
            item = written_entry(ctx.base_url, result)
        else:
            item = {"response": {"status": "204 No Content"}}
            if result is not None:
                item["response"]["etag"] = f'W/"{result}"'
        out.append(item)
    bundle["entry"] = out
    return bundle
