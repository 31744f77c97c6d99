"""DocumentReference read/search served from the registry: parameters, paging, metadata mismatch on ITI-41,
and authorisation, citizen scope and negative consent (dev tokens)."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import orjson

from conformance.suites.xds_client import XdsClient
from tests import xds_builders as b
from tests.integration.phmr.conftest import (
    CPR,
    CPR_SYSTEM,
    FHIR,
    NOTHING,
    XML,
    matches,
    reference_ids,
    stored_counts,
    submit,
)
from tests.integration.phmr.test_lineage import _entry
from tests.integration.phmr.test_provide_bundle import locations, provide, provide_bundle
from tests.integration.security.conftest import Token
from tests.integration.security.test_fhir_access import consent
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds import CX

PATIENT = {"patient.identifier": f"{CPR_SYSTEM}|{CPR}"}
DOC_IDS = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, 4)]


async def _three(http: httpx.AsyncClient) -> list[str]:
    ids = []
    for doc_id, count in zip(DOC_IDS, (1, 2, 3), strict=True):
        r = await submit(http, build_phmr(count, document_id=doc_id))
        assert r.status_code == 201, r.text
        ids.append(reference_ids(r.json(), "documentReference")[0])
    return ids


async def _found(http: httpx.AsyncClient, **params: str) -> list[str]:
    r = await http.get("/fhir/DocumentReference", params={**PATIENT, **params})
    assert r.status_code == 200, r.text
    return [d["id"] for d in matches(r.json())]


async def test_search_parameters(http: httpx.AsyncClient) -> None:
    ids = await _three(http)
    assert await _found(http) == ids
    assert await _found(http, type="http://loinc.org|53576-5", category="001", status="current") == ids
    assert await _found(http, format="urn:oid:1.2.208.184.100.10|urn:ad:dk:medcom:phmr-v1.3:full") == ids
    assert await _found(http, facility="550621000005101", setting="408443003") == ids
    assert await _found(http, format="urn:oid:1.2.208.184.100.10|urn:ad:dk:medcom:qrd-v1.3:full") == []
    # the 3-measurement document alone has a pulse (NPU21692 is the 4th kind of the generator)
    assert await _found(http, event="urn:oid:1.2.208.176.2.1|NPU21692") == []
    assert await _found(http, event="urn:oid:1.2.208.176.2.1|DNK05473") == ids[2:]
    assert await _found(http, date="ge2024-03-01", period="ge2024-03-01") == ids
    assert await _found(http, date="lt2024-03-01") == []
    assert await _found(http, **{"security-label": "N"}) == ids
    first = (await http.get(f"/fhir/DocumentReference/{ids[0]}")).json()
    identifier = first["masterIdentifier"]
    by_identifier = await http.get(
        "/fhir/DocumentReference", params={"identifier": f"{identifier['system']}|{identifier['value']}"}
    )
    assert [d["id"] for d in matches(by_identifier.json())] == [ids[0]]
    assert await _found(http, _id=ids[1]) == [ids[1]]
    assert await _found(http, status="entered-in-error") == []


async def test_author_names(http: httpx.AsyncClient) -> None:
    """MHD's author.given / author.family: the start of the authorPerson's family name or of any given name,
    case and accents ignored; commas OR, repeats AND; LIKE wildcards are plain characters."""
    ids = await _three(http)  # authored by Anders Andersen (tests/unit/profiles/cda/phmr_builder.py)
    assert await _found(http, **{"author.family": "andersen"}) == ids
    assert await _found(http, **{"author.family": "ANDE"}) == ids
    assert await _found(http, **{"author.given": "Änd"}) == ids  # accents ignored: Ä is A
    assert await _found(http, **{"author.family": "Olsen"}) == []  # the legal authenticator is no author
    assert await _found(http, **{"author.family": "ndersen"}) == []  # a start, not a substring
    assert await _found(http, **{"author.family": "Nielsen,Andersen"}) == ids
    r = await http.get(
        "/fhir/DocumentReference",
        params=[*PATIENT.items(), ("author.given", "Anders"), ("author.family", "Hansen")],
    )
    assert matches(r.json()) == []  # repeated parameters are AND-ed
    assert await _found(http, **{"author.family": "%"}) == []
    assert await _found(http, **{"author.family": "A_dersen"}) == []
    empty = await http.get("/fhir/DocumentReference", params={**PATIENT, "author.given": ","})
    assert empty.status_code == 400 and "give a name" in empty.text


async def test_related_finds_documents_by_reference_id(http: httpx.AsyncClient) -> None:
    """MHD related:identifier over the referenceIdList an ITI-65 DocumentReference's context.related gave."""
    order = {"system": "urn:oid:1.2.208.176.43210.8.1", "value": "ORD-7"}
    bundle = provide_bundle(build_phmr(2), reference={"context": {"related": [{"identifier": order}]}})
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    doc = locations(r)[1].removeprefix("DocumentReference/")
    shown = (await http.get(f"/fhir/DocumentReference/{doc}")).json()
    assert shown["context"]["related"] == [{"identifier": order}]
    await _three(http)  # documents without referenceIds

    async def related(value: str) -> list[str]:
        return await _found(http, **{"related:identifier": value})

    assert await related(f"{order['system']}|ORD-7") == [doc]
    assert await related("ORD-7") == [doc]  # any system
    assert await related("|ORD-7") == []  # "no system": this referenceId has an assigning authority
    assert await related("urn:oid:9.9|ORD-7") == []
    assert await related(f"{order['system']}|ORD-8,{order['system']}|ORD-7") == [doc]  # OR
    assert await related(f"{order['system']}|") == [doc]  # any value of that authority
    for bad in ({"related": "DocumentReference/x"}, {"related:missing": "true"}):
        refused = await http.get("/fhir/DocumentReference", params={**PATIENT, **bad})
        assert refused.status_code == 400 and "related:identifier" in refused.text, refused.text


