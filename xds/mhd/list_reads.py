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
identifier, _id             uniqueId or entryUUID
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

from hub.core.errors import InvalidInputError, NotFoundError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from hub.core.registry_query import AssociationFilter, Selection
from hub.core.search import Criterion, TokenQuery
from hub.fhir import AccessDecision, Action, AuditEntry, FhirService, RequestContext
from hub.fhir.search import parse_search_request
from hub.storage import associations_txn, find_folders_txn, find_submission_sets_txn
from hub.storage.engines import StorageEngine
from xds.codes import AssociationType, AvailabilityStatus
from xds.hl7v2 import CX
from xds.mhd.bundle import LIST_TYPES
from xds.mhd.list_view import RESOURCE, folder_list, submission_set_list
from xds.model import Folder, SubmissionSet
from xds.phmr.document_query import (
    UNSUPPORTED_RESULT_PARAMETERS,
    PatientParameter,
    registry_view_entry,
    time_range,
    took_patient,
)
from xds.phmr.document_reads import patient_cx_txn
from xds.phmr.document_reference import code_system_oid, entry_uuid_of, resource_id, unique_id_of
from xds.services import entries_by_uuid_txn, patient_key
from xds.services.query_filters import find_folders_filter, find_submission_sets_filter
from xds.services.registry_rows import decode
from xds.stored_queries import CodeFilter, FindFoldersQuery, FindSubmissionSetsQuery, QueryCode, TimeRange

_MESSAGE = "TH-LIST-SEARCH"
_KINDS = ("submissionset", "folder")
_STATUSES = {"current": AvailabilityStatus.APPROVED, "retired": AvailabilityStatus.DEPRECATED}
_NO_PATIENT = CX(id="-", assigning_authority="0")
WITHHELD = Issue(
    IssueSeverity.WARNING,
    IssueType.SUPPRESSED,
    "some data may have been withheld according to the patient's consent",
    message_id="TH-CONSENT-WITHHELD",
)
SEARCH_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("patient", "reference"),
    ("subject", "reference"),
    ("code", "token"),
    ("status", "token"),
    ("date", "date"),
    ("designationType", "token"),
    ("sourceId", "token"),
    ("identifier", "token"),
    ("_id", "token"),
)


def _bad(message: str, name: str) -> InvalidInputError:
    return InvalidInputError(message, expression=name, message_id=_MESSAGE)


@dataclass(frozen=True, slots=True)
class ListSearch:
    kinds: frozenset[str]
    patient: PatientParameter | None
    statuses: frozenset[AvailabilityStatus]
    dates: TimeRange | None
    designations: tuple[QueryCode, ...]
    source_ids: tuple[str, ...]
    selection: Selection | None
    count: int
    offset: int
    impossible: bool = False


