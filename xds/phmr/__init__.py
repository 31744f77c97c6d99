"""PHMR submission pipeline: the document processor (validate, derive metadata, Observations with lineage),
``$submit-document``, and DocumentReference as a read-only FHIR view of the XDS registry (issue 4).

``processor`` implements ``xds.services.DocumentProcessor``; ``measurement_writes`` and ``lineage`` are its
transaction phases (the lineage rule is written in ``lineage``); ``document_reference``,
``document_query`` and ``document_reads`` are the registry view; ``submission`` is the FHIR door's
operation.  Other packages import only the names in ``__all__``.
"""

from xds.phmr.document_query import DocumentSearch, capability_entries, translate
from xds.phmr.document_reads import read_document_reference, search_document_references
from xds.phmr.document_reference import document_reference
from xds.phmr.lineage import RETIRED_STATUS, Retirement, retirement_txn
from xds.phmr.outcome import PhmrPayload, ProcessingRecord, WriteResult
from xds.phmr.processor import PhmrProcessor, looks_like_processable_cda
from xds.phmr.submission import (
    SUBMIT_DOCUMENT_OPERATION,
    DocumentSubmission,
    SubmitOutcome,
    code_from_token,
    response_parameters,
    submission_from_parameters,
    submit,
)
from xds.phmr.write_guard import DocumentReferenceWriteGuard, refusal

__all__ = [
    "RETIRED_STATUS",
    "SUBMIT_DOCUMENT_OPERATION",
    "DocumentReferenceWriteGuard",
    "DocumentSearch",
    "DocumentSubmission",
    "PhmrPayload",
    "PhmrProcessor",
    "ProcessingRecord",
    "Retirement",
    "SubmitOutcome",
    "WriteResult",
    "capability_entries",
    "code_from_token",
    "document_reference",
    "looks_like_processable_cda",
    "read_document_reference",
    "refusal",
    "response_parameters",
    "retirement_txn",
    "search_document_references",
    "submission_from_parameters",
    "submit",
    "translate",
]
