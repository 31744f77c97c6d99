"""FHIR XML on the REST door (https://hl7.org/fhir/R4/http.html#mime-type): negotiation, XML bodies,
XML answers, hostile XML, the official examples JSON -> XML -> JSON through the API, and the hub without
the core package."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from hub.core.settings import Settings
from hub.fhir.resource_types import SUPPORTED_TYPES
from tests.conftest import testdata_path
from tests.integration.validation.conftest import (
    FHIR_JSON,
    FHIR_XML,
    OpenHub,
    errors,
    message_ids,
    post_json,
)

NS = {"f": "http://hl7.org/fhir"}
XML_HEADERS = {"content-type": FHIR_XML, "accept": FHIR_XML}
OBSERVATION_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<Observation xmlns="http://hl7.org/fhir">
  <status value="final"/>
  <code><coding><system value="urn:oid:1.2.208.176.2.1"/><code value="NPU03804"/></coding></code>
  <subject><reference value="Patient/p1"/></subject>
  <effectiveDateTime value="2024-05-01T08:30:00+02:00"/>
  <valueQuantity>
    <value value="72.50"/><unit value="kg"/><system value="http://unitsofmeasure.org"/><code value="kg"/>
  </valueQuantity>
</Observation>"""
REFUSED = {"AuditEvent", "Consent"}  # read-only audit log; only Danish negative consents are accepted


def xml(response: httpx.Response) -> etree._Element:
    assert response.headers["content-type"].startswith(FHIR_XML), response.headers
    root: etree._Element = etree.fromstring(response.content)
    return root


def value(root: etree._Element, path: str) -> str:
    found = root.xpath(path + "/@value", namespaces=NS)
    assert isinstance(found, list) and found, path
    return str(found[0])


async def test_xml_create_read_search_and_errors(core_hub: Any) -> None:
    client, _ = core_hub
    created = await client.post("/fhir/Observation", content=OBSERVATION_XML, headers=XML_HEADERS)
    assert created.status_code == 201, created.text
    root = xml(created)
    oid = value(root, "f:id")
    assert value(root, "f:meta/f:versionId") == "1"
    assert created.headers["location"].endswith(f"/Observation/{oid}/_history/1")
    as_json = await client.get(f"/fhir/Observation/{oid}")
    assert as_json.headers["content-type"].startswith(FHIR_JSON)
    assert as_json.json()["valueQuantity"]["value"] == 72.5
    assert as_json.json()["subject"] == {"reference": "Patient/p1"}
    read = await client.get(f"/fhir/Observation/{oid}", headers={"accept": FHIR_XML})
    assert value(xml(read), "f:code/f:coding/f:code") == "NPU03804"
    assert read.headers["etag"] == 'W/"1"'
    for fmt in ("xml", "application/fhir+xml", "text/xml"):
        found = await client.get("/fhir/Observation", params={"_format": fmt, "code": "NPU03804"})
        bundle = xml(found)
        assert bundle.tag == "{http://hl7.org/fhir}Bundle" and value(bundle, "f:total") == "1"
        assert value(bundle, "f:entry/f:resource/f:Observation/f:id") == oid
    history = await client.get(f"/fhir/Observation/{oid}/_history", params={"_format": "xml"})
    assert value(xml(history), "f:type") == "history"
    missing = await client.get("/fhir/Observation/nope", params={"_format": "xml"})
    assert missing.status_code == 404
    assert xml(missing).tag == "{http://hl7.org/fhir}OperationOutcome"
    metadata = await client.get("/fhir/metadata", headers={"accept": "application/xml"})
    assert xml(metadata).tag == "{http://hl7.org/fhir}CapabilityStatement"
    bundle_xml = (
        b'<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/><entry><resource>'
        + OBSERVATION_XML.split(b"?>", 1)[1]
        + b'</resource><request><method value="POST"/><url value="Observation"/></request></entry></Bundle>'
    )
    tx = await client.post("/fhir", content=bundle_xml, headers=XML_HEADERS)
    assert tx.status_code == 200, tx.text
    assert value(xml(tx), "f:type") == "transaction-response"


