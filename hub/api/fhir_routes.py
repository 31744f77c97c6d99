"""The FHIR R4 REST door at ``/fhir`` (https://hl7.org/fhir/R4/http.html): routing only; semantics live in
``hub.fhir.interactions``.  Every endpoint speaks FHIR JSON and, with the core definitions installed, FHIR
XML (``hub.api.fhir_formats``); ``$validate`` is https://hl7.org/fhir/R4/resource-operation-validate.html."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.api.errors import fhir_error_response, fhir_unexpected_response
from hub.api.fhir_formats import (
    CONTROL_PARAMETERS,
    FhirFormat,
    negotiate,
    read_resource_body,
    render,
    resource_body,
    xml_codec,
)
from hub.api.fhir_http import (
    FORM_TYPE,
    PATCH_TYPES,
    read_body,
    request_context,
    require_media_type,
)
from hub.api.fhir_render import json_response, preferred_body, resource_response, write_response
from hub.api.services import ApiServices
from hub.core.errors import ErrorCategory, HubError, InvalidInputError
from hub.core.issues import Issue
from hub.fhir import (
    Action,
    RequestContext,
    capability_statement,
    control_character,
    create,
    delete,
    history,
    parse_json,
    patch,
    process_bundle,
    read,
    read_audit_event,
    refuse_write,
    search_audit_events,
    search_type,
    update,
    validate_operation,
    validate_request,
    vread,
)
from xds.mhd import capability_entry as mhd_list_entry
from xds.phmr import SUBMIT_DOCUMENT_OPERATION, capability_entries

MHD_CAPABILITIES = "https://profiles.ihe.net/ITI/MHD/CapabilityStatement"
MHD_ACTORS = ("DocumentRecipient", "DocumentResponder")  # ITI-65; ITI-66, ITI-67, ITI-68

Handler = Callable[[Request, ApiServices, RequestContext], Awaitable[Response]]


def _services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


def endpoint(
    handler: Handler, action: Action, *, public: bool = False, raw: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: authenticate (unless ``public``: the CapabilityStatement is readable by anyone, as
    SMART clients need it before they have a token), build the context, map every error exactly once, audit
    every failure.  A ``raw`` handler answers in a media type of its own (a document): it negotiates itself,
    and its errors are FHIR JSON."""

    async def run(request: Request) -> Response:
        services = _services(request)
        ctx = request_context(request, services.settings.base_url, None)
        codec = xml_codec(services)
        fmt = FhirFormat.JSON
        try:
            fmt = FhirFormat.JSON if raw else negotiate(request, codec is not None)
            _refuse_control_characters(request)
            if not public:
                principal = services.authenticator.authenticate_headers(request.headers.items())
                ctx = replace(ctx, principal=principal)
            response = await handler(request, services, ctx)
        except HubError as error:
            services.fhir.audit.record_failure(
                ctx, action, request.path_params.get("type"), error.category, error.message
            )
            response = fhir_error_response(error)
        except Exception as exc:
            services.fhir.audit.record_failure(
                ctx, action, request.path_params.get("type"), ErrorCategory.STORAGE, "internal error"
            )
            response = fhir_unexpected_response(exc)
        return render(response, fmt, codec)

    return run


def _refuse_control_characters(request: Request) -> None:
    """A URL whose path or query decodes to a control character (``%00``…) names nothing FHIR allows: 400,
    before any of it reaches the database (PostgreSQL text cannot even hold U+0000)."""
    parts = [*map(str, request.path_params.values()), *(k + v for k, v in _query(request))]
    for part in parts:
        if (control := control_character(part)) is not None:
            raise InvalidInputError(
                f"the request URL contains the control character {control}",
                message_id="TH-REST-CONTROL-CHARACTER",
            )


def _query(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query, keep_blank_values=True)


def _criteria(request: Request) -> list[tuple[str, str]]:
    """The query without ``_format``/``_pretty`` (the HTTP layer's business, not the interaction's)."""
    return [(k, v) for k, v in _query(request) if k not in CONTROL_PARAMETERS]


