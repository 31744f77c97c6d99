"""Executing the fourteen stored queries against storage, inside one read transaction
(IHE ITI TF-2a 3.18.4.1.2.3.7.1-14; parameter semantics in ``xds.stored_queries``).

``$MetadataLevel`` 1, the default (ITI TF-2a 3.18.4.1.2.3.5.1.1, Metadata Update option), hides what a
consumer without that option cannot interpret: DocumentEntries and Folders that are not the latest version,
Deprecated Folders and Deprecated Associations (telehub has no Offline DocumentEntries).  Level 2 shows
everything the query's own parameters select.  The restriction is applied where every query reads its
objects (:meth:`QueryExecution.entries`, ``folders``, ``associations``), so all fourteen queries agree.

The Find* queries are one SQL statement each (patient first, consent inside).  The Get* queries follow
associations in a few statements; every object read applies the same consent filter and, for a citizen,
the patient scope, so a query never reveals an object the requester may not see.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import (
    AssociationFilter,
    EntryFilter,
    FolderFilter,
    Selection,
    StoredObject,
    SubmissionSetFilter,
)
from hub.storage import (
    associations_txn,
    find_entries_txn,
    find_folders_txn,
    find_submission_sets_txn,
    withheld_entries_exist_txn,
)
from hub.storage.engines import StorageEngine
from xds.codes import AssociationType, AvailabilityStatus
from xds.errors import XdsErrorCode, XdsStoredQueryError
from xds.services import query_filters as qf
from xds.services.query_relations import (
    get_folder_and_contents,
    get_folders_for_document,
    get_related_documents,
    get_submission_set_and_contents,
)
from xds.services.query_result import QueryResult, QueryScope
from xds.services.registry_rows import patient_key, status_value
from xds.stored_queries import (
    FindDocumentsQuery,
    FindFoldersQuery,
    FindSubmissionSetsQuery,
    GetAllQuery,
    GetAssociationsQuery,
    GetDocumentsQuery,
    GetFolderAndContentsQuery,
    GetFoldersForDocumentQuery,
    GetFoldersQuery,
    GetRelatedDocumentsQuery,
    GetSubmissionSetAndContentsQuery,
    GetSubmissionSetsQuery,
    StoredQuery,
)

HAS_MEMBER = AssociationType.HAS_MEMBER.value
_DEPRECATED = status_value(AvailabilityStatus.DEPRECATED)
_ALL_STATUSES = tuple(sorted(status_value(s) for s in AvailabilityStatus))


class QueryExecution:
    """One stored query on one connection."""

    def __init__(self, conn: AsyncConnection, engine: StorageEngine, scope: QueryScope) -> None:
        self.conn = conn
        self.engine = engine
        self.scope = scope

    async def entries(self, f: EntryFilter) -> list[StoredObject]:
        if self.scope.patient_key is not None:
            f = _with_patient(f, self.scope.patient_key)
        if self.scope.current_metadata_only:
            f = dataclasses.replace(f, latest_only=True)
        found = await find_entries_txn(
            self.conn,
            self.engine,
            f,
            consent=self.scope.consent,
            with_ebrim=self.scope.with_ebrim,
            limit=self._limit,
        )
        return self._bounded(found, "DocumentEntries")

    @property
    def _limit(self) -> int | None:
        """Rows read per object kind: one more than may be returned, to know that there are too many."""
        return None if self.scope.max_results is None else self.scope.max_results + 1

    def _bounded(self, found: list[StoredObject], kind: str) -> list[StoredObject]:
        limit = self.scope.max_results
        if limit is not None and len(found) > limit:
            raise XdsStoredQueryError.single(
                XdsErrorCode.XDS_TOO_MANY_RESULTS,
                f"the query selects more than {limit} {kind}; narrow it (e.g. by date or class code)",
            )
        return found

    async def sets(self, f: SubmissionSetFilter) -> list[StoredObject]:
        if self.scope.patient_key is not None:
            f = _with_patient(f, self.scope.patient_key)
        found = await find_submission_sets_txn(
            self.conn,
            self.engine,
            f,
            consent=self.scope.consent,
            with_ebrim=self.scope.with_ebrim,
            limit=self._limit,
        )
        return self._bounded(found, "SubmissionSets")

    async def folders(self, f: FolderFilter) -> list[StoredObject]:
        if self.scope.patient_key is not None:
            f = _with_patient(f, self.scope.patient_key)
        if self.scope.current_metadata_only:
            statuses = _without_deprecated(f.statuses)
            if statuses is None:
                return []
            f = dataclasses.replace(f, statuses=statuses, latest_only=True)
        found = await find_folders_txn(
            self.conn, f, consent=self.scope.consent, with_ebrim=self.scope.with_ebrim, limit=self._limit
        )
        return self._bounded(found, "Folders")

    async def associations(self, f: AssociationFilter) -> list[StoredObject]:
        if self.scope.patient_key is not None:
            f = _with_patient(f, self.scope.patient_key)
        if self.scope.current_metadata_only:
            statuses = _without_deprecated(f.statuses)
            if statuses is None:
                return []
            f = dataclasses.replace(f, statuses=statuses)
        return await associations_txn(self.conn, f, consent=self.scope.consent)

    async def withheld(self, f: EntryFilter) -> bool:
        if self.scope.consent is None:
            return False
        if self.scope.current_metadata_only:
            f = dataclasses.replace(f, latest_only=True)
        return await withheld_entries_exist_txn(self.conn, self.engine, f, self.scope.consent)

    # ------------------------------------------------------------------ the queries

    async def run(self, query: StoredQuery) -> QueryResult:
        match query:
            case FindDocumentsQuery():
                f = qf.find_documents_filter(query)
                found = await self.entries(f)
                return QueryResult(entries=found, withheld=not found and await self.withheld(f))
            case FindSubmissionSetsQuery():
                return QueryResult(submission_sets=await self.sets(qf.find_submission_sets_filter(query)))
            case FindFoldersQuery():
                return QueryResult(folders=await self.folders(qf.find_folders_filter(query)))
            case GetAllQuery():
                return await self.get_all(query)
            case GetDocumentsQuery():
                entries = await self.entries(EntryFilter(selection=qf.selection(query.selector)))
                result = QueryResult(entries=entries)
                if query.and_associations and entries:
                    ends = tuple(e.entry_uuid for e in entries)
                    result.associations = await self.associations(
                        AssociationFilter(ends=ends, statuses=qf.statuses(query.association_statuses))
                    )
                return result
            case GetFoldersQuery():
                return QueryResult(
                    folders=await self.folders(FolderFilter(selection=qf.selection(query.selector)))
                )
            case GetAssociationsQuery():
                statuses = qf.statuses(query.association_statuses)
                return QueryResult(
                    associations=await self.associations(AssociationFilter(query.uuids, statuses=statuses))
                )
            case GetSubmissionSetsQuery():
                return await self.get_submission_sets(query)
            case GetSubmissionSetAndContentsQuery():
                return await get_submission_set_and_contents(self, query)
            case GetFolderAndContentsQuery():
                return await get_folder_and_contents(self, query)
            case GetFoldersForDocumentQuery():
                return await get_folders_for_document(self, query)
            case GetRelatedDocumentsQuery():
                return await get_related_documents(self, query)
        raise AssertionError(query)  # pragma: no cover - the union is exhaustive

    async def get_all(self, query: GetAllQuery) -> QueryResult:
        key = patient_key(query.patient_id)
        entry_filter = qf.member_filter(query.documents, entry_uuids=(), patient=key)
        entry_filter = EntryFilter(
            patient_key=key,
            statuses=qf.statuses(query.document_statuses),
            object_types=entry_filter.object_types,
            codes=entry_filter.codes,
            code_lists=entry_filter.code_lists,
        )
        result = QueryResult(
            entries=await self.entries(entry_filter),
            submission_sets=await self.sets(
                SubmissionSetFilter(patient_key=key, statuses=qf.statuses(query.submission_set_statuses))
            ),
            folders=await self.folders(
                FolderFilter(patient_key=key, statuses=qf.statuses(query.folder_statuses))
            ),
        )
        ends = tuple(o.entry_uuid for o in result.objects())
        if ends:
            candidates = await self.associations(
                AssociationFilter(ends, statuses=qf.statuses(query.association_statuses), sources_only=True)
            )
            result.associations = _closed_over(candidates, set(ends))
        return result

    async def get_submission_sets(self, query: GetSubmissionSetsQuery) -> QueryResult:
        statuses = qf.statuses(query.association_statuses)
        memberships = await self.associations(
            AssociationFilter(query.uuids, types=(HAS_MEMBER,), statuses=statuses, targets_only=True)
        )
        sources = tuple(dict.fromkeys(a.source or "" for a in memberships))
        sets = (
            await self.sets(SubmissionSetFilter(selection=Selection(entry_uuids=sources))) if sources else []
        )
        found = {s.entry_uuid for s in sets}
        return QueryResult(submission_sets=sets, associations=[a for a in memberships if a.source in found])


def _without_deprecated(statuses: tuple[str, ...]) -> tuple[str, ...] | None:
    """``statuses`` less Deprecated (empty = any status, so it becomes every other one); None when only
    Deprecated was asked for (nothing may be returned)."""
    kept = tuple(s for s in (statuses or _ALL_STATUSES) if s != _DEPRECATED)
    return kept or None


def _closed_over(candidates: list[StoredObject], objects: set[str]) -> list[StoredObject]:
    """The associations between ``objects`` - including those whose target is such an association (a
    SubmissionSet's HasMember of a Folder -> DocumentEntry link), in their original order."""
    kept: set[str] = set()
    grew = True
    while grew:
        grew = False
        for association in candidates:
            if association.entry_uuid not in kept and (
                association.target in objects or association.target in kept
            ):
                kept.add(association.entry_uuid)
                grew = True
    return [a for a in candidates if a.entry_uuid in kept]


_F = TypeVar("_F", EntryFilter, SubmissionSetFilter, FolderFilter, AssociationFilter)


def _with_patient(f: _F, key: str) -> _F:
    return dataclasses.replace(f, patient_key=key)
