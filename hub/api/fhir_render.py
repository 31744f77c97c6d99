"""Rendering FHIR answers: stored bytes as is, server-built Bundles once, and the headers of
https://hl7.org/fhir/R4/http.html (ETag, Last-Modified, Location, Prefer: return)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from hub.api.errors import FHIR_JSON
from hub.core.instants import http_date
from hub.core.issues import Issue, operation_outcome
from hub.fhir import ReturnPreference, StoredResource, WriteOutcome


def version_headers(stored: StoredResource, base_url: str, *, location: bool) -> dict[str, str]:
    headers = {"ETag": f'W/"{stored.version}"', "Last-Modified": http_date(stored.last_updated)}
    if location:
        headers["Location"] = f"{base_url}/{stored.res_type}/{stored.res_id}/_history/{stored.version}"
    return headers


def resource_response(stored: StoredResource, base_url: str) -> Response:
    assert stored.data is not None
    return Response(
        stored.data, media_type=FHIR_JSON, headers=version_headers(stored, base_url, location=False)
    )


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON, headers=headers)


def write_response(outcome: WriteOutcome, base_url: str, preference: ReturnPreference) -> Response:
    stored = outcome.stored
    status = 201 if outcome.created else 200
    headers = version_headers(stored, base_url, location=outcome.created or outcome.matched)
    return preferred_body(stored.data, outcome.warnings, preference, status, headers)


def preferred_body(
    data: bytes | None,
    warnings: tuple[Issue, ...],
    preference: ReturnPreference,
    status: int,
    headers: dict[str, str],
) -> Response:
    if preference is ReturnPreference.MINIMAL:
        return Response(b"", status_code=status, headers=headers)
    if preference is ReturnPreference.OPERATION_OUTCOME or data is None:
        return json_response(operation_outcome(warnings), status, headers)
    return Response(data, status_code=status, media_type=FHIR_JSON, headers=headers)
