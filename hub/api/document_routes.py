"""The document routes of the FHIR door: ``POST /fhir/$submit-document``, DocumentReference served from the
XDS registry, and the lineage-aware Observation read.  Semantics live in :mod:`xds.phmr`.

* ``POST /fhir/$submit-document`` (issue 4): raw CDA XML or a ``Parameters`` resource -> 201 with a
  ``Parameters`` answer naming the DocumentReference, Observations and Devices; a rejected document -> 422.
* ``GET /fhir/DocumentReference/{id}`` and ``GET|POST /fhir/DocumentReference[/_search]`` (MHD ITI-67
  semantics over the registry); POST/PUT/PATCH/DELETE of DocumentReference -> 405 naming the submission
  doors; DocumentReference ``_history`` -> 405 (registry versions are ITI-57's, queried with ITI-18).
* ``GET /fhir/Binary/{id}`` (MHD ITI-68 Retrieve Document): the document behind a DocumentReference's
  ``attachment.url``, streamed in its own media type; ``Accept: application/fhir+json`` (or ``_format=json``)
  gets a FHIR ``Binary`` resource instead, for documents up to the body limit.
* ``POST /fhir`` with an MHD Provide Document Bundle (ITI-65, :mod:`xds.mhd`): registered and stored
  through the ITI-41 pipeline, answered with the ``IHE.MHD.ProvideDocumentBundleResponse``
  ``transaction-response``; any other batch or transaction Bundle goes to the FHIR store as before.
* ``GET /fhir/List/{id}`` and ``GET|POST /fhir/List[/_search]`` (MHD ITI-66): SubmissionSets and Folders
  served from the registry (:mod:`xds.mhd`); List writes -> 405 naming ITI-65 / ITI-41 / ITI-57.
* ``GET /fhir/Observation/{id}``: the ordinary read, except that a 410 for an Observation retired by
  lineage names the document that replaced its source (https://hl7.org/fhir/R4/http.html#read).

These routes are listed before the generic ``/fhir/{type}`` routes, which would otherwise match them.
"""

from __future__ import annotations

import asyncio
import base64
import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hub.api.fhir_formats import media_ranges, resource_body
from hub.api.fhir_http import FORM_TYPE, JSON_TYPES, read_body, require_media_type
from hub.api.fhir_render import json_response, resource_response
from hub.api.fhir_routes import bundle_answer, endpoint
from hub.api.services import ApiServices
from hub.core.errors import (
    AuthenticationError,
    GoneError,
    InvalidInputError,
    MethodNotAllowedError,
    NotAcceptableError,
    NotSupportedError,
)
from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.fhir import Action, RequestContext, parse_resource, read
from security import Principal
from xds import aiter_chunks
from xds.mhd import (
    is_provide_bundle,
    patient_resolver,
    provide_document_bundle,
    read_list,
    response_bundle,
    search_lists,
)
from xds.phmr import (
    DocumentSubmission,
    code_from_token,
    read_document_reference,
    refusal,
    response_parameters,
    retirement_txn,
    search_document_references,
    submission_from_parameters,
    submit,
)
from xds.services import Caller, EntryDocument, XdsService

_RAW_TYPES = frozenset({"application/xml", "text/xml"})
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FHIR_JSON = JSON_TYPES | {"json"}
_HISTORY = (
    "DocumentReference versions are registry metadata (ITI-57); query them with ITI-18 GetDocuments "
    "(POST /xds/registry)"
)


def _xds(services: ApiServices) -> XdsService:
    if services.xds is None:
        raise NotSupportedError("the XDS registry is not configured in this process", message_id="TH-XDS-OFF")
    return services.xds


def _caller(ctx: RequestContext) -> Caller:
    if not isinstance(ctx.principal, Principal):
        raise AuthenticationError("the request is not authenticated", message_id="TH-AUTH-MISSING")
    return Caller(ctx.principal, ctx.client_address)