def _values(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [v for raw in (value for key, value in params if key == name) for v in raw.split(",") if v]


def _designations(params: Sequence[tuple[str, str]]) -> tuple[QueryCode, ...]:
    codes = []
    for token in _values(params, "designationType"):
        system, sep, code = token.partition("|")
        if not sep or not system or not code:
            raise _bad("designationType: give system|code", "designationType")
        codes.append(QueryCode(code, code_system_oid(system)))
    return tuple(codes)


@dataclass(slots=True)
class _Builder:
    kinds: set[str] = dataclasses.field(default_factory=lambda: set(_KINDS))
    patients: list[PatientParameter] = dataclasses.field(default_factory=list)
    statuses: set[AvailabilityStatus] | None = None
    dates: TimeRange | None = None
    entry_uuids: list[str] = dataclasses.field(default_factory=list)
    unique_ids: list[str] = dataclasses.field(default_factory=list)

    def add(self, c: Criterion) -> None:
        if took_patient(c, self.patients, _MESSAGE):
            return
        tokens = [v for v in c.values if isinstance(v, TokenQuery) and v.code]
        if c.code == "code":
            if any(t.system not in (None, LIST_TYPES) or t.code not in _KINDS for t in tokens):
                raise _bad(f"code: {LIST_TYPES}|submissionset or |folder", c.code)
            self.kinds &= {t.code for t in tokens}
        elif c.code == "status":
            wanted = {_STATUSES[t.code] for t in tokens if t.code in _STATUSES}
            self.statuses = wanted if self.statuses is None else self.statuses & wanted
        elif c.code == "date":
            self.dates = time_range(self.dates, c)
        elif c.code in ("identifier", "_id"):
            for token in tokens:
                value = token.code or ""
                if c.code == "_id":
                    self.entry_uuids.append(entry_uuid_of(value))
                elif value.lower().startswith("urn:uuid:"):
                    self.entry_uuids.append(value)
                else:
                    self.unique_ids.append(unique_id_of(token.system, value))
        else:
            raise _bad(f"search parameter {c.code!r} is not supported on the registry view of List", c.code)


def translate(
    fhir: FhirService, params: Sequence[tuple[str, str]], *, default_count: int, max_count: int
) -> ListSearch:
    """Translate a List search (400 for what the registry cannot answer)."""
    own = ("designationType", "sourceId", "_offset")
    rest = [(n, v) for n, v in params if n not in own]
    for name, _ in rest:
        if name.partition(":")[0] in UNSUPPORTED_RESULT_PARAMETERS:
            raise _bad(f"{name} is not supported on the registry view of List", name)
    request = parse_search_request(fhir.indexer.registry, RESOURCE, rest, local_base=fhir.indexer.local_base)
    if request.unknown:
        raise _bad(f"unknown search parameter(s) for List: {', '.join(sorted(request.unknown))}", "List")
    builder = _Builder()
    for criterion in request.criteria:
        builder.add(criterion)
    if len(builder.patients) > 1:
        raise _bad("give one patient", "patient")
    selection = (
        Selection(entry_uuids=tuple(builder.entry_uuids), unique_ids=tuple(builder.unique_ids))
        if builder.entry_uuids or builder.unique_ids
        else None
    )
    if not builder.patients and selection is None:
        raise _bad("a List search needs patient (or patient.identifier), identifier or _id", "patient")
    statuses = builder.statuses if builder.statuses is not None else {AvailabilityStatus.APPROVED}
    offset_text = [v for n, v in params if n == "_offset"]
    try:
        offset = int(offset_text[-1]) if offset_text else 0
    except ValueError as exc:
        raise _bad("_offset must be a whole number", "_offset") from exc
    count = min(request.count if request.count is not None else default_count, max_count)
    return ListSearch(
        kinds=frozenset(builder.kinds),
        patient=builder.patients[0] if builder.patients else None,
        statuses=frozenset(statuses),
        dates=builder.dates,
        designations=_designations(params),
        source_ids=tuple(v.removeprefix("urn:oid:") for v in _values(params, "sourceId")),
        selection=selection,
        count=max(count, 0),
        offset=max(offset, 0),
        impossible=not statuses or not builder.kinds,
    )


async def _found_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    search: ListSearch,
    decision: AccessDecision,
    limit: int,
    *,
    with_consent: bool = True,
) -> list[SubmissionSet | Folder]:
    """SubmissionSets then Folders matching ``search`` (at most ``limit`` of each kind);
    ``with_consent=False`` only tells whether consent withheld any (nothing found so is ever shown)."""
    consent = decision.consent if with_consent else None
    if search.impossible:
        return []
    patient = await patient_cx_txn(conn, search.patient)
    if search.patient is not None and patient is None:
        return []  # a hub Patient without a CPR has nothing in the registry
    key = patient_key(patient) if patient is not None else None
    if decision.patient_key is not None:
        if key is not None and key != decision.patient_key:
            return []  # a citizen asking for someone else
        key = decision.patient_key
    designations = CodeFilter((search.designations,)) if search.designations else None
    found: list[SubmissionSet | Folder] = []
    if "submissionset" in search.kinds:
        query = FindSubmissionSetsQuery(
            patient_id=patient or _NO_PATIENT,
            statuses=search.statuses,
            source_ids=search.source_ids,
            submission_time=search.dates,
            content_type_codes=designations,
        )
        f = dataclasses.replace(
            find_submission_sets_filter(query), patient_key=key, selection=search.selection
        )
        rows = await find_submission_sets_txn(conn, engine, f, consent=consent, limit=limit)
        found.extend(o for o in decode(rows) if isinstance(o, SubmissionSet))
    if "folder" in search.kinds and not search.source_ids:
        folder_query = FindFoldersQuery(
            patient_id=patient or _NO_PATIENT,
            statuses=search.statuses,
            last_update_time=search.dates,
            codes=designations,
        )
        f2 = dataclasses.replace(
            find_folders_filter(folder_query), patient_key=key, selection=search.selection
        )
        rows = await find_folders_txn(conn, f2, consent=consent, limit=limit)
        found.extend(o for o in decode(rows) if isinstance(o, Folder))
    return found


