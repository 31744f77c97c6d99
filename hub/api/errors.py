"""The one place where error categories become transport answers: HTTP status + OperationOutcome for FHIR
(https://hl7.org/fhir/R4/http.html#Status-Codes), and, for the SOAP doors, a SOAP Fault or RegistryResponse.

Anything that is not a HubError is a bug: it is logged with its traceback and
answered with a 500 OperationOutcome that reveals nothing internal.
"""

from __future__ import annotations

import logging

import orjson
from lxml import etree
from starlette.responses import Response

from hub.core.errors import ErrorCategory, HubError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from xds import Action as XdsAction
from xds import (
    FaultCode,
    SoapFaultError,
    XdsError,
    adhoc_query_response_element,
    build_envelope,
    envelope_bytes,
    fault_envelope,
    mtom_response,
    registry_response_element,
    retrieve_response,
)
from xds import status_for as status_for_errors

log = logging.getLogger("telehub.api")

FHIR_JSON = "application/fhir+json; charset=utf-8"

HTTP_STATUS: dict[ErrorCategory, int] = {
    ErrorCategory.INVALID: 400,
    ErrorCategory.PROCESSABLE: 422,
    ErrorCategory.NOT_FOUND: 404,
    ErrorCategory.GONE: 410,
    ErrorCategory.CONFLICT: 409,
    ErrorCategory.PRECONDITION_FAILED: 412,
    ErrorCategory.TOO_LARGE: 413,
    ErrorCategory.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCategory.NOT_ACCEPTABLE: 406,
    ErrorCategory.METHOD_NOT_ALLOWED: 405,
    ErrorCategory.NOT_SUPPORTED: 501,
    ErrorCategory.UNAUTHENTICATED: 401,
    ErrorCategory.FORBIDDEN: 403,
    ErrorCategory.CONFIGURATION: 500,
    ErrorCategory.STORAGE: 503,
}


def status_for(error: HubError) -> int:
    return HTTP_STATUS[error.category]


def fhir_error_response(error: HubError) -> Response:
    headers = {}
    if error.category is ErrorCategory.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = 'Bearer realm="telehub", error="invalid_token"'
    return Response(
        orjson.dumps(operation_outcome(error.issues)),
        status_code=status_for(error),
        media_type=FHIR_JSON,
        headers=headers,
    )


def fhir_unexpected_response(exc: BaseException) -> Response:
    log.exception("unexpected error while handling a FHIR request", exc_info=exc)
    issue = Issue(
        IssueSeverity.FATAL,
        IssueType.EXCEPTION,
        "internal server error; the request was not applied (see the server log)",
        message_id="TH-INTERNAL",
    )
    return Response(orjson.dumps(operation_outcome([issue])), status_code=500, media_type=FHIR_JSON)


# ---------------------------------------------------------------------------------------------- SOAP doors
# XDS.b (IHE ITI TF-2x Appendix V; SOAP 1.2 Part 1 §5.4, Part 2 §7.5.2.2): an XdsError is a transaction
# outcome, answered with HTTP 200 and the transaction's response body (RegistryResponse, AdhocQueryResponse
# or RetrieveDocumentSetResponse) with status Failure and the RegistryErrorList.  Everything else becomes a
# SOAP Fault: env:Sender (HTTP 400; 401/403/413 for authentication, authorisation and size) for what the
# client did, env:Receiver (HTTP 500/503) for what the hub failed to do.

SOAP_XML = "application/soap+xml; charset=UTF-8"
_WSSE_FAILED = "wsse:FailedAuthentication"  # WS-Security 1.1 §12 fault subcode
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_FAULT_SUBCODES: dict[ErrorCategory, str] = {
    ErrorCategory.UNAUTHENTICATED: _WSSE_FAILED,
    ErrorCategory.FORBIDDEN: _WSSE_FAILED,
}
_SENDER_HTTP: dict[ErrorCategory, int] = {
    ErrorCategory.UNAUTHENTICATED: 401,
    ErrorCategory.FORBIDDEN: 403,
    ErrorCategory.TOO_LARGE: 413,
}
_RECEIVER = (ErrorCategory.STORAGE, ErrorCategory.CONFIGURATION)


def soap_response(envelope: bytes, *, action: str | None, mtom: bool, status_code: int = 200) -> Response:
    """A SOAP 1.2 answer, MTOM-framed (one root part) when the request was MTOM (ITI TF-2x V.3.6)."""
    if mtom:
        framed = mtom_response(envelope, [], action=action)
        return Response(framed.body(), status_code=status_code, media_type=framed.content_type)
    media = f'{SOAP_XML}; action="{action}"' if action else SOAP_XML
    return Response(envelope, status_code=status_code, media_type=media)


def _fault(reason: str, code: FaultCode, subcode: str | None, relates_to: str | None) -> bytes:
    envelope = fault_envelope(reason, code=code, subcode=subcode, relates_to=relates_to)
    if subcode and subcode.startswith("wsse:"):
        # the subcode is a QName: its prefix must be declared (lxml cannot add one to an existing element)
        nsmap = {prefix: uri for prefix, uri in envelope.nsmap.items() if prefix}
        declared = etree.Element(envelope.tag, nsmap={**nsmap, "wsse": WSSE})
        declared.extend(list(envelope))
        envelope = declared
    return envelope_bytes(envelope)


def soap_fault_response(error: HubError, *, relates_to: str | None = None, mtom: bool = False) -> Response:
    """A SOAP Fault for anything that is not a transaction outcome."""
    if isinstance(error, SoapFaultError):
        code, subcode = error.code, error.subcode
    elif error.category in _RECEIVER:
        code, subcode = FaultCode.RECEIVER, None
    else:
        code, subcode = FaultCode.SENDER, _FAULT_SUBCODES.get(error.category)
    if code is FaultCode.RECEIVER:
        status = HTTP_STATUS[error.category] if error.category in _RECEIVER else 500
    else:
        status = _SENDER_HTTP.get(error.category, 400)
    return soap_response(
        _fault(error.message, code, subcode, relates_to), action=None, mtom=mtom, status_code=status
    )


def soap_unexpected_response(
    exc: BaseException, *, relates_to: str | None = None, mtom: bool = False
) -> Response:
    log.exception("unexpected error while handling a SOAP request", exc_info=exc)
    reason = "internal server error; the request was not applied (see the server log)"
    return soap_response(
        _fault(reason, FaultCode.RECEIVER, None, relates_to), action=None, mtom=mtom, status_code=500
    )


def xds_failure_response(
    error: XdsError, *, action: XdsAction, relates_to: str | None, mtom: bool
) -> Response:
    """The Failure outcome of an XDS transaction, in the body its request action answers with."""
    errors = list(error.errors)
    if action is XdsAction.ITI_43:
        framed = retrieve_response([], errors, relates_to=relates_to)
        return Response(framed.body(), media_type=framed.content_type)
    status = status_for_errors(errors)
    if action is XdsAction.ITI_18:
        body = adhoc_query_response_element(status, errors=errors)
    else:
        body = registry_response_element(status, errors)
    envelope = build_envelope(action.response, body, relates_to=relates_to)
    return soap_response(envelope_bytes(envelope), action=action.response.value, mtom=mtom)