async def _submission(request: Request, services: ApiServices) -> DocumentSubmission:
    allowed = _RAW_TYPES | JSON_TYPES
    mime = require_media_type(request, allowed, "$submit-document")
    settings = services.settings
    body = await read_body(request, settings.max_body_bytes)
    if mime in _RAW_TYPES:
        query = dict(parse_qsl(request.url.query))
        facility = query.get("facilityType")
        practice = query.get("practiceSetting")
        return DocumentSubmission(
            body,
            mime,
            code_from_token(facility) if facility else None,
            code_from_token(practice) if practice else None,
        )
    resource = parse_resource(
        body, max_depth=settings.max_json_depth, max_array_length=settings.max_array_length
    )
    return submission_from_parameters(resource)


async def _submit_document(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    xds = _xds(services)
    caller = _caller(ctx)
    outcome = await submit(xds, caller, await _submission(request, services))
    location = f"{ctx.base_url}/DocumentReference/{outcome.document_reference_id}"
    return json_response(response_parameters(outcome), 201, {"Location": location})


async def _transaction(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    """``POST [base]``: an MHD ITI-65 Provide Document Bundle, or any other Bundle for the FHIR store."""
    resource = await resource_body(request, services)
    if not is_provide_bundle(resource):
        return await bundle_answer(services, ctx, resource)
    xds = _xds(services)
    resolver = patient_resolver(services.fhir, ctx)
    outcome = await provide_document_bundle(xds.runtime, _caller(ctx), resource, resolver)
    return json_response(response_bundle(outcome))


async def _list_read(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    _xds(services)
    return json_response(await read_list(services.fhir, ctx, request.path_params["id"]))


async def _list_search(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    _xds(services)
    return json_response(await search_lists(services.fhir, ctx, await _search_params(request, services)))


async def _refuse_list_write(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    raise MethodNotAllowedError(
        "List is the registry's view of SubmissionSets and Folders: submit them with MHD ITI-65 (POST /fhir) "
        "or ITI-41/42, change them with ITI-57",
        message_id="TH-LIST-READ-ONLY",
    )


async def _search_params(request: Request, services: ApiServices) -> list[tuple[str, str]]:
    """The query of a GET search, or query + form body of a POST ``_search``."""
    params = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method != "POST":
        return params
    require_media_type(request, frozenset({FORM_TYPE}), "_search")
    body = await read_body(request, services.settings.max_body_bytes)
    try:
        return [*params, *parse_qsl(body.decode("utf-8"), keep_blank_values=True)]
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the _search form body is not valid UTF-8") from exc


async def _read(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    _xds(services)
    body = await read_document_reference(services.fhir, ctx, request.path_params["id"])
    return json_response(body, headers={"ETag": f'W/"{body["meta"]["versionId"]}"'})


async def _search(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    _xds(services)
    params = await _search_params(request, services)
    return json_response(await search_document_references(services.fhir, ctx, params))


async def _binary(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    """MHD ITI-68: the document itself (or, asked for FHIR JSON, a Binary resource carrying it)."""
    xds = _xds(services)
    resource_id = request.path_params["id"]
    if not _FHIR_ID.fullmatch(resource_id):
        raise InvalidInputError(f"{resource_id[:80]!r} is not a FHIR id", message_id="TH-REST-BAD-ID")
    wanted = _wanted_media(request)
    limit = services.settings.max_body_bytes
    document, as_resource = await xds.retrieve_entry_document(
        _caller(ctx), resource_id, lambda d: _as_binary_resource(wanted, d, limit)
    )
    if as_resource:
        return json_response(await _binary_resource(document))
    headers = {
        "Content-Length": str(document.size),
        "X-Content-Type-Options": "nosniff",  # a stored document is data, never a page to render or run
        "Content-Security-Policy": "sandbox",
    }
    if request.method == "HEAD":  # the headers only: the file is not opened
        return Response(media_type=document.mime_type, headers=headers)
    return StreamingResponse(aiter_chunks(document.open()), media_type=document.mime_type, headers=headers)


def _wanted_media(request: Request) -> list[str] | None:
    """The media types the client accepts (``_format`` first, then Accept without its ``q=0`` ranges); None
    when it names none."""
    formats = [v for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k == "_format"]
    if formats:
        return [formats[-1].split(";", 1)[0].strip().lower()]
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return None
    return [media for media, q in media_ranges(accept) if q > 0]


def _accepts(wanted: list[str], mime_type: str) -> bool:
    media = mime_type.split(";", 1)[0].strip().lower()
    return bool({media, "*/*", media.split("/", 1)[0] + "/*"}.intersection(wanted))


def _as_binary_resource(wanted: list[str] | None, document: EntryDocument, limit: int) -> bool:
    """Whether the client gets a FHIR Binary resource (else the document itself); NotAcceptableError when it
    wants neither, or a Binary resource of a document over the body limit."""
    if wanted is None or _accepts(wanted, document.mime_type):
        return False
    if not _FHIR_JSON.intersection(wanted):
        raise NotAcceptableError(
            f"Binary/{document.entry_id} is {document.mime_type}: ask for it, */* or application/fhir+json",
            message_id="TH-HTTP-ACCEPT",
        )
    if document.size > limit:
        raise NotAcceptableError(
            f"Binary/{document.entry_id} is {document.size} bytes, over the {limit}-byte limit of a FHIR "
            f"Binary resource; ask for {document.mime_type} to have it streamed",
            message_id="TH-HTTP-BINARY-TOO-LARGE",
        )
    return True


async def _binary_resource(document: EntryDocument) -> dict[str, object]:
    data = await asyncio.to_thread(b"".join, document.open())
    return {
        "resourceType": "Binary",
        "id": document.entry_id,
        "contentType": document.mime_type,
        "data": base64.b64encode(data).decode("ascii"),
    }


async def _refuse_write(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    raise refusal()


async def _refuse_history(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    raise MethodNotAllowedError(_HISTORY, message_id="TH-DOCREF-HISTORY")


async def _observation_read(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    fhir = services.fhir
    observation_id = request.path_params["id"]
    try:
        stored = await read(fhir, ctx, "Observation", observation_id)
    except GoneError as gone:
        decision = fhir.policy.check(ctx, Action.READ, "Observation")
        retirement = await fhir.db.run(
            "phmr_retirement",
            retirement_txn,
            observation_id,
            consent=decision.consent,
            patient_key=decision.patient_key,
        )
        if retirement is None:
            raise
        detail = Issue(
            IssueSeverity.INFORMATION,
            IssueType.DELETED,
            retirement.explanation(),
            message_id="TH-PHMR-LINEAGE",
        )
        raise GoneError(gone.message, issues=[*gone.issues, detail]) from gone
    return resource_response(stored, ctx.base_url)


def document_routes() -> list[Route]:
    """Routes to list BEFORE ``fhir_routes()``."""
    e = endpoint
    docs = "/fhir/DocumentReference"
    return [
        Route("/fhir", e(_transaction, Action.TRANSACTION), methods=["POST"]),
        Route("/fhir/$submit-document", e(_submit_document, Action.CREATE), methods=["POST"]),
        Route(docs + "/_search", e(_search, Action.SEARCH), methods=["POST"]),
        Route(docs + "/_history", e(_refuse_history, Action.HISTORY), methods=["GET"]),
        Route(docs + "/{id}/_history", e(_refuse_history, Action.HISTORY), methods=["GET"]),
        Route(docs + "/{id}/_history/{vid}", e(_refuse_history, Action.VREAD), methods=["GET"]),
        Route(docs + "/{id}", e(_read, Action.READ), methods=["GET"]),
        Route(docs + "/{id}", e(_refuse_write, Action.UPDATE), methods=["PUT", "PATCH", "DELETE"]),
        Route(docs, e(_search, Action.SEARCH), methods=["GET"]),
        Route(docs, e(_refuse_write, Action.CREATE), methods=["POST"]),
        Route("/fhir/List/_search", e(_list_search, Action.SEARCH), methods=["POST"]),
        Route("/fhir/List/{id}", e(_list_read, Action.READ), methods=["GET"]),
        Route("/fhir/List/{id}", e(_refuse_list_write, Action.UPDATE), methods=["PUT", "PATCH", "DELETE"]),
        Route("/fhir/List", e(_list_search, Action.SEARCH), methods=["GET"]),
        Route("/fhir/List", e(_refuse_list_write, Action.CREATE), methods=["POST"]),
        Route("/fhir/Observation/{id}", e(_observation_read, Action.READ), methods=["GET"]),
        Route("/fhir/Binary/{id}", e(_binary, Action.READ, raw=True), methods=["GET"]),
    ]


__all__ = ["document_routes"]