async def _members_txn(
    conn: AsyncConnection, engine: StorageEngine, owner: SubmissionSet | Folder, decision: AccessDecision
) -> list[str]:
    """References to the owner's HasMember targets the reader may see (documents, and a set's folders)."""
    links = await associations_txn(
        conn,
        AssociationFilter(
            ends=(owner.entry_uuid,), types=(AssociationType.HAS_MEMBER.value,), sources_only=True
        ),
    )
    targets = [a.target for a in links if a.target]
    documents = await entries_by_uuid_txn(conn, engine, targets, consent=decision.consent)
    visible = {e.entry_uuid for e in documents}
    members = [f"DocumentReference/{resource_id(t)}" for t in targets if t in visible]
    if isinstance(owner, SubmissionSet) and len(visible) < len(targets):
        selection = Selection(entry_uuids=tuple(t for t in targets if t not in visible))
        folders = await find_folders_txn(
            conn,
            dataclasses.replace(find_folders_filter(_ANY_FOLDER), patient_key=None, selection=selection),
            consent=decision.consent,
        )
        members.extend(f"List/{resource_id(o.entry_uuid)}" for o in decode(folders) if isinstance(o, Folder))
    return members


_ANY_FOLDER = FindFoldersQuery(patient_id=_NO_PATIENT, statuses=frozenset(AvailabilityStatus))


def _render(owner: SubmissionSet | Folder, members: list[str]) -> dict[str, Any]:
    return (
        submission_set_list(owner, members)
        if isinstance(owner, SubmissionSet)
        else folder_list(owner, members)
    )


async def _read_txn(
    conn: AsyncConnection, engine: StorageEngine, entry_uuid: str, decision: AccessDecision
) -> tuple[dict[str, Any], str | None] | None:
    search = ListSearch(
        kinds=frozenset(_KINDS),
        patient=None,
        statuses=frozenset(AvailabilityStatus),
        dates=None,
        designations=(),
        source_ids=(),
        selection=Selection(entry_uuids=(entry_uuid,)),
        count=1,
        offset=0,
    )
    found = await _found_txn(conn, engine, search, decision, limit=1)
    if not found:
        return None
    owner = found[0]
    return _render(owner, await _members_txn(conn, engine, owner, decision)), patient_key(owner.patient_id)


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
    wanted = search.offset + search.count
    found = await _found_txn(conn, engine, search, decision, limit=wanted + 1)
    page = found[search.offset : wanted]
    resources = [_render(o, await _members_txn(conn, engine, o, decision)) for o in page]
    keys = tuple(sorted({k for o in page if (k := patient_key(o.patient_id))}))
    withheld = False
    if decision.consent is not None:
        unfiltered = await _found_txn(conn, engine, search, decision, limit=wanted + 1, with_consent=False)
        withheld = len(unfiltered) > len(found)
    return _Page(resources, keys, len(found) > wanted, withheld)


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


__all__ = ["SEARCH_PARAMETERS", "capability_entry", "read_list", "search_lists", "translate"]