async def test_paging_and_post_search(http: httpx.AsyncClient) -> None:
    ids = await _three(http)
    first_page = (await http.get("/fhir/DocumentReference", params={**PATIENT, "_count": "2"})).json()
    assert [d["id"] for d in matches(first_page)] == ids[:2] and "total" not in first_page
    following = next(link["url"] for link in first_page["link"] if link["relation"] == "next")
    second = (await http.get(following)).json()
    assert [d["id"] for d in matches(second)] == ids[2:] and second["total"] == 3
    deep = (
        await http.get("/fhir/DocumentReference", params={**PATIENT, "_count": "1", "_offset": "1"})
    ).json()
    assert [d["id"] for d in matches(deep)] == ids[1:2] and "total" not in deep
    beyond = (await http.get("/fhir/DocumentReference", params={**PATIENT, "_offset": "7"})).json()
    assert matches(beyond) == [] and "total" not in beyond  # past the end: the count is not known
    form = await http.post(
        "/fhir/DocumentReference/_search",
        content=f"patient.identifier={CPR_SYSTEM}|{CPR}&_count=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert [d["id"] for d in matches(form.json())] == ids[:1]


async def test_patient_by_hub_id_and_bad_searches(http: httpx.AsyncClient) -> None:
    ids = await _three(http)
    patient = {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": CPR}]}
    pid = (await http.post("/fhir/Patient", content=orjson.dumps(patient), headers=FHIR)).json()["id"]
    by_reference = await http.get("/fhir/DocumentReference", params={"patient": f"Patient/{pid}"})
    assert [d["id"] for d in matches(by_reference.json())] == ids
    by_cpr = await http.get("/fhir/DocumentReference", params={"patient": CPR})  # unknown id = the key
    assert [d["id"] for d in matches(by_cpr.json())] == ids
    for params in (
        {},
        {"status": "current"},
        {**PATIENT, "date": "ne2024-01-01"},
        {**PATIENT, "_sort": "date"},
    ):
        assert (await http.get("/fhir/DocumentReference", params=params)).status_code == 400
    lenient = await http.get("/fhir/DocumentReference", params={**PATIENT, "unknown-thing": "x"})
    assert lenient.status_code == 200 and "ignored" in lenient.text
    strict = await http.get(
        "/fhir/DocumentReference",
        params={**PATIENT, "unknown-thing": "x"},
        headers={"prefer": "handling=strict"},
    )
    assert strict.status_code == 400


async def test_iti41_metadata_mismatch_stores_nothing(
    http: httpx.AsyncClient, xds: XdsClient, hub: tuple[Any, Any]
) -> None:
    document = build_phmr(2)
    wrong = dataclasses.replace(_entry(document), patient_id=CX("0101010101", CPR_SYSTEM[8:]))
    request = b.submission(wrong, cpr="0101010101")
    reply = await xds.provide_and_register(request, {"Document01": (document, "text/xml")})
    assert reply.status == "Failure"
    assert "XDSPatientIdDoesNotMatch" in reply.error_codes
    assert reply.response is not None
    context = " ".join(e.code_context for e in reply.response.errors)
    assert CPR in context and "0101010101" in context  # both values reported
    assert await stored_counts(http, hub[1]) == NOTHING
    assert await stored_counts(http, hub[1], "0101010101") == NOTHING


async def test_who_may_submit_and_read(secure_hub: tuple[httpx.AsyncClient, Any], token: Token) -> None:
    http = secure_hub[0]
    document = build_phmr(2)
    unauthenticated = await http.post("/fhir/$submit-document", content=document, headers=XML)
    assert unauthenticated.status_code == 401
    citizen = token("citizen", cpr=CPR)
    refused = await http.post("/fhir/$submit-document", content=document, headers={**XML, **citizen})
    assert refused.status_code == 403
    system = token("system")
    r = await http.post("/fhir/$submit-document", content=document, headers={**XML, **system})
    assert r.status_code == 201, r.text
    doc_id = reference_ids(r.json(), "documentReference")[0]
    # the citizen sees their own document and measurements, nobody else's
    assert (await http.get(f"/fhir/DocumentReference/{doc_id}", headers=citizen)).status_code == 200
    own = await http.get("/fhir/DocumentReference", params=PATIENT, headers=citizen)
    assert [d["id"] for d in matches(own.json())] == [doc_id]
    stranger = token("citizen", cpr="0101010101")
    assert (await http.get(f"/fhir/DocumentReference/{doc_id}", headers=stranger)).status_code == 404
    other = await http.get("/fhir/DocumentReference", params=PATIENT, headers=stranger)
    assert matches(other.json()) == []
    no_purpose = await http.get("/fhir/DocumentReference", params=PATIENT, headers=token("physician"))
    assert no_purpose.status_code == 403


async def test_negative_consent_hides_documents(
    secure_hub: tuple[httpx.AsyncClient, Any], token: Token
) -> None:
    http = secure_hub[0]
    r = await http.post("/fhir/$submit-document", content=build_phmr(2), headers={**XML, **token("system")})
    doc_id = reference_ids(r.json(), "documentReference")[0]
    doctor = token("physician", purpose="treatment", authorisation_id="BCD12", sor="123456789012")
    assert (await http.get(f"/fhir/DocumentReference/{doc_id}", headers=doctor)).status_code == 200
    block = consent(CPR, ("https://autregweb.sst.dk", "BCD12"))
    scopes = ("patient/*.rs", "patient/Consent.cruds")
    blocked = await http.post(
        "/fhir/Consent",
        content=orjson.dumps(block),
        headers={**FHIR, **token("citizen", cpr=CPR, scopes=scopes)},
    )
    assert blocked.status_code == 201, blocked.text
    assert (await http.get(f"/fhir/DocumentReference/{doc_id}", headers=doctor)).status_code == 404
    search = (await http.get("/fhir/DocumentReference", params=PATIENT, headers=doctor)).json()
    assert matches(search) == []
    assert any("withheld" in orjson.dumps(e["resource"]).decode() for e in search.get("entry", []))
    colleague = token("physician", purpose="treatment", authorisation_id="XYZ98", sor="999999999999")
    assert (await http.get(f"/fhir/DocumentReference/{doc_id}", headers=colleague)).status_code == 200
