"""ITI-18 Registry Stored Query at the registry (IHE ITI TF-2a 3.18.4.1.3).

Authorise (``security`` QUERY_DOCUMENTS; a citizen only for their own CPR), run the query in one read
transaction with Danish negative consent inside the SQL, and answer with an AdhocQueryResponse: ObjectRefs,
or the LeafClass objects spliced in from their stored registry form bytes (lossless, no model round trip).

Errors: the request parser raises XDSUnknownStoredQuery / XDSStoredQueryMissingParam /
XDSStoredQueryParamNumber; a LeafClass Get* result spanning several patients is XDSResultNotSinglePatient
(ITI TF-2a 3.18.4.1.2.3.7 "... shall return an error").  When consent withheld data the response carries a
warning that says so and nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import HubError
from hub.storage.engines import StorageEngine
from security import Action, AuditAction, AuditOutcome
from xds.errors import RegistryError, RegistryErrorSeverity, XdsErrorCode, XdsStoredQueryError
from xds.model import ObjectRef
from xds.namespaces import rim
from xds.responses import ResponseStatus, adhoc_query_response_element
from xds.services.audit_records import AuditFacts
from xds.services.query_execution import QueryExecution
from xds.services.query_result import QueryResult, QueryScope
from xds.services.registry_rows import object_elements, patient_key
from xds.services.runtime import Caller, XdsRuntime
from xds.stored_queries import (
    FindDocumentsQuery,
    FindFoldersQuery,
    FindSubmissionSetsQuery,
    GetAllQuery,
    ReturnType,
    StoredQuery,
    StoredQueryRequest,
)

_PATIENT_QUERIES = (FindDocumentsQuery, FindSubmissionSetsQuery, FindFoldersQuery, GetAllQuery)
WITHHELD = RegistryError(
    XdsErrorCode.XDS_REGISTRY_ERROR,
    "some content was withheld according to the patient's consent directives",
    severity=RegistryErrorSeverity.WARNING,
)


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    """A successful ITI-18 answer: the response element and what it returned (for logs and tests)."""

    response: etree._Element
    result: QueryResult
    warnings: tuple[RegistryError, ...]


def query_patient(query: StoredQuery) -> str | None:
    if isinstance(query, _PATIENT_QUERIES):
        return patient_key(query.patient_id)
    return None


async def run_query_txn(
    conn: AsyncConnection, engine: StorageEngine, query: StoredQuery, scope: QueryScope
) -> QueryResult:
    return await QueryExecution(conn, engine, scope).run(query)


def response_element(
    result: QueryResult, return_type: ReturnType, warnings: Sequence[RegistryError]
) -> etree._Element:
    objects = result.objects()
    if return_type is ReturnType.OBJECT_REF:
        refs = [ObjectRef(o.entry_uuid) for o in objects]
        return adhoc_query_response_element(ResponseStatus.SUCCESS, object_refs=refs, errors=warnings)
    element = adhoc_query_response_element(ResponseStatus.SUCCESS, errors=warnings)
    object_list = element.find(rim("RegistryObjectList"))
    assert object_list is not None  # adhoc_query_response_element always writes one
    for child in object_elements(objects):
        object_list.append(child)
    return element


async def stored_query(rt: XdsRuntime, caller: Caller, request: StoredQueryRequest) -> QueryAnswer:
    """Answer one ITI-18 request (raises XdsStoredQueryError for a Failure response)."""
    wanted = query_patient(request.query)
    decision = rt.authorize(caller, Action.QUERY_DOCUMENTS, AuditAction.ITI_18, [wanted])
    scope = QueryScope(
        consent=rt.consent(caller),
        patient_key=decision.patient_scope,
        with_ebrim=request.return_type is ReturnType.LEAF_CLASS,
        current_metadata_only=request.metadata_level == 1,
        max_results=rt.settings.xds.max_query_results,
    )
    described = f"{request.query_id.spec_name} ({request.return_type.value})"
    try:
        result = await rt.db.run("xds_stored_query", run_query_txn, rt.db.engine, request.query, scope)
        patients = result.patient_keys()
        single_patient = isinstance(request.query, _PATIENT_QUERIES) or len(patients) <= 1
        if request.return_type is ReturnType.LEAF_CLASS and not single_patient:
            raise XdsStoredQueryError.single(
                XdsErrorCode.XDS_RESULT_NOT_SINGLE_PATIENT,
                f"{request.query_id.spec_name} found objects of {len(patients)} patients",
            )
        warnings = (WITHHELD,) if result.withheld else ()
        response = response_element(result, request.return_type, warnings)
    except HubError as exc:
        facts = AuditFacts(
            AuditAction.ITI_18,
            AuditOutcome.SERIOUS_FAILURE,
            patient_keys=(wanted,) if wanted else (),
            query=described,
            decision_reason=decision.reason,
            override=decision.override,
            detail=str(exc),
        )
        rt.record(caller, facts)
        raise
    await rt.release(
        caller,
        AuditFacts(
            AuditAction.ITI_18,
            AuditOutcome.SUCCESS,
            patient_keys=tuple(sorted(patients)) or ((wanted,) if wanted else ()),
            documents=tuple(e.unique_id or "" for e in result.entries),
            query=described,
            decision_reason=decision.reason,
            override=decision.override,
        ),
    )
    return QueryAnswer(response, result, warnings)
