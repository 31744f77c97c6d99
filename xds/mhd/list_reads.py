"""``List`` read and search served from the XDS registry: MHD ITI-66 Find Document Lists (Document Responder).

https://profiles.ihe.net/ITI/MHD/ITI-66.html over ITI-18 FindSubmissionSets / FindFolders semantics:

==========================  =========================================================================
FHIR parameter              registry
==========================  =========================================================================
patient, subject            the patient, as for DocumentReference (``Patient/<id>``, ``:identifier``,
                            ``patient.identifier``); required unless ``identifier`` or ``_id`` is given
code                        ``submissionset`` and/or ``folder`` (MHDlistTypes; default both)
status                      current = Approved, retired = Deprecated (default current)
date                        SubmissionSet submissionTime / Folder lastUpdateTime (eq ge gt le lt)
designationType             SubmissionSet contentTypeCode / Folder codeList (``[system|]code``, OR)
sourceId                    SubmissionSet sourceId (an OID, ``urn:oid:`` optional; OR)
source.given, source.family SubmissionSet authorPerson's given / family name starts with the value
                            (:mod:`xds.phmr.name_search`); with sourceId, SubmissionSets only
identifier, _id             uniqueId or entryUUID
_lastUpdated                when the SubmissionSet / Folder last changed in the registry (registered,
                            status changed, a Folder given documents): ``meta.lastUpdated`` (eq ge gt
                            le lt)
_count, _offset             page size and start (SubmissionSets first, then Folders, oldest first)
==========================  =========================================================================

Authorisation is the FHIR door's policy for ``List`` (a clinical type); Danish negative consent and a
citizen's own-CPR scope go inside the registry query, as for ITI-18 and DocumentReference; a List's
``entry`` names only members the reader may see.  Every read and search is audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import NotFoundError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from hub.core.registry_query import AssociationFilter, FolderFilter, Selection, SubmissionSetFilter
from hub.fhir import AccessDecision, Action, AuditEntry, FhirService, RequestContext
from hub.storage import (
    ConsentBlock,
    associations_txn,
    count_submission_sets_txn,
    find_folders_txn,
    find_submission_sets_txn,
    withheld_folders_exist_txn,
    withheld_sets_exist_txn,
)
from hub.storage.engines import StorageEngine
from xds.codes import AssociationType, AvailabilityStatus
from xds.mhd.list_query import KINDS, NO_PATIENT, SEARCH_PARAMETERS, ListSearch, translate
from xds.mhd.list_view import RESOURCE, folder_list, submission_set_list
from xds.model import Folder, SubmissionSet
from xds.phmr.document_query import (
    registry_view_entry,
)
from xds.phmr.document_reads import patient_cx_txn
from xds.phmr.document_reference import entry_uuid_of, resource_id
from xds.services import entries_by_uuid_txn, patient_key
from xds.services.query_filters import find_folders_filter, find_submission_sets_filter
from xds.services.registry_rows import decode, decode_stamped
from xds.stored_queries import CodeFilter, FindFoldersQuery, FindSubmissionSetsQuery

WITHHELD = Issue(
    IssueSeverity.WARNING,
    IssueType.SUPPRESSED,
    "some data may have been withheld according to the patient's consent",
    message_id="TH-CONSENT-WITHHELD",
)


_Found = tuple[SubmissionSet | Folder, int | None]  # an owner and when it last changed (epoch µs)


@dataclass(frozen=True, slots=True)
class _Filters:
    """The storage filters of a List search (None: that kind cannot match)."""

    sets: SubmissionSetFilter | None
    folders: FolderFilter | None


async def _filters_txn(
    conn: AsyncConnection, search: ListSearch, decision: AccessDecision
) -> _Filters | None:
    """The SubmissionSet and Folder filters of ``search`` in the reader's scope (None: nothing matches)."""
    if search.impossible:
        return None
    patient = await patient_cx_txn(conn, search.patient)
    if search.patient is not None and patient is None:
        return None  # a hub Patient without a CPR has nothing in the registry
    key = patient_key(patient) if patient is not None else None
    if decision.patient_key is not None:
        if key is not None and key != decision.patient_key:
            return None  # a citizen asking for someone else
        key = decision.patient_key
    designations = CodeFilter((search.designations,)) if search.designations else None
    sets = folders = None
    if "submissionset" in search.kinds:
        query = FindSubmissionSetsQuery(
            patient_id=patient or NO_PATIENT,
            statuses=search.statuses,
            source_ids=search.source_ids,
            submission_time=search.dates,
            content_type_codes=designations,
        )
        sets = dataclasses.replace(
            find_submission_sets_filter(query),
            patient_key=key,
            selection=search.selection,
            author_names=search.source_names,
            updated=search.updated,
        )
    if "folder" in search.kinds and not search.source_ids and not search.source_names:
        # a Folder has neither sourceId nor author: a search naming either finds SubmissionSets only
        folder_query = FindFoldersQuery(
            patient_id=patient or NO_PATIENT,
            statuses=search.statuses,
            last_update_time=search.dates,
            codes=designations,
        )
        folders = dataclasses.replace(
            find_folders_filter(folder_query),
            patient_key=key,
            selection=search.selection,
            updated=search.updated,
        )
    return _Filters(sets, folders)


