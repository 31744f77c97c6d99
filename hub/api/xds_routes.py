"""The XDS.b SOAP doors: ``POST /xds/registry`` (ITI-42, ITI-18, ITI-57, ITI-62) and ``POST /xds/repository``
(ITI-41, ITI-43); a GET on either answers a short status page.

IHE ITI TF-2x Appendix V (SOAP 1.2 + WS-Addressing; the ``wsa:Action`` picks the transaction, a wrong door
or action is a ``wsa:ActionNotSupported`` Sender fault) and V.3.6 (MTOM/XOP: multipart requests are
parsed while they stream in, so a large document is spooled to disk, never held in memory; ITI-43
answers stream each document from the blob store).  The ID card in ``wsse:Security`` is verified by
``security.Authenticator`` (DGWS/SOSI SAML); a failure is a SOAP Fault and an audit record.  Error
mapping lives in :mod:`hub.api.errors` only.
"""

from __future__ import annotations

from lxml import etree
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from hub.api.errors import soap_fault_response, soap_response, soap_unexpected_response, xds_failure_response
from hub.api.fhir_http import media_type, read_body
from hub.core.errors import AuthenticationError, HubError, NotSupportedError
from hub.core.xml_safety import parse_xml
from security import Door, Principal
from xds import (
    REGISTRY_ACTIONS,
    REPOSITORY_ACTIONS,
    Action,
    MtomMessage,
    SoapEnvelope,
    SoapEnvelopeError,
    XdsError,
    aiter_chunks,
    aread_mtom,
    build_envelope,
    envelope_bytes,
    parse_envelope,
    parse_provide_and_register,
    parse_remove_objects_request,
    parse_retrieve_request,
    parse_submit_objects_request,
    registry_response_element,
    retrieve_response,
    status_for,
)
from xds.services import Caller, XdsService
from xds.stored_queries import parse_adhoc_query_request

MULTIPART = "multipart/related"
# Inline (base64) documents make a plain SOAP body up to 4/3 of the document; the envelope adds a little.
_ENVELOPE_OVERHEAD = 1024 * 1024


def _xds(request: Request) -> XdsService:
    service: XdsService | None = request.app.state.services.xds
    if service is None:
        raise NotSupportedError("the XDS.b doors are not configured in this process", message_id="TH-XDS-OFF")
    return service


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _body_limit(xds: XdsService) -> int:
    return xds.settings.xds.max_document_bytes * 4 // 3 + _ENVELOPE_OVERHEAD


async def _read_message(request: Request, xds: XdsService) -> tuple[bytes, MtomMessage | None]:
    """The SOAP envelope bytes, and the MTOM message when the request is multipart (caller closes it)."""
    if media_type(request) == MULTIPART:
        content_type = request.headers.get("content-type", "")
        limit = xds.settings.xds.max_document_bytes
        mtom = await aread_mtom(content_type, request.stream(), max_part_bytes=limit)
        return mtom.root.read_bytes(), mtom
    return await read_body(request, _body_limit(xds)), None


def _action(envelope: SoapEnvelope, allowed: frozenset[Action], door: str) -> Action:
    other = REPOSITORY_ACTIONS if allowed is REGISTRY_ACTIONS else REGISTRY_ACTIONS
    if any(a.value == envelope.action for a in other):
        right = "/xds/repository" if door == "registry" else "/xds/registry"
        raise SoapEnvelopeError(
            f"action {envelope.action!r} is not served by the {door} door; send it to {right}",
            subcode="wsa:ActionNotSupported",
            message_id="SOAP-WRONG-DOOR",
        )
    return envelope.require_action(allowed)


async def _authenticate(xds: XdsService, request: Request, root: etree._Element) -> Principal:
    try:
        principal, claim = xds.authenticator.authenticate_id_card_claim(
            root, request.headers.items(), door=Door.XDS
        )
        if claim is not None:
            await xds.claim_replay(claim)  # other workers, and this one before a restart
        return principal
    except AuthenticationError as error:
        xds.record_login_failure(error.message, _client(request))
        raise


def _ok(action: Action, body: etree._Element, relates_to: str | None, mtom: bool) -> Response:
    envelope = build_envelope(action.response, body, relates_to=relates_to)
    return soap_response(envelope_bytes(envelope), action=action.response.value, mtom=mtom)


