"""The stored queries that follow associations from one named object (ITI TF-2a 3.18.4.1.2.3.7.10-13):
GetSubmissionSetAndContents, GetFolderAndContents, GetFoldersForDocument, GetRelatedDocuments.

Each reads through :class:`xds.services.query_execution.QueryExecution`, so consent and a citizen's scope
apply to every object on the way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.core.registry_query import (
    AssociationFilter,
    EntryFilter,
    FolderFilter,
    Selection,
    StoredObject,
    SubmissionSetFilter,
)
from xds.codes import AssociationType
from xds.services import query_filters as qf
from xds.services.query_result import QueryResult
from xds.stored_queries import (
    GetFolderAndContentsQuery,
    GetFoldersForDocumentQuery,
    GetRelatedDocumentsQuery,
    GetSubmissionSetAndContentsQuery,
)

if TYPE_CHECKING:
    from xds.services.query_execution import QueryExecution

HAS_MEMBER = AssociationType.HAS_MEMBER.value


async def get_submission_set_and_contents(
    ex: QueryExecution, query: GetSubmissionSetAndContentsQuery
) -> QueryResult:
    sets = await ex.sets(SubmissionSetFilter(selection=qf.selection(query.selector)))
    if not sets:
        return QueryResult()
    statuses = qf.statuses(query.association_statuses)
    set_ids = tuple(s.entry_uuid for s in sets)
    members = await ex.associations(
        AssociationFilter(set_ids, types=(HAS_MEMBER,), statuses=statuses, sources_only=True)
    )
    targets = tuple(a.target or "" for a in members)
    entries, folders = await _members(ex, query, targets)
    returned = {o.entry_uuid for o in (*sets, *entries, *folders)}
    # associations that are members themselves (e.g. Folder -> DocumentEntry links of this submission set)
    links = await ex.associations(
        AssociationFilter(tuple(sorted(returned)), statuses=statuses, both_ends=True)
    )
    member_links = [a for a in links if a.entry_uuid in set(targets)]
    visible = returned | {a.entry_uuid for a in member_links}
    associations = [a for a in members if a.target in visible] + member_links
    return QueryResult(entries=entries, submission_sets=sets, folders=folders, associations=associations)


async def _members(
    ex: QueryExecution, query: GetSubmissionSetAndContentsQuery, targets: tuple[str, ...]
) -> tuple[list[StoredObject], list[StoredObject]]:
    if not targets:
        return [], []
    entries = await ex.entries(qf.member_filter(query.documents, entry_uuids=targets, patient=None))
    folders = await ex.folders(FolderFilter(selection=Selection(entry_uuids=targets)))
    return entries, folders


async def get_folder_and_contents(ex: QueryExecution, query: GetFolderAndContentsQuery) -> QueryResult:
    folders = await ex.folders(FolderFilter(selection=qf.selection(query.selector)))
    if not folders:
        return QueryResult()
    statuses = qf.statuses(query.association_statuses)
    members = await ex.associations(
        AssociationFilter(
            tuple(f.entry_uuid for f in folders),
            types=(HAS_MEMBER,),
            statuses=statuses,
            sources_only=True,
        )
    )
    targets = tuple(a.target or "" for a in members)
    entries = (
        await ex.entries(qf.member_filter(query.documents, entry_uuids=targets, patient=None))
        if targets
        else []
    )
    found = {e.entry_uuid for e in entries}
    return QueryResult(
        entries=entries, folders=folders, associations=[a for a in members if a.target in found]
    )


async def get_folders_for_document(ex: QueryExecution, query: GetFoldersForDocumentQuery) -> QueryResult:
    entries = await ex.entries(EntryFilter(selection=qf.selection(query.selector)))
    if not entries:
        return QueryResult()
    memberships = await ex.associations(
        AssociationFilter(
            tuple(e.entry_uuid for e in entries),
            types=(HAS_MEMBER,),
            statuses=qf.statuses(query.association_statuses),
            targets_only=True,
        )
    )
    sources = tuple(dict.fromkeys(a.source or "" for a in memberships))
    folders = await ex.folders(FolderFilter(selection=Selection(entry_uuids=sources))) if sources else []
    return QueryResult(folders=folders)


async def get_related_documents(ex: QueryExecution, query: GetRelatedDocumentsQuery) -> QueryResult:
    entries = await ex.entries(EntryFilter(selection=qf.selection(query.selector)))
    if not entries:
        return QueryResult()
    origin = entries[0].entry_uuid
    related = await ex.associations(
        AssociationFilter(
            (origin,),
            types=tuple(sorted(t.value for t in query.association_types)),
            statuses=qf.statuses(query.association_statuses),
        )
    )
    others = tuple(dict.fromkeys(_other_end(a, origin) for a in related))
    found = (
        await ex.entries(
            EntryFilter(
                object_types=qf.object_types(query.object_types), selection=Selection(entry_uuids=others)
            )
        )
        if others
        else []
    )
    if not found:
        return QueryResult()
    ids = {e.entry_uuid for e in found}
    associations = [a for a in related if _other_end(a, origin) in ids]
    return QueryResult(entries=[entries[0], *found], associations=associations)


def _other_end(association: StoredObject, origin: str) -> str:
    return (association.target if association.source == origin else association.source) or ""