async def _found_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    filters: _Filters,
    consent: ConsentBlock | None,
    *,
    count: int,
    offset: int,
) -> list[_Found]:
    """Up to ``count + 1`` matches after ``offset`` (one more than the page: is there a next?), the
    SubmissionSets before the Folders, each kind oldest first.  The page is cut in SQL, so a deep page
    reads and decodes no more than a first one; a page past the SubmissionSets counts them once to know
    where its Folders begin."""
    wanted = count + 1
    found: list[_Found] = []
    folder_offset = offset
    if filters.sets is not None:
        rows = await find_submission_sets_txn(
            conn, engine, filters.sets, consent=consent, limit=wanted, offset=offset
        )
        found.extend((o, at) for o, at in decode_stamped(rows) if isinstance(o, SubmissionSet))
        if rows or not offset:
            folder_offset = 0  # this page holds the last SubmissionSets (or all of them fit before it)
        else:
            folder_offset = offset - await count_submission_sets_txn(
                conn, engine, filters.sets, consent=consent
            )
    if filters.folders is not None and len(found) < wanted:
        rows = await find_folders_txn(
            conn, filters.folders, consent=consent, limit=wanted - len(found), offset=max(folder_offset, 0)
        )
        found.extend((o, at) for o, at in decode_stamped(rows) if isinstance(o, Folder))
    return found


async def _withheld_txn(
    conn: AsyncConnection, engine: StorageEngine, filters: _Filters, consent: ConsentBlock
) -> bool:
    """Whether consent hid any SubmissionSet or Folder the search matches."""
    if filters.sets is not None and await withheld_sets_exist_txn(conn, engine, filters.sets, consent):
        return True
    return filters.folders is not None and await withheld_folders_exist_txn(conn, filters.folders, consent)


async def _rendered_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    owners: Sequence[_Found],
    decision: AccessDecision,
) -> list[dict[str, Any]]:
    """The Lists of ``owners``, each with the HasMember targets the reader may see (documents, and a set's
    folders): three statements for the whole page, whatever its size."""
    if not owners:
        return []
    links = await associations_txn(
        conn,
        AssociationFilter(
            ends=tuple(o.entry_uuid for o, _ in owners),
            types=(AssociationType.HAS_MEMBER.value,),
            sources_only=True,
        ),
    )
    targets = {a.target for a in links if a.target}
    documents = await entries_by_uuid_txn(conn, engine, sorted(targets), consent=decision.consent)
    visible = {e.entry_uuid: f"DocumentReference/{resource_id(e.entry_uuid)}" for e in documents}
    rest = sorted(targets - visible.keys())
    if rest and any(isinstance(o, SubmissionSet) for o, _ in owners):
        selection = Selection(entry_uuids=tuple(rest))
        folders = await find_folders_txn(
            conn,
            dataclasses.replace(find_folders_filter(_ANY_FOLDER), patient_key=None, selection=selection),
            consent=decision.consent,
        )
        visible.update(
            (o.entry_uuid, f"List/{resource_id(o.entry_uuid)}")
            for o in decode(folders)
            if isinstance(o, Folder)
        )
    members: dict[str, list[str]] = {o.entry_uuid: [] for o, _ in owners}
    folder_owners = {o.entry_uuid for o, _ in owners if isinstance(o, Folder)}
    for link in links:
        shown = visible.get(link.target or "")
        if shown is None or link.source not in members:
            continue
        if link.source in folder_owners and shown.startswith("List/"):
            continue  # a Folder holds documents only
        members[link.source].append(shown)
    return [_render(o, members[o.entry_uuid], at) for o, at in owners]


_ANY_FOLDER = FindFoldersQuery(patient_id=NO_PATIENT, statuses=frozenset(AvailabilityStatus))


