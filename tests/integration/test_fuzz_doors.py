"""Seeded fuzzing of every HTTP door, on each engine: mutated FHIR JSON, CDA, SOAP and MTOM requests and
mangled URLs must never get a 5xx answer (bad input is the client's error) and must never raise through the
app.  Deterministic (fixed seeds), so a failure names a reproducible request."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from lxml import etree

from tests import xds_builders as b
from tests.integration.conftest import make_settings
from tests.integration.phmr.conftest import CPR, CPR_SYSTEM, running_hub
from tests.integration.phmr.test_provide_bundle import provide_bundle
from tests.integration.validation.conftest import home_observation
from tests.unit.profiles.cda.phmr_builder import build_phmr
from tests.xds_calls import patient_param
from xds import Action, DocumentRequest
from xds.ebrim_write import submit_objects_request_element
from xds.messages import provide_and_register_element, retrieve_request_element
from xds.mtom_write import Attachment, mtom_response
from xds.soap import build_envelope, envelope_bytes
from xds.stored_queries import ReturnType, StoredQueryId, adhoc_query_request_element

FHIR = {"content-type": "application/fhir+json"}
SOAP = {"content-type": "application/soap+xml; charset=UTF-8"}
TOKENS = [
    b"<",
    b"&",
    b"]]>",
    b'"',
    b"\x00",
    b"\xff\xfe",
    b"{",
    b"}",
    b"null",
    b"1e999",
    b"9" * 400,
    b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
    b"\r\n",
    b"--",
    b"%00",
    b"\\u0000",
    b"[]",
    b"^^^&",
    b"&#0;",
]
VALUES: list[Any] = [None, [], {}, 1e308, "", 2**63 - 1, -1, True, "x" * 1000, [[[[]]]], "2024-13-45"]
VALUES.append("a\x00b")  # U+0000 inside a JSON string
ROUNDS = 250


def _mutate(data: bytes, rng: random.Random) -> bytes:
    d = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not d:
            break
        i = rng.randrange(len(d))
        op = rng.randrange(5)
        if op == 0:
            d[i] = rng.randrange(256)
        elif op == 1:
            d[i:i] = rng.choice(TOKENS)
        elif op == 2:
            del d[i : i + rng.randint(1, 40)]
        elif op == 3:
            del d[i:]
        else:
            j = min(len(d), i + rng.randint(1, 200))
            d[j:j] = d[i:j]
    return bytes(d)


def _mutate_json(value: Any, rng: random.Random) -> bytes:
    node = value
    for _ in range(8):
        if isinstance(node, dict) and node:
            key: Any = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            break
        if rng.random() < 0.4:
            node[key] = rng.choice(VALUES)
            break
        node = node[key]
    return orjson.dumps(value)


def _mutate_xml(data: bytes, rng: random.Random) -> bytes:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
    elements = list(root.iter(etree.Element))
    for _ in range(rng.randint(1, 3)):
        element = rng.choice(elements)
        parent = element.getparent()
        op = rng.randrange(4)
        if op == 0 and parent is not None and element in parent:
            parent.remove(element)
        elif op == 1 and parent is not None and element in parent:
            parent.insert(parent.index(element), etree.fromstring(etree.tostring(element)))
        elif op == 2 and element.attrib:
            element.set(rng.choice(list(element.attrib)), rng.choice(["", "x", "-1", "9" * 30, "^^^", "æøå"]))
        else:
            element.text = rng.choice(["", "x" * 5000, "-1", "1e999"])
    return etree.tostring(root)


def _seeds() -> list[tuple[str, str, bytes, dict[str, str], Any]]:
    observation = home_observation()
    by_entry = {"reference": "urn:uuid:patient-1"}  # MHD ITI-65, its patient named by a Patient read entry
    mhd = provide_bundle(build_phmr(2), reference={"subject": by_entry}, submission_set={"subject": by_entry})
    mhd["entry"].append(
        {
            "fullUrl": "urn:uuid:patient-1",
            "resource": {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": CPR}]},
            "request": {"method": "GET", "url": "Patient/p1"},
        }
    )
    content = b.cda_document()
    iti41 = envelope_bytes(
        build_envelope(
            Action.ITI_41,
            provide_and_register_element(
                b.submission(b.document_entry(content=content)), {"Document01": "d@x"}
            ),
        )
    )
    framed = mtom_response(
        iti41, [Attachment.from_bytes("d@x", content, "text/xml")], action=Action.ITI_41.value
    )
    query = adhoc_query_request_element(
        StoredQueryId.FIND_DOCUMENTS,
        {
            "$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)],
            "$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
        },
        return_type=ReturnType.LEAF_CLASS,
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {"resourceType": "Patient"},
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": "identifier=urn:oid:1.2.208.176.1.2|2512489996",
                },
            },
            {"resource": observation, "request": {"method": "POST", "url": "Observation"}},
        ],
    }
    return [
        ("POST", "/fhir/Observation", orjson.dumps(observation), FHIR, observation),
        ("POST", "/fhir", orjson.dumps(bundle), FHIR, bundle),
        ("POST", "/fhir", orjson.dumps(mhd), FHIR, mhd),
        ("POST", "/fhir/Observation/$validate", orjson.dumps(observation), FHIR, observation),
        ("POST", "/fhir/$submit-document", build_phmr(3), {"content-type": "application/xml"}, "xml"),
        ("POST", "/xds/repository", framed.body(), {"content-type": framed.content_type}, None),
        (
            "POST",
            "/xds/registry",
            envelope_bytes(
                build_envelope(
                    Action.ITI_42,
                    submit_objects_request_element(b.submission(b.document_entry(content=b"z"))),
                )
            ),
            SOAP,
            "xml",
        ),
        ("POST", "/xds/registry", envelope_bytes(build_envelope(Action.ITI_18, query)), SOAP, "xml"),
        (
            "POST",
            "/xds/repository",
            envelope_bytes(
                build_envelope(
                    Action.ITI_43, retrieve_request_element([DocumentRequest(b.REPOSITORY_ID, "1.2.3")])
                )
            ),
            SOAP,
            "xml",
        ),
    ]


GETS = [
    "/fhir/Observation?patient:identifier=urn:oid:1.2.208.176.1.2|2512484916&code=NPU03804&date=ge2024-01-01",
    "/fhir/Observation?_count=5&_sort=-date&value-quantity=gt70|http://unitsofmeasure.org|kg",
    "/fhir/DocumentReference?patient.identifier=urn:oid:1.2.208.176.1.2|2512484916",
    "/fhir/DocumentReference?patient=Patient/2512484916&_lastUpdated=gt2024-01-01T00:00:00Z"
    "&related:identifier=urn:oid:1.2.3|ORD-7&author.family=Ander",
    "/fhir/Binary/5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11?_format=json",
    "/fhir/List?patient.identifier=urn:oid:1.2.208.176.1.2|2512484916&code=folder&date=ge2024-01-01",
    "/fhir/List/5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11",
    "/fhir/List?patient.identifier=urn:oid:1.2.208.176.1.2|2512484916&_lastUpdated=le2030&source.given=A",
    "/fhir/Patient?identifier=urn:oid:1.2.208.176.1.2|2512489996&_include=*",
]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
async def test_no_mutated_request_gets_a_server_error(database_url: str, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    seeds = _seeds()
    async with running_hub(make_settings(database_url, tmp_path / "var")) as (http, _):
        failures: list[str] = []
        for round_ in range(ROUNDS):
            if rng.random() < 0.2:
                url = _mutate(rng.choice(GETS).encode(), rng).decode("latin-1")
                method, body, headers = "GET", None, {}
            else:
                method, url, seed_body, headers, kind = rng.choice(seeds)
                if isinstance(kind, dict) and rng.random() < 0.5:
                    body = _mutate_json(orjson.loads(seed_body), rng)
                elif kind == "xml" and rng.random() < 0.5:
                    body = _mutate_xml(seed_body, rng)
                else:
                    body = _mutate(seed_body, rng)
            try:
                response = await http.request(method, url, content=body, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol):
                continue  # the client itself refuses the URL: nothing reached the hub
            if response.status_code >= 500:
                failures.append(
                    f"round {round_}: {method} {url[:120]!r} -> {response.status_code} {response.text[:200]}"
                )
        assert not failures, "\n".join(failures)
