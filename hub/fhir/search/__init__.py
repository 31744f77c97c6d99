"""FHIR R4 search: the SearchParameter registry, index extraction at write time, search-request parsing.

https://hl7.org/fhir/R4/search.html.  ``registry`` says which parameters exist;
``extraction`` turns a resource into :class:`hub.core.search.IndexEntry` rows and
``compartment`` gives its ``patient_key``; ``parsing`` turns a query into a
:class:`SearchRequest` of :class:`hub.core.search.Criterion` values;
``elements`` applies ``_elements``.  Storage (hub.storage) indexes and queries
those values; it never evaluates FHIRPath.
"""

from hub.core.normalization import MAX_INDEXED_LENGTH, normalize_text
from hub.fhir.search.compartment import PATIENT_COMPARTMENT, patient_compartment_key
from hub.fhir.search.dates import MAX_US, MIN_US, date_range
from hub.fhir.search.elements import SUBSETTED_TAG, apply_elements
from hub.fhir.search.extraction import IndexExtractor
from hub.fhir.search.parsing import CONTROL_PARAMETERS, parse_search_request
from hub.fhir.search.query_values import split_escaped, unescape
from hub.fhir.search.registry import (
    SUPPORTED_RESOURCE_TYPES,
    PackageExtension,
    SearchParameterDef,
    SearchParameterRegistry,
    SkippedParameter,
    default_registry,
)
from hub.fhir.search.request import Include, SearchRequest, SummaryMode, TotalMode

__all__ = [
    "CONTROL_PARAMETERS",
    "MAX_INDEXED_LENGTH",
    "MAX_US",
    "MIN_US",
    "PATIENT_COMPARTMENT",
    "SUBSETTED_TAG",
    "SUPPORTED_RESOURCE_TYPES",
    "Include",
    "IndexExtractor",
    "PackageExtension",
    "SearchParameterDef",
    "SearchParameterRegistry",
    "SearchRequest",
    "SkippedParameter",
    "SummaryMode",
    "TotalMode",
    "apply_elements",
    "date_range",
    "default_registry",
    "normalize_text",
    "parse_search_request",
    "patient_compartment_key",
    "split_escaped",
    "unescape",
]