async def test_negotiation(core_hub: Any) -> None:
    client, _ = core_hub
    cases = {
        "application/fhir+xml;q=0.5, application/fhir+json": "application/fhir+json",
        "*/*": "application/fhir+json",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": FHIR_XML,
        "application/json": "application/fhir+json",
        "application/xml+fhir": FHIR_XML,
    }
    for accept, expected in cases.items():
        r = await client.get("/fhir/metadata", headers={"accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith(expected), accept
    wanted = await client.get("/fhir/metadata", params={"_format": "json"}, headers={"accept": FHIR_XML})
    assert wanted.headers["content-type"].startswith(FHIR_JSON)  # _format wins over Accept
    html = await client.get("/fhir/metadata", headers={"accept": "text/html"})
    assert html.status_code == 406 and "TH-HTTP-ACCEPT" in message_ids(html.json())
    odd = await client.get("/fhir/Patient", params={"_format": "turtle"})
    assert odd.status_code == 406 and "TH-HTTP-FORMAT" in message_ids(odd.json())
    minimal = await client.post(
        "/fhir/Observation", content=OBSERVATION_XML, headers={**XML_HEADERS, "prefer": "return=minimal"}
    )
    assert minimal.status_code == 201 and minimal.content == b""


HOSTILE = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<Patient xmlns="http://hl7.org/fhir"><name><family value="&x;"/></name></Patient>',
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<Patient xmlns="http://hl7.org/fhir"><name><family value="&lol3;"/></name></Patient>',
    "malformed": b'<Patient xmlns="http://hl7.org/fhir">\n<name><family value="x"/></nam>\n</Patient>',
    "not FHIR": b'<Patient xmlns="urn:not-fhir"><name/></Patient>',
    "unknown element": b'<Patient xmlns="http://hl7.org/fhir">\n  <colour value="blue"/>\n</Patient>',
    "deep": b'<Patient xmlns="http://hl7.org/fhir">' + b"<x>" * 5000 + b"</x>" * 5000 + b"</Patient>",
    "not UTF-8": b'<?xml version="1.0" encoding="UTF-8"?><Patient xmlns="http://hl7.org/fhir">'
    b'<name><family value="\xff\xfe"/></name></Patient>',
}


async def test_hostile_and_broken_xml_is_400_and_stores_nothing(core_hub: Any) -> None:
    client, _ = core_hub
    for name, body in HOSTILE.items():
        r = await client.post("/fhir/Patient", content=body, headers=XML_HEADERS)
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert xml(r).tag == "{http://hl7.org/fhir}OperationOutcome", name
        validated = await client.post("/fhir/$validate", content=body, headers={"content-type": FHIR_XML})
        assert validated.status_code in (200, 400), name
        assert errors(validated.json()), name
    broken = await client.post(
        "/fhir/Patient", content=HOSTILE["malformed"], headers={"content-type": FHIR_XML}
    )
    assert any("line 2" in " ".join(i.get("location", [])) for i in broken.json()["issue"])
    unknown = await client.post(
        "/fhir/$validate", content=HOSTILE["unknown element"], headers={"content-type": FHIR_XML}
    )
    assert unknown.status_code == 200  # a structural finding is $validate's answer, not a request error
    assert any("line 2" in " ".join(i.get("location", [])) for i in errors(unknown.json()))
    assert (await client.get("/fhir/Patient")).json()["total"] == 0


def _examples() -> list[Path]:
    folder = testdata_path("fhir", "examples")
    return sorted(p for p in folder.glob("*.json") if p.name.split("-", 1)[0] in SUPPORTED_TYPES - REFUSED)


def _comparable(value: Any, key: str | None = None) -> Any:
    """Values as is, XHTML narrative as canonical XML (``&quot;`` and ``"`` are the same XHTML)."""
    if isinstance(value, dict):
        return {k: _comparable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if key == "div" and isinstance(value, str):
        return etree.tostring(etree.fromstring(value.encode()), method="c14n")
    return value


async def test_official_examples_round_trip_json_xml_json(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    examples = _examples()
    assert len(examples) > 100
    failures: list[str] = []
    async with hub(core_settings(default_level="off")) as (client, _):
        for path in examples:
            original = json.loads(path.read_bytes())
            where = f"/fhir/{original['resourceType']}/{original['id']}"
            put = await client.put(where, content=path.read_bytes(), headers={"content-type": FHIR_JSON})
            if put.status_code not in (200, 201):
                failures.append(f"{path.name}: PUT JSON {put.status_code} {put.text[:200]}")
                continue
            as_xml = await client.get(where, headers={"accept": FHIR_XML})
            if as_xml.status_code != 200:
                failures.append(f"{path.name}: GET XML {as_xml.status_code} {as_xml.text[:200]}")
                continue
            back = await client.put(where, content=as_xml.content, headers=XML_HEADERS)
            if back.status_code != 200:
                failures.append(f"{path.name}: PUT XML {back.status_code} {back.text[:300]}")
                continue
            stored = (await client.get(where)).json()
            if _comparable({**stored, "meta": None}) != _comparable({**original, "meta": None}):
                failures.append(f"{path.name}: differs after JSON -> XML -> JSON")
    assert not failures, "\n".join(failures)


async def test_without_the_core_package_xml_is_refused_clearly(client: httpx.AsyncClient) -> None:
    body = await client.post("/fhir/Observation", content=OBSERVATION_XML, headers={"content-type": FHIR_XML})
    assert body.status_code == 415
    assert "TH-HTTP-XML-NO-CORE" in message_ids(body.json())
    assert "hl7.fhir.r4.core" in body.json()["issue"][0]["diagnostics"]
    only_xml = await client.get("/fhir/metadata", headers={"accept": FHIR_XML})
    assert only_xml.status_code == 406 and "TH-HTTP-XML-NO-CORE" in message_ids(only_xml.json())
    assert (await client.get("/fhir/Patient", params={"_format": "xml"})).status_code == 406
    fallback = await client.get("/fhir/metadata", headers={"accept": "application/fhir+xml, */*;q=0.1"})
    assert fallback.status_code == 200 and fallback.headers["content-type"].startswith(FHIR_JSON)
    formats = fallback.json()["format"]
    assert "xml" not in formats and "json" in formats
    assert (await post_json(client, "/fhir/Patient", {"resourceType": "Patient"})).status_code == 201
