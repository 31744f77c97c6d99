"""Content negotiation of the FHIR door (https://hl7.org/fhir/R4/http.html#mime-type)."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from hub.api.fhir_formats import FHIR_XML, FhirFormat, negotiate, render
from hub.core.errors import NotAcceptableError


def request(accept: str | None = None, query: str = "") -> Request:
    headers = [(b"accept", accept.encode())] if accept is not None else []
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/fhir/metadata",
            "query_string": query.encode(),
            "headers": headers,
        }
    )


@pytest.mark.parametrize(
    "accept, query, expected",
    [
        (None, "", FhirFormat.JSON),
        ("", "", FhirFormat.JSON),
        ("application/fhir+json", "", FhirFormat.JSON),
        ("application/fhir+xml", "", FhirFormat.XML),
        ("application/xml+fhir; fhirVersion=4.0", "", FhirFormat.XML),
        ("text/xml", "", FhirFormat.XML),
        ("*/*", "", FhirFormat.JSON),
        ("application/*", "", FhirFormat.JSON),
        ("text/*", "", FhirFormat.XML),
        ("application/fhir+xml;q=0.4, application/fhir+json;q=0.5", "", FhirFormat.JSON),
        ("application/fhir+xml;q=0.6, application/fhir+json;q=0.5", "", FhirFormat.XML),
        ("application/fhir+xml;q=bogus, application/json", "", FhirFormat.JSON),
        ("application/fhir+json", "_format=xml", FhirFormat.XML),
        ("application/fhir+xml", "_format=json", FhirFormat.JSON),
        (None, "_format=application%2Ffhir%2Bxml", FhirFormat.XML),
        (None, "_format=json&_format=xml", FhirFormat.XML),  # the last one counts
    ],
)
def test_negotiation(accept: str | None, query: str, expected: FhirFormat) -> None:
    assert negotiate(request(accept, query), xml_available=True) is expected


def test_without_xml_json_is_chosen_when_acceptable_and_406_otherwise() -> None:
    assert negotiate(request("application/fhir+xml, */*;q=0.1"), xml_available=False) is FhirFormat.JSON
    for accept, query in (("application/fhir+xml", ""), (None, "_format=xml")):
        with pytest.raises(NotAcceptableError) as caught:
            negotiate(request(accept, query), xml_available=False)
        assert caught.value.issues[0].message_id == "TH-HTTP-XML-NO-CORE"


@pytest.mark.parametrize(
    "accept, query",
    [("text/html", ""), ("image/png;q=1, application/json;q=0", ""), (None, "_format=turtle")],
)
def test_unacceptable(accept: str | None, query: str) -> None:
    with pytest.raises(NotAcceptableError):
        negotiate(request(accept, query), xml_available=True)


def test_render_leaves_json_and_non_fhir_answers_alone() -> None:
    json_answer = Response(b'{"resourceType":"Patient"}', media_type="application/fhir+json; charset=utf-8")
    assert render(json_answer, FhirFormat.JSON, None) is json_answer
    assert render(json_answer, FhirFormat.XML, None) is json_answer  # no codec: nothing to render with
    assert FHIR_XML.startswith("application/fhir+xml")
