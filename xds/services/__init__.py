"""XDS.b services: the registry and repository transactions over storage (ITI-18, 41, 42, 43, 57, 62).

:class:`XdsService` is what the doors call.  ``processing`` holds the document-processor seam (PHMR
Observations and similar derived data), run inside the one transaction of each submission; ``entries``
reads DocumentEntries for views of the registry (FHIR DocumentReference, MHD).  Other packages import only
the names in ``__all__``.
"""

from xds.services.delete import DeleteResult
from xds.services.document_retrieve import EntryDocument
from xds.services.entries import (
    document_entries_by_unique_id,
    document_entries_by_uuid,
    entries_by_unique_id_txn,
    entries_by_uuid_txn,
    entries_txn,
    find_documents,
    stamped_entries_txn,
)
from xds.services.processing import (
    DocumentProcessor,
    ProcessedDocument,
    ProcessorRegistry,
    SubmissionContext,
    SubmittedDocument,
)
from xds.services.query_filters import find_documents_filter
from xds.services.registry_rows import patient_key
from xds.services.retrieve import RetrieveResult
from xds.services.runtime import Caller
from xds.services.service import XdsService
from xds.services.stored_query import QueryAnswer
from xds.services.submission import SubmissionResult
from xds.services.submit_document import submit_document

__all__ = [
    "Caller",
    "DeleteResult",
    "DocumentProcessor",
    "EntryDocument",
    "ProcessedDocument",
    "ProcessorRegistry",
    "QueryAnswer",
    "RetrieveResult",
    "SubmissionContext",
    "SubmissionResult",
    "SubmittedDocument",
    "XdsService",
    "document_entries_by_unique_id",
    "document_entries_by_uuid",
    "entries_by_unique_id_txn",
    "entries_by_uuid_txn",
    "entries_txn",
    "find_documents",
    "find_documents_filter",
    "patient_key",
    "stamped_entries_txn",
    "submit_document",
]