async def _metadata(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    statement = capability_statement(services.fhir, ctx, services.validation)
    if services.xds is not None:  # the registry view: DocumentReference (ITI-67) and Binary (ITI-68)
        rest = statement["rest"][0]
        rest["resource"].extend([*capability_entries(), mhd_list_entry()])
        rest["resource"].sort(key=lambda entry: entry["type"])
        statement["instantiates"] = [f"{MHD_CAPABILITIES}/IHE.MHD.{actor}" for actor in MHD_ACTORS]
        rest.setdefault("operation", []).append(SUBMIT_DOCUMENT_OPERATION)
        for interaction in rest["interaction"]:
            if interaction["code"] == "transaction":
                interaction["documentation"] = (
                    "Also MHD ITI-65 Provide Document Bundle: a transaction Bundle with a SubmissionSet List "
                    "is registered in the XDS registry and repository (Document Recipient)"
                )
    return json_response(statement)


async def _validate(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    """``$validate`` at system, type or instance level; a GET (or an empty POST) names a stored instance."""
    p = request.path_params
    body: dict[str, Any] | None = None
    issues: tuple[Issue, ...] = ()
    h = request.headers
    if request.method == "POST" and (h.get("content-length", "0") != "0" or "transfer-encoding" in h):
        body, issues = await read_resource_body(request, services, "$validate")
    wanted = validate_request(body, query=_criteria(request), read_issues=issues)
    outcome = await validate_operation(services.fhir, ctx, p.get("type"), p.get("id"), wanted)
    return json_response(outcome)


async def _read(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    p = request.path_params
    stored = await read(services.fhir, ctx, p["type"], p["id"])
    return resource_response(stored, ctx.base_url)


async def _vread(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    p = request.path_params
    stored = await vread(services.fhir, ctx, p["type"], p["id"], p["vid"])
    return resource_response(stored, ctx.base_url)


async def _create(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    resource = await resource_body(request, services)
    outcome = await create(
        services.fhir,
        ctx,
        request.path_params["type"],
        resource,
        if_none_exist=request.headers.get("if-none-exist"),
    )
    return write_response(outcome, ctx.base_url, ctx.return_preference)


async def _update(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    resource = await resource_body(request, services)
    p = request.path_params
    outcome = await update(
        services.fhir, ctx, p["type"], p["id"], resource, if_match=request.headers.get("if-match")
    )
    return write_response(outcome, ctx.base_url, ctx.return_preference)


async def _patch(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    require_media_type(request, PATCH_TYPES, "PATCH")
    s = services.settings
    document = parse_json(
        await read_body(request, s.max_body_bytes),
        max_depth=s.max_json_depth,
        max_array_length=s.max_array_length,
    )
    p = request.path_params
    outcome = await patch(
        services.fhir, ctx, p["type"], p["id"], document, if_match=request.headers.get("if-match")
    )
    return write_response(outcome, ctx.base_url, ctx.return_preference)


async def _delete(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    p = request.path_params
    version = await delete(services.fhir, ctx, p["type"], p["id"])
    headers = {"ETag": f'W/"{version}"'} if version is not None else {}
    return Response(b"", status_code=204, headers=headers)


async def _search_get(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    outcome = await search_type(services.fhir, ctx, request.path_params["type"], _query(request))
    return json_response(outcome.body)


async def _search_post(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    require_media_type(request, frozenset({FORM_TYPE}), "_search")
    body = await read_body(request, services.settings.max_body_bytes)
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        from hub.core.errors import InvalidInputError

        raise InvalidInputError("the _search form body is not valid UTF-8") from exc
    outcome = await search_type(services.fhir, ctx, request.path_params["type"], [*_query(request), *form])
    return json_response(outcome.body)


async def _history(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    p = request.path_params
    outcome = await history(services.fhir, ctx, p.get("type"), p.get("id"), _criteria(request))
    return json_response(outcome.body)


async def bundle_answer(services: ApiServices, ctx: RequestContext, resource: dict[str, Any]) -> Response:
    """A batch or transaction Bundle processed by the FHIR store (the answer to ``POST [base]``)."""
    outcome = await process_bundle(services.fhir, ctx, resource)
    if ctx.return_preference.value == "minimal":
        return preferred_body(None, (), ctx.return_preference, 200, {})
    return json_response(outcome.body)


async def _audit_read(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    return json_response(await read_audit_event(services.fhir, ctx, request.path_params["id"]))


async def _audit_search(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    return json_response(await search_audit_events(services.fhir, ctx, _criteria(request)))


async def _audit_write(request: Request, services: ApiServices, ctx: RequestContext) -> Response:
    refuse_write()
    raise AssertionError("unreachable")


def fhir_routes() -> list[Route]:
    e = endpoint
    audit = "/fhir/AuditEvent"
    return [
        Route("/fhir/metadata", e(_metadata, Action.CAPABILITIES, public=True), methods=["GET"]),
        Route("/fhir/$validate", e(_validate, Action.VALIDATE), methods=["POST"]),
        Route("/fhir/{type}/$validate", e(_validate, Action.VALIDATE), methods=["POST"]),
        Route("/fhir/{type}/{id}/$validate", e(_validate, Action.VALIDATE), methods=["GET", "POST"]),
        # POST /fhir (batch / transaction) is document_routes': an MHD ITI-65 bundle goes to the registry
        Route("/fhir/_history", e(_history, Action.HISTORY), methods=["GET"]),
        Route(audit, e(_audit_search, Action.SEARCH), methods=["GET"]),
        Route(audit, e(_audit_write, Action.CREATE), methods=["POST"]),
        Route(audit + "/{id}", e(_audit_read, Action.READ), methods=["GET"]),
        Route(audit + "/{id}", e(_audit_write, Action.UPDATE), methods=["PUT", "PATCH", "DELETE"]),
        Route("/fhir/{type}/_search", e(_search_post, Action.SEARCH), methods=["POST"]),
        Route("/fhir/{type}/_history", e(_history, Action.HISTORY), methods=["GET"]),
        Route("/fhir/{type}/{id}/_history/{vid}", e(_vread, Action.VREAD), methods=["GET"]),
        Route("/fhir/{type}/{id}/_history", e(_history, Action.HISTORY), methods=["GET"]),
        Route("/fhir/{type}/{id}", e(_read, Action.READ), methods=["GET"]),
        Route("/fhir/{type}/{id}", e(_update, Action.UPDATE), methods=["PUT"]),
        Route("/fhir/{type}/{id}", e(_patch, Action.PATCH), methods=["PATCH"]),
        Route("/fhir/{type}/{id}", e(_delete, Action.DELETE), methods=["DELETE"]),
        Route("/fhir/{type}", e(_search_get, Action.SEARCH), methods=["GET"]),
        Route("/fhir/{type}", e(_create, Action.CREATE), methods=["POST"]),
    ]