async def _dispatch(
    xds: XdsService, caller: Caller, action: Action, envelope: SoapEnvelope, mtom: MtomMessage | None
) -> Response:
    framed = mtom is not None
    relates_to = envelope.message_id
    body = envelope.body
    if action is Action.ITI_18:
        answer = await xds.stored_query(caller, parse_adhoc_query_request(body))
        return _ok(action, answer.response, relates_to, framed)
    if action is Action.ITI_43:
        found = await xds.retrieve(caller, parse_retrieve_request(body))
        response = retrieve_response(found.documents, found.errors, relates_to=relates_to)
        headers = (
            {"content-length": str(response.content_length)} if response.content_length is not None else {}
        )
        return StreamingResponse(
            aiter_chunks(response.chunks()), media_type=response.content_type, headers=headers
        )
    if action is Action.ITI_62:
        await xds.delete(caller, parse_remove_objects_request(body))
        return _ok(action, registry_response_element(status_for(())), relates_to, framed)
    if action is Action.ITI_41:
        provided = parse_provide_and_register(body, mtom)
        try:
            result = await xds.provide_and_register(caller, provided)
        finally:
            for part in provided.documents.values():
                part.close()
    elif action is Action.ITI_57:
        result = await xds.update(caller, parse_submit_objects_request(body))
    else:
        result = await xds.register(caller, parse_submit_objects_request(body))
    warnings = list(result.warnings)
    return _ok(action, registry_response_element(status_for(warnings), warnings), relates_to, framed)


async def _door(request: Request, allowed: frozenset[Action], door: str) -> Response:
    framed = media_type(request) == MULTIPART
    mtom: MtomMessage | None = None
    relates_to: str | None = None
    action: Action | None = None
    try:
        xds = _xds(request)
        data, mtom = await _read_message(request, xds)
        root = parse_xml(data, max_bytes=_body_limit(xds))
        envelope = parse_envelope(root)
        relates_to = envelope.message_id
        action = _action(envelope, allowed, door)
        principal = await _authenticate(xds, request, root)
        return await _dispatch(xds, Caller(principal, _client(request)), action, envelope, mtom)
    except XdsError as error:
        if action is None:
            return soap_fault_response(error, relates_to=relates_to, mtom=framed)
        return xds_failure_response(error, action=action, relates_to=relates_to, mtom=framed)
    except HubError as error:
        return soap_fault_response(error, relates_to=relates_to, mtom=framed)
    except Exception as exc:
        return soap_unexpected_response(exc, relates_to=relates_to, mtom=framed)
    finally:
        if mtom is not None:
            mtom.close()


async def registry_door(request: Request) -> Response:
    return await _door(request, REGISTRY_ACTIONS, "registry")


async def repository_door(request: Request) -> Response:
    return await _door(request, REPOSITORY_ACTIONS, "repository")


async def status_page(request: Request) -> Response:
    service: XdsService | None = request.app.state.services.xds
    if service is None:
        return HTMLResponse("<p>The XDS.b doors are not configured in this process.</p>", status_code=404)
    xds = service.settings.xds
    registry = request.url.path.rstrip("/").endswith("registry")
    actions = sorted(a.value for a in (REGISTRY_ACTIONS if registry else REPOSITORY_ACTIONS))
    items = "".join(f"<li><code>{a}</code></li>" for a in actions)
    title = "XDS.b Document Registry" if registry else "XDS.b Document Repository"
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>telehub {title}</title></head><body>"
        f"<h1>telehub {title}</h1><p>POST SOAP 1.2 (plain or MTOM/XOP) with one of these WS-Addressing "
        f"actions:</p><ul>{items}</ul><p>homeCommunityId <code>{xds.home_community_id}</code>, "
        f"repositoryUniqueId <code>{xds.repository_unique_id}</code>, registry "
        f"<code>{xds.registry_unique_id}</code>.</p></body></html>"
    )
    return HTMLResponse(page)


def xds_routes() -> list[BaseRoute]:
    return [
        Route("/xds/registry", registry_door, methods=["POST"]),
        Route("/xds/registry", status_page, methods=["GET"]),
        Route("/xds/repository", repository_door, methods=["POST"]),
        Route("/xds/repository", status_page, methods=["GET"]),
    ]
