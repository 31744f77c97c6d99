"""ITI-18 Registry Stored Query: query ids, parameter parsing and storage-independent query specs.

ITI TF-2a 3.18.4.1.2.3.7.  ``parse_adhoc_query_request`` turns an AdhocQueryRequest into a
``StoredQueryRequest`` whose ``query`` is one of the ``*Query`` specs; ``hub.storage`` executes it.
"""

from xds.stored_queries.ids import ReturnType, StoredQueryId
from xds.stored_queries.request import adhoc_query_request_element, parse_adhoc_query_request
from xds.stored_queries.spec import (
    APPROVED_ONLY,
    STABLE_ONLY,
    DocumentFilters,
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
    ObjectSelector,
    StoredQuery,
    StoredQueryRequest,
)
from xds.stored_queries.values import (
    CodeFilter,
    LikePatterns,
    QueryCode,
    TimeRange,
    ValueFilter,
    format_value,
    parse_value,
)

__all__ = [
    "APPROVED_ONLY",
    "STABLE_ONLY",
    "CodeFilter",
    "DocumentFilters",
    "FindDocumentsQuery",
    "FindFoldersQuery",
    "FindSubmissionSetsQuery",
    "GetAllQuery",
    "GetAssociationsQuery",
    "GetDocumentsQuery",
    "GetFolderAndContentsQuery",
    "GetFoldersForDocumentQuery",
    "GetFoldersQuery",
    "GetRelatedDocumentsQuery",
    "GetSubmissionSetAndContentsQuery",
    "GetSubmissionSetsQuery",
    "LikePatterns",
    "ObjectSelector",
    "QueryCode",
    "ReturnType",
    "StoredQuery",
    "StoredQueryId",
    "StoredQueryRequest",
    "TimeRange",
    "ValueFilter",
    "adhoc_query_request_element",
    "format_value",
    "parse_adhoc_query_request",
    "parse_value",
]
