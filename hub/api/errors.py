"""The one place where error categories become transport answers: HTTP status + OperationOutcome for FHIR
(https://hl7.org/fhir/R4/http.html#Status-Codes), and, for the SOAP doors, a SOAP Fault or RegistryResponse.

Anything that is not a HubError is a bug: it is logged with its traceback and
answered with a 500 OperationOutcome that reveals nothing internal.
"""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from hub.core.errors import ErrorCategory, HubError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome

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
