"""IHE MHD on the hub's own XDS registry and repository: ITI-65 Provide Document Bundle (Document Recipient)
and ITI-66 Find Document Lists (the ``List`` view of SubmissionSets and Folders).

ITI-67 (DocumentReference search/read) and ITI-68 (Binary) are views in :mod:`xds.phmr` and
``hub.api.document_routes``; this package turns an MHD submission into XDS metadata and runs it through the
ITI-41 pipeline, and serves SubmissionSets and Folders as ``List``.
"""

from xds.mhd.bundle import is_provide_bundle, read_provide_bundle
from xds.mhd.fhir_values import MhdInputError
from xds.mhd.list_reads import capability_entry, read_list, search_lists
from xds.mhd.provide import (
    PatientResolver,
    ProvideOutcome,
    patient_resolver,
    provide_document_bundle,
    response_bundle,
)

__all__ = [
    "MhdInputError",
    "PatientResolver",
    "ProvideOutcome",
    "capability_entry",
    "is_provide_bundle",
    "patient_resolver",
    "provide_document_bundle",
    "read_list",
    "read_provide_bundle",
    "response_bundle",
    "search_lists",
]
