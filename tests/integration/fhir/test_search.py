"""FHIR search through HTTP: every parameter type, modifiers, prefixes, chains, includes, paging, totals."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

FHIR = "application/fhir+json"
NPU = "urn:oid:1.2.208.176.2.1"


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(
        f"/fhir/{body['resourceType']}", content=orjson.dumps(body), headers={"content-type": FHIR}
    )
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def observation(pid: str, code: str, value: float, when: str, unit: str = "kg") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": NPU, "code": code}], "text": "Vægt"},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


async def search(client: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == mode]


@pytest.fixture
async def data(client: httpx.AsyncClient) -> dict[str, str]:
    nancy = await create(
        client,
        {
            "resourceType": "Patient",
            "name": [{"family": "Sørensen", "given": ["Åse"]}],
            "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "2512489996"}],
            "birthDate": "1948-12-25",
            "gender": "female",
        },
    )
    bo = await create(
        client,
        {
            "resourceType": "Patient",
            "name": [{"family": "Hansen", "given": ["Bo"]}],
            "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "0101010101"}],
            "birthDate": "1960",
            "gender": "male",
        },
    )
    o1 = await create(client, observation(nancy["id"], "NPU03804", 72.5, "2024-03-01T08:00:00+01:00"))
    o2 = await create(client, observation(nancy["id"], "NPU03804", 73.0, "2024-03-15T08:00:00+01:00"))
    o3 = await create(client, observation(nancy["id"], "NPU03011", 95, "2024-03-15T09:00:00+01:00", "%"))
    o4 = await create(client, observation(bo["id"], "NPU03804", 90.1, "2024-04-01T08:00:00Z"))
    return {
        "nancy": nancy["id"],
        "bo": bo["id"],
        "o1": o1["id"],
        "o2": o2["id"],
        "o3": o3["id"],
        "o4": o4["id"],
    }


async def test_patient_code_date_range(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    b = await search(
        client, "/fhir/Observation", patient=data["nancy"], code=f"{NPU}|NPU03804", date="ge2024-03-10"
    )
    assert ids(b) == [data["o2"]] and b["total"] == 1
    r = await client.get(
        "/fhir/Observation",
        params=[("patient", data["nancy"]), ("date", "ge2024-03-01"), ("date", "lt2024-03-15")],
    )
    assert ids(r.json()) == [data["o1"]]


async def test_token_forms_and_modifiers(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    assert sorted(ids(await search(client, "/fhir/Observation", code="NPU03804"))) == sorted(
        [data["o1"], data["o2"], data["o4"]]
    )
    assert ids(await search(client, "/fhir/Observation", code=f"{NPU}|")) != []
    assert ids(await search(client, "/fhir/Observation", code="|NPU03804")) == []
    assert ids(await search(client, "/fhir/Observation", **{"code:not": "NPU03804"})) == [data["o3"]]
    assert len(ids(await search(client, "/fhir/Observation", **{"code:text": "vægt"}))) == 4
    both = await search(client, "/fhir/Observation", code="NPU03011,NPU99999")
    assert ids(both) == [data["o3"]]


async def test_string_modifiers(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    assert ids(await search(client, "/fhir/Patient", family="SØRE")) == [data["nancy"]]  # case-insensitive
    assert ids(await search(client, "/fhir/Patient", given="ase")) == [data["nancy"]]  # Å decomposes
    assert ids(await search(client, "/fhir/Patient", **{"family:exact": "Sørensen"})) == [data["nancy"]]
    assert ids(await search(client, "/fhir/Patient", **{"family:exact": "sørensen"})) == []
    assert ids(await search(client, "/fhir/Patient", **{"name:contains": "ans"})) == [data["bo"]]


async def test_date_prefixes_over_partial_dates(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    assert ids(await search(client, "/fhir/Patient", birthdate="1960-06-01")) == []
    assert ids(await search(client, "/fhir/Patient", birthdate="1960")) == [data["bo"]]
    assert ids(await search(client, "/fhir/Patient", birthdate="ge1960-06-01")) == [data["bo"]]
    assert ids(await search(client, "/fhir/Patient", birthdate="sa1950")) == [data["bo"]]
    assert ids(await search(client, "/fhir/Patient", birthdate="eb1950")) == [data["nancy"]]
    assert ids(await search(client, "/fhir/Patient", birthdate="ne1960")) == [data["nancy"]]
    assert ids(await search(client, "/fhir/Patient", birthdate="ap1948-12-25")) == [data["nancy"]]


async def test_quantity_and_sort(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    heavy = await search(
        client, "/fhir/Observation", **{"value-quantity": "gt80|http://unitsofmeasure.org|kg"}
    )
    assert ids(heavy) == [data["o4"]]
    exact = await search(client, "/fhir/Observation", **{"value-quantity": "72.5"})
    assert ids(exact) == [data["o1"]]
    newest = await search(client, "/fhir/Observation", patient=data["nancy"], _sort="-date")
    assert ids(newest)[-1] == data["o1"]
    oldest = await search(client, "/fhir/Observation", patient=data["nancy"], _sort="date")
    assert ids(oldest)[0] == data["o1"]


async def test_chain_and_reference_forms(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    chained = await search(
        client, "/fhir/Observation", **{"subject:Patient.identifier": "urn:oid:1.2.208.176.1.2|0101010101"}
    )
    assert ids(chained) == [data["o4"]]
    typed = await search(client, "/fhir/Observation", subject=f"Patient/{data['bo']}")
    assert ids(typed) == [data["o4"]]
    absolute = await search(
        client, "/fhir/Observation", subject=f"http://testserver/fhir/Patient/{data['bo']}"
    )
    assert ids(absolute) == [data["o4"]]


async def test_include_and_revinclude(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    b = await search(client, "/fhir/Observation", _id=data["o4"], _include="Observation:subject")
    assert ids(b) == [data["o4"]] and ids(b, "include") == [data["bo"]]
    r = await search(client, "/fhir/Patient", _id=data["bo"], _revinclude="Observation:subject")
    assert ids(r) == [data["bo"]] and ids(r, "include") == [data["o4"]]


async def test_paging_is_stable_with_next_and_previous(
    client: httpx.AsyncClient, data: dict[str, str]
) -> None:
    first = await search(client, "/fhir/Observation", _count="2", _sort="-date")
    assert first["total"] == 4 and len(ids(first)) == 2
    nxt = next(x["url"] for x in first["link"] if x["relation"] == "next")
    await create(client, observation(data["bo"], "NPU03804", 91, "2023-01-01"))  # lands on a later page
    second = await search(
        client, nxt.removeprefix("http://testserver").split("?")[0], **dict(httpx.URL(nxt).params)
    )
    assert len(ids(second)) == 2 and not set(ids(second)) & set(ids(first))
    prev = next(x["url"] for x in second["link"] if x["relation"] == "previous")
    back = await client.get(prev.removeprefix("http://testserver"))
    assert ids(back.json()) == ids(first)


async def test_summary_count_total_none_and_elements(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    c = await search(client, "/fhir/Observation", _summary="count")
    assert c["total"] == 4 and "entry" not in c
    n = await search(client, "/fhir/Observation", _total="none")
    assert "total" not in n and len(ids(n)) == 4
    e = await search(client, "/fhir/Patient", _id=data["bo"], _elements="birthDate")
    res = e["entry"][0]["resource"]
    assert res["birthDate"] == "1960" and "name" not in res
    assert any(t.get("code") == "SUBSETTED" for t in res["meta"]["tag"])


async def test_post_search_and_lastupdated(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    r = await client.post(
        "/fhir/Patient/_search",
        content=f"_id={data['nancy']}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and ids(r.json()) == [data["nancy"]]
    assert len(ids(await search(client, "/fhir/Patient", _lastUpdated="gt2000-01-01"))) == 2


async def test_unknown_parameters_lenient_and_strict(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    lenient = await search(client, "/fhir/Patient", shoe_size="44")
    assert len(ids(lenient)) == 2
    outcome = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert "shoe_size" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    strict = await client.get(
        "/fhir/Patient", params={"shoe_size": "44"}, headers={"prefer": "handling=strict"}
    )
    assert strict.status_code == 400 and "shoe_size" in strict.text


async def test_malformed_search_values_are_400(client: httpx.AsyncClient) -> None:
    for params in (
        {"birthdate": "1960-13-45"},
        {"_count": "-1"},
        {"value-quantity": "ge1e99999"},
        {"_cursor": "!!!"},
        {"_sort": "nonsense"},
    ):
        r = await client.get(
            "/fhir/Observation" if "value" in str(params) else "/fhir/Patient", params=params
        )
        assert r.status_code == 400, (params, r.text)
        assert r.json()["resourceType"] == "OperationOutcome"


async def test_deleted_resources_leave_search(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    await client.delete(f"/fhir/Observation/{data['o4']}")
    assert ids(await search(client, "/fhir/Observation", patient=data["bo"])) == []


async def test_conditional_create(client: httpx.AsyncClient, data: dict[str, str]) -> None:
    body = orjson.dumps(
        {
            "resourceType": "Patient",
            "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "0101010101"}],
        }
    )
    r = await client.post(
        "/fhir/Patient",
        content=body,
        headers={"content-type": FHIR, "if-none-exist": "identifier=urn:oid:1.2.208.176.1.2|0101010101"},
    )
    assert r.status_code == 200 and r.json()["id"] == data["bo"]
    r = await client.post(
        "/fhir/Patient",
        content=body,
        headers={"content-type": FHIR, "if-none-exist": "identifier=urn:oid:1.2.208.176.1.2|7777777777"},
    )
    assert r.status_code == 201
    r = await client.post(
        "/fhir/Patient", content=body, headers={"content-type": FHIR, "if-none-exist": "gender=male,female"}
    )
    assert r.status_code == 412