def _render(owner: SubmissionSet | Folder, members: list[str], updated_us: int | None) -> dict[str, Any]:
    return (
        submission_set_list(owner, members, last_updated_us=updated_us)
        if isinstance(owner, SubmissionSet)
        else folder_list(owner, members, last_updated_us=updated_us)
    )


async def _read_txn(
    conn: AsyncConnection, engine: StorageEngine, entry_uuid: str, decision: AccessDecision
) -> tuple[dict[str, Any], str | None] | None:
    search = ListSearch(
        kinds=frozenset(KINDS),
        patient=None,
        statuses=frozenset(AvailabilityStatus),
        dates=None,
        designations=(),
        source_ids=(),
        selection=Selection(entry_uuids=(entry_uuid,)),
        count=1,
        offset=0,
    )
    filters = await _filters_txn(conn, search, decision)
    found = await _found_txn(conn, engine, filters, decision.consent, count=1, offset=0) if filters else []
    if not found:
        return None
    owner, _ = found[0]
    [resource] = await _rendered_txn(conn, engine, found[:1], decision)
    return resource, patient_key(owner.patient_id)


async def read_list(fhir: FhirService, ctx: RequestContext, resource_id_: str) -> dict[str, Any]:
    """``GET /fhir/List/<id>``: the SubmissionSet or Folder with entryUUID ``urn:uuid:<id>``."""
    decision = fhir.policy.check(ctx, Action.READ, RESOURCE)
    found = await fhir.db.run("list_read", _read_txn, fhir.db.engine, entry_uuid_of(resource_id_), decision)
    if found is None:
        await fhir.audit.record(ctx, AuditEntry(Action.READ, "4", RESOURCE, (resource_id_,), ()), decision)
        raise NotFoundError(f"List/{resource_id_} is not known", message_id="TH-REST-NOT-FOUND")
    resource, key = found
    await fhir.audit.record(
        ctx, AuditEntry(Action.READ, "0", RESOURCE, (resource_id_,), (key,) if key else ()), decision
    )
    return resource


@dataclass(frozen=True, slots=True)
class _Page:
    resources: list[dict[str, Any]]
    patient_keys: tuple[str, ...]
    more: bool
    withheld: bool  # consent hid at least one match (the search says so, never what)


async def _search_txn(
    conn: AsyncConnection, engine: StorageEngine, search: ListSearch, decision: AccessDecision
) -> _Page:
    filters = await _filters_txn(conn, search, decision)
    if filters is None:
        return _Page([], (), more=False, withheld=False)
    consent = decision.consent
    found = await _found_txn(conn, engine, filters, consent, count=search.count, offset=search.offset)
    page = found[: search.count]
    resources = await _rendered_txn(conn, engine, page, decision)
    keys = tuple(sorted({k for o, _ in page if (k := patient_key(o.patient_id))}))
    withheld = consent is not None and await _withheld_txn(conn, engine, filters, consent)
    return _Page(resources, keys, len(found) > search.count, withheld)


async def search_lists(
    fhir: FhirService, ctx: RequestContext, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """``GET /fhir/List?…``: a searchset Bundle of SubmissionSets and Folders."""
    decision = fhir.policy.check(ctx, Action.SEARCH, RESOURCE)
    settings = fhir.settings
    search = translate(
        fhir, params, default_count=settings.default_page_size, max_count=settings.max_page_size
    )
    page = await fhir.db.run("list_search", _search_txn, fhir.db.engine, search, decision)
    query = urlencode(list(params))
    entry = AuditEntry(
        Action.SEARCH, "0", RESOURCE, tuple(r["id"] for r in page.resources), page.patient_keys, detail=query
    )
    await fhir.audit.record(ctx, entry, decision)
    base = f"{ctx.base_url}/{RESOURCE}"
    keep = [(n, v) for n, v in params if n != "_offset"]
    links = [{"relation": "self", "url": f"{base}?{query}"}]
    if page.more:
        next_query = urlencode([*keep, ("_offset", str(search.offset + search.count))])
        links.append({"relation": "next", "url": f"{base}?{next_query}"})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if not page.more and (page.resources or not search.offset):
        bundle["total"] = search.offset + len(page.resources)
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in page.resources
    ]
    if page.withheld:
        entries.append({"resource": operation_outcome([WITHHELD]), "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def capability_entry() -> dict[str, object]:
    """The CapabilityStatement ``rest.resource`` entry of the List view (MHD ITI-66)."""
    return registry_view_entry(RESOURCE, SEARCH_PARAMETERS)


__all__ = ["capability_entry", "read_list", "search_lists"]
