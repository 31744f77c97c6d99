"""FHIR JSON and XML on every FHIR endpoint: content negotiation, XML request bodies, XML answers.

https://hl7.org/fhir/R4/http.html#mime-type and https://hl7.org/fhir/R4/formats.html: the answer's
format comes from ``_format`` (``json``, ``xml`` or a FHIR media type), else from ``Accept`` (media ranges
with ``q``; ties and wildcards go to JSON), else JSON; ``Accept`` naming only formats telehub cannot
produce is 406.  Request bodies are read by ``Content-Type``.  FHIR XML (``profiles.fhir_xml``) is driven
by the base definitions, so without ``hl7.fhir.r4.core`` an XML request body is 415 and an XML-only
answer is 406, both with an OperationOutcome naming the package to install.

An XML body becomes the same JSON object model a JSON body does (it is written to JSON text and read
back through ``hub.fhir.parse_resource``, with the same depth and array limits), so every interaction
behind it is format-blind.  Stored JSON is still served as is to JSON clients; XML answers are
rendered from it per request, Bundles and OperationOutcomes included.
"""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from hub.api.errors import fhir_error_response
from hub.api.fhir_http import JSON_TYPES, XML_TYPES, media_type, read_body
from hub.api.services import ApiServices
from hub.core.errors import HubError, InvalidInputError, NotAcceptableError, UnsupportedMediaTypeError
from hub.core.issues import Issue, IssueSeverity, IssueType, has_errors
from hub.fhir import parse_resource
from profiles.fhir_xml import FhirXmlCodec, dump_json, load_json

FHIR_XML = "application/fhir+xml; charset=utf-8"
NEEDS_CORE = (
    "FHIR XML needs the base FHIR R4 definitions, which are not installed: install the package "
    "hl7.fhir.r4.core#4.0.1 with `telehub packages install hl7.fhir.r4.core-4.0.1.tgz` "
    "(or list it in TELEHUB_VALIDATION__PACKAGES) and restart"
)
CONTROL_PARAMETERS = frozenset({"_format", "_pretty"})


class FhirFormat(enum.Enum):
    JSON = "json"
    XML = "xml"


_FORMAT_PARAMETER: dict[str, FhirFormat] = {
    "json": FhirFormat.JSON,
    **{t: FhirFormat.JSON for t in JSON_TYPES},
    "xml": FhirFormat.XML,
    **{t: FhirFormat.XML for t in XML_TYPES},
}


def xml_codec(services: ApiServices) -> FhirXmlCodec | None:
    return services.validation.xml_codec() if services.validation is not None else None


def negotiate(request: Request, xml_available: bool) -> FhirFormat:
    """The format of the answer; raises NotAcceptableError (406) when no producible format is wanted."""
    wanted = [v for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k == "_format"]
    if wanted:
        value = wanted[-1].split(";", 1)[0].strip().lower()
        chosen = _FORMAT_PARAMETER.get(value)
        if chosen is None:
            raise NotAcceptableError(
                f"_format {wanted[-1]!r} is not supported; use json, xml or a FHIR media type",
                expression="_format",
                message_id="TH-HTTP-FORMAT",
            )
        if chosen is FhirFormat.XML and not xml_available:
            raise NotAcceptableError(NEEDS_CORE, message_id="TH-HTTP-XML-NO-CORE")
        return chosen
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return FhirFormat.JSON
    json_q, xml_q = _qualities(accept)
    if xml_q > json_q and xml_available:
        return FhirFormat.XML
    if json_q > 0:
        return FhirFormat.JSON
    if xml_q > 0:
        raise NotAcceptableError(NEEDS_CORE, message_id="TH-HTTP-XML-NO-CORE")
    raise NotAcceptableError(
        f"Accept {accept!r} names no format telehub produces; use application/fhir+json or "
        "application/fhir+xml",
        message_id="TH-HTTP-ACCEPT",
    )


def media_ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header, lower-cased, each with its ``q`` (RFC 9110 §12.5.1; a malformed
    ``q`` counts as 0, i.e. "not acceptable")."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _qualities(accept: str) -> tuple[float, float]:
    """The best ``q`` that ``accept`` gives JSON and XML."""
    json_q = xml_q = 0.0
    for media, q in media_ranges(accept):
        if media in JSON_TYPES or media in ("*/*", "application/*"):
            json_q = max(json_q, q)
        if media in XML_TYPES or media in ("*/*", "application/*", "text/*"):
            xml_q = max(xml_q, q)
    return json_q, xml_q


async def read_resource_body(
    request: Request, services: ApiServices, what: str
) -> tuple[dict[str, Any], tuple[Issue, ...]]:
    """The resource in a JSON or XML body, and the non-fatal issues met reading XML."""
    mt = media_type(request)
    s = services.settings
    if mt in JSON_TYPES:
        body = await read_body(request, s.max_body_bytes)
        return parse_resource(body, max_depth=s.max_json_depth, max_array_length=s.max_array_length), ()
    if mt not in XML_TYPES:
        shown = mt or "none"
        raise UnsupportedMediaTypeError(
            f"Content-Type {shown!r} is not accepted for {what}; use one of: "
            + ", ".join(sorted(JSON_TYPES | XML_TYPES)),
            message_id="TH-HTTP-CONTENT-TYPE",
        )
    codec = xml_codec(services)
    if codec is None:
        raise UnsupportedMediaTypeError(NEEDS_CORE, message_id="TH-HTTP-XML-NO-CORE")
    body = await read_body(request, s.max_body_bytes)
    result = codec.read(body)  # unsafe or malformed XML raises a 400 carrying line and column
    if result.resource is None:
        raise InvalidInputError("the body holds no FHIR XML resource", issues=result.issues)
    try:
        as_json = dump_json(result.resource)
    except HubError as exc:
        raise InvalidInputError("the FHIR XML resource has no JSON form", issues=exc.issues) from exc
    resource = parse_resource(as_json, max_depth=s.max_json_depth, max_array_length=s.max_array_length)
    return resource, result.issues


async def resource_body(
    request: Request, services: ApiServices, what: str = "a FHIR resource"
) -> dict[str, Any]:
    """A resource to store: any error met reading XML refuses the request (400, with line numbers)."""
    resource, issues = await read_resource_body(request, services, what)
    if has_errors(issues):
        raise InvalidInputError("the FHIR XML body is not valid FHIR", issues=issues)
    return resource


def render(response: Response, fmt: FhirFormat, codec: FhirXmlCodec | None) -> Response:
    """``response`` in the negotiated format (FHIR JSON bodies become FHIR XML when XML was asked for)."""
    if fmt is FhirFormat.JSON or codec is None or not response.body:
        return response
    if not (response.media_type or "").startswith("application/fhir+json"):
        return response
    try:
        xml = codec.serialise(load_json(bytes(response.body)))
    except HubError as exc:
        message = "the answer cannot be written as FHIR XML; ask for application/fhir+json"
        first = Issue(
            IssueSeverity.ERROR, IssueType.NOT_SUPPORTED, message, message_id="TH-HTTP-XML-UNWRITABLE"
        )
        return fhir_error_response(NotAcceptableError(message, issues=(first, *exc.issues)))
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")
    }
    return Response(xml, status_code=response.status_code, media_type=FHIR_XML, headers=headers)
