"""HTTP details of the FHIR door: bounded body reading, Content-Type checks, Prefer parsing, base URL.

https://hl7.org/fhir/R4/http.html#mime-type and #ops (Prefer).
"""

from __future__ import annotations

import re

from starlette.requests import Request

from hub.core.errors import PayloadTooLargeError, UnsupportedMediaTypeError
from hub.fhir import Handling, RequestContext, ReturnPreference

JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir"})
XML_TYPES = frozenset({"application/fhir+xml", "application/xml", "text/xml", "application/xml+fhir"})
PATCH_TYPES = frozenset({"application/json-patch+json"})
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(
            f"the request body of {declared} bytes exceeds the limit of {limit} bytes",
            message_id="TH-HTTP-TOO-LARGE",
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(
                f"the request body exceeds the limit of {limit} bytes", message_id="TH-HTTP-TOO-LARGE"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def require_media_type(request: Request, allowed: frozenset[str], what: str) -> str:
    mt = media_type(request)
    if mt not in allowed:
        shown = mt or "none"
        raise UnsupportedMediaTypeError(
            f"Content-Type {shown!r} is not accepted for {what}; use one of: " + ", ".join(sorted(allowed)),
            message_id="TH-HTTP-CONTENT-TYPE",
        )
    return mt


def parse_prefer(header: str | None) -> tuple[ReturnPreference, Handling]:
    ret, handling = ReturnPreference.REPRESENTATION, Handling.LENIENT
    for part in re.split(r"[;,]", header or ""):
        key, _, value = part.strip().partition("=")
        value = value.strip().strip('"')
        if key.strip() == "return":
            for pref in ReturnPreference:
                if pref.value == value:
                    ret = pref
        elif key.strip() == "handling" and value in ("strict", "lenient"):
            handling = Handling(value)
    return ret, handling


def base_url(request: Request, configured: str | None) -> str:
    if configured:
        return configured.rstrip("/") + "/fhir"
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}/fhir"


def request_context(
    request: Request, configured_base: str | None, principal: object | None
) -> RequestContext:
    ret, handling = parse_prefer(request.headers.get("prefer"))
    client = request.client.host if request.client else ""
    return RequestContext(
        base_url=base_url(request, configured_base),
        principal=principal,
        return_preference=ret,
        handling=handling,
        request_id=request.headers.get("x-request-id", ""),
        client_address=client,
    )
