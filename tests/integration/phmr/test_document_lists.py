"""MHD ITI-66: SubmissionSets and Folders as ``List``, read and searched from the registry on both engines,
under the same authorisation, consent scope and audit as DocumentReference."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson

from hub.storage import audit_rows_txn
from tests.integration.phmr.conftest import CPR, CPR_SYSTEM, FHIR, Token
from tests.integration.phmr.test_provide_bundle import (
    _folder_entry,
    _listing,
    locations,
    provide,
    provide_bundle,
)
from tests.integration.security.test_fhir_access import consent
from tests.unit.profiles.cda.phmr_builder import build_phmr

LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
PATIENT = {"patient.identifier": f"{CPR_SYSTEM}|{CPR}"}
DOCTOR = {"authorisation_id": "BCD12", "sor": "123456789012"}


async def _submitted(
    http: httpx.AsyncClient, headers: dict[str, str] | None = None, *, measurements: int = 2
) -> list[str]:
    document = build_phmr(measurements, document_id=f"5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c1{measurements}")
    bundle = provide_bundle(document, submission_set=_listing("urn:uuid:folder-1"))
    bundle["entry"][0]["resource"]["title"] = "Målinger uge 9"
    folder = _folder_entry(["urn:uuid:docref-1"])
    folder["resource"]["identifier"][0]["value"] = f"urn:oid:2.25.4711{measurements}"
    bundle["entry"].append(folder)
    r = await provide(http, bundle, headers)
    assert r.status_code == 200, r.text
    return locations(r)  # List (set), DocumentReference, Binary, List (folder)


def _matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


async def test_the_iti65_locations_read_as_lists(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = hub
    submission_set, document, _, folder = await _submitted(http)
    the_set = (await http.get(f"/fhir/{submission_set}")).json()
    assert (
        the_set["resourceType"] == "List" and the_set["mode"] == "working" and the_set["status"] == "current"
    )
    assert the_set["code"]["coding"] == [{"system": LIST_TYPES, "code": "submissionset"}]
    assert the_set["subject"]["identifier"] == {"system": CPR_SYSTEM, "value": CPR}
    assert the_set["title"] == "Målinger uge 9"
    assert {e["item"]["reference"] for e in the_set["entry"]} == {document, folder}
    types = {i["type"]["coding"][0]["code"]: i["value"] for i in the_set["identifier"]}
    assert types["entryUUID"] == "urn:uuid:" + submission_set.removeprefix("List/")
    assert types["uniqueId"].startswith("urn:oid:2.25.")
    source = [x for x in the_set["extension"] if x["url"].endswith("ihe-sourceId")]
    assert source[0]["valueIdentifier"]["value"] == "urn:oid:1.2.208.176.43210.8.20"
    the_folder = (await http.get(f"/fhir/{folder}")).json()
    assert the_folder["code"]["coding"][0]["code"] == "folder"
    assert [e["item"]["reference"] for e in the_folder["entry"]] == [document]
    assert the_folder["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "001"
    missing = await http.get("/fhir/List/0b9e4c2d-7a61-4f3b-9c55-1d2e3f4a5b6c")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


async def test_lists_are_searched_by_patient_code_date_and_identifier(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, _ = hub
    submission_set, _, _, folder = await _submitted(http)
    both = _matches((await http.get("/fhir/List", params=PATIENT)).json())
    assert sorted(f"List/{r['id']}" for r in both) == sorted([submission_set, folder])
    sets = _matches(
        (await http.get("/fhir/List", params={**PATIENT, "code": f"{LIST_TYPES}|submissionset"})).json()
    )
    assert [f"List/{r['id']}" for r in sets] == [submission_set]
    folders = (await http.post("/fhir/List/_search", data={**PATIENT, "code": "folder"})).json()
    assert [f"List/{r['id']}" for r in _matches(folders)] == [folder]
    assert _matches((await http.get("/fhir/List", params={**PATIENT, "date": "lt2000-01-01"})).json()) == []
    assert (
        len(_matches((await http.get("/fhir/List", params={**PATIENT, "date": "ge2000-01-01"})).json())) == 2
    )
    by_id = (await http.get("/fhir/List", params={"_id": folder.removeprefix("List/")})).json()
    assert [r["id"] for r in _matches(by_id)] == [folder.removeprefix("List/")]
    designated = {**PATIENT, "designationType": "urn:oid:1.2.208.184.100.9|001"}
    assert [
        f"List/{r['id']}" for r in _matches((await http.get("/fhir/List", params=designated)).json())
    ] == [folder]
    by_source = {**PATIENT, "sourceId": "urn:oid:1.2.208.176.43210.8.20"}
    assert [f"List/{r['id']}" for r in _matches((await http.get("/fhir/List", params=by_source)).json())] == [
        submission_set
    ]
    other = {"patient.identifier": f"{CPR_SYSTEM}|0101011234"}
    assert _matches((await http.get("/fhir/List", params=other)).json()) == []


async def test_lists_carry_and_are_searched_by_their_last_change(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = hub
    submission_set, _, _, folder = await _submitted(http)
    stamps = {
        ref: (await http.get(f"/fhir/{ref}")).json()["meta"]["lastUpdated"]
        for ref in (submission_set, folder)
    }
    assert stamps[submission_set] == stamps[folder]  # one transaction registered both
    at = stamps[folder]

    async def found(value: str) -> list[str]:
        r = await http.get("/fhir/List", params={**PATIENT, "_lastUpdated": value})
        assert r.status_code == 200, r.text
        return sorted(f"List/{x['id']}" for x in _matches(r.json()))

    assert await found(f"ge{at}") == sorted([submission_set, folder])
    assert await found(f"le{at}") == sorted([submission_set, folder])
    assert await found(f"gt{at}") == []
    assert await found(f"lt{at}") == []
    bad = await http.get("/fhir/List", params={**PATIENT, "_lastUpdated": "ap2024-01-01"})
    assert bad.status_code == 400 and "prefix ap is not supported" in bad.text


async def test_pages_run_through_the_submission_sets_then_the_folders(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    """Pages are cut in the database: SubmissionSets first, then Folders, each oldest first; a page may
    straddle the two, a deep page jumps straight to its Folders, and past the end nothing (and no total)."""
    http, _ = hub
    submitted = [await _submitted(http, measurements=n) for n in (1, 2, 3)]
    sets = [s[0] for s in submitted]
    folders = [s[3] for s in submitted]

    async def page(**params: str) -> tuple[list[str], dict[str, Any]]:
        r = await http.get("/fhir/List", params={**PATIENT, "_count": "2", **params})
        assert r.status_code == 200, r.text
        body = r.json()
        return [f"List/{x['id']}" for x in _matches(body)], body

    first, body = await page()
    assert first == sets[:2] and "total" not in body
    following = next(link["url"] for link in body["link"] if link["relation"] == "next")
    second = (await http.get(following)).json()
    assert [f"List/{x['id']}" for x in _matches(second)] == [sets[2], folders[0]]
    last, body = await page(_offset="4")
    assert last == folders[1:] and body["total"] == 6
    assert not any(link["relation"] == "next" for link in body["link"])
    assert (await page(_offset="5"))[0] == folders[2:]
    beyond, body = await page(_offset="9")
    assert beyond == [] and "total" not in body
    only_folders, _ = await page(code="folder", _offset="1")
    assert only_folders == folders[1:]


async def test_bad_list_requests_are_clear_errors(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = hub
    for params, words in (
        ({}, "needs patient"),
        ({**PATIENT, "code": "other"}, "submissionset"),
        ({**PATIENT, "title": "x"}, "not supported on the registry view of List"),
        ({**PATIENT, "nonsense": "1"}, "unknown search parameter"),
        ({**PATIENT, "designationType": "001"}, "system|code"),
        ({**PATIENT, "_sort": "date"}, "_sort is not supported"),
        ({**PATIENT, "_include": "List:item"}, "_include is not supported"),
    ):
        r = await http.get("/fhir/List", params=params)
        assert r.status_code == 400, (params, r.text)
        assert words in r.text
    write = await http.post("/fhir/List", content=json.dumps({"resourceType": "List"}), headers=FHIR)
    assert write.status_code == 405 and "ITI-65" in write.text
    assert (await http.delete("/fhir/List/abc")).status_code == 405


async def test_a_citizen_sees_only_own_lists_and_reads_are_audited(
    secure_hub: tuple[httpx.AsyncClient, Any], token: Token
) -> None:
    http, services = secure_hub
    submission_set, *_ = await _submitted(http, token("system"))
    own = token("citizen", cpr=CPR, scopes=("patient/*.rs",))
    assert (await http.get(f"/fhir/{submission_set}", headers=own)).status_code == 200
    mine = (await http.get("/fhir/List", params=PATIENT, headers=own)).json()
    assert len(_matches(mine)) == 2
    assert all(e["search"]["mode"] == "match" for e in mine["entry"])  # nothing withheld from the citizen
    stranger = token("citizen", cpr="0101011234", scopes=("patient/*.rs",))
    assert (await http.get(f"/fhir/{submission_set}", headers=stranger)).status_code == 404
    assert _matches((await http.get("/fhir/List", params=PATIENT, headers=stranger)).json()) == []
    await services.fhir.audit.close()
    rows = await services.fhir.db.run("a", audit_rows_txn, 0, 10_000)
    list_id = submission_set.removeprefix("List/")
    reads = [r for r in rows if r.action == "read" and list_id.encode() in r.record]
    assert {(r.outcome, r.patient_key) for r in reads} >= {
        ("0", CPR),
        ("4", None),
    }  # own read; stranger's 404
    doctor = token("physician", purpose="treatment", **DOCTOR)
    assert (await http.get(f"/fhir/{submission_set}", headers=doctor)).status_code == 200
    assert (await http.get(f"/fhir/{submission_set}")).status_code == 401


async def test_a_blocked_professional_sees_no_lists(
    secure_hub: tuple[httpx.AsyncClient, Any], token: Token
) -> None:
    """Negative consent applies inside the registry query, as for ITI-18 and DocumentReference."""
    http, _ = secure_hub
    submission_set, *_ = await _submitted(http, token("system"))
    doctor = token("physician", purpose="treatment", **DOCTOR)
    assert (await http.get(f"/fhir/{submission_set}", headers=doctor)).status_code == 200
    block = consent(CPR, ("https://autregweb.sst.dk", "BCD12"))
    scopes = ("patient/*.rs", "patient/Consent.cruds")
    citizen = token("citizen", cpr=CPR, scopes=scopes)
    blocked = await http.post("/fhir/Consent", content=orjson.dumps(block), headers={**FHIR, **citizen})
    assert blocked.status_code == 201, blocked.text
    assert (await http.get(f"/fhir/{submission_set}", headers=doctor)).status_code == 404
    hidden = (await http.get("/fhir/List", params=PATIENT, headers=doctor)).json()
    assert _matches(hidden) == []
    assert "withheld" in json.dumps([e for e in hidden["entry"] if e["search"]["mode"] == "outcome"])
    emergency = token("physician", purpose="emergency", reason="bevidstløs patient", **DOCTOR)
    assert (await http.get(f"/fhir/{submission_set}", headers=emergency)).status_code == 200


async def test_every_advertised_list_parameter_is_answered(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = hub
    statement = (await http.get("/fhir/metadata")).json()
    lists = next(r for r in statement["rest"][0]["resource"] if r["type"] == "List")
    assert [i["code"] for i in lists["interaction"]] == ["read", "search-type"]
    values = {
        "patient": f"Patient/{CPR}",
        "patient.identifier": f"{CPR_SYSTEM}|{CPR}",
        "subject": f"Patient/{CPR}",
        "code": "submissionset",
        "status": "current",
        "date": "ge2024-01-01",
        "designationType": "urn:oid:1.2.208.184.100.9|001",
        "sourceId": "urn:oid:1.2.208.176.43210.8.20",
        "identifier": "urn:ietf:rfc:3986|urn:oid:2.25.1",
        "_id": "abc",
        "source.given": "And",
        "source.family": "And",
        "_lastUpdated": "ge2024-01-01",
    }
    for parameter in lists["searchParam"]:
        name = parameter["name"]
        params = {name: values[name]}
        if name not in ("patient", "subject", "identifier", "_id"):
            params.update(PATIENT)
        r = await http.get("/fhir/List", params=params)
        assert r.status_code == 200, (name, r.text)


async def test_lists_by_source_name(hub: tuple[httpx.AsyncClient, Any]) -> None:
    """ITI-66 source.given / source.family: the SubmissionSet's authorPerson (here the document's author,
    Anders Andersen, which a SubmissionSet without author takes); a Folder has no author, so a search naming
    a source finds SubmissionSets only."""
    http, _ = hub
    submission_set, _, _, _ = await _submitted(http)

    async def found(**params: str) -> list[str]:
        r = await http.get("/fhir/List", params={**PATIENT, **params})
        assert r.status_code == 200, r.text
        return [f"List/{x['id']}" for x in _matches(r.json())]

    assert await found(**{"source.family": "ANDERSEN"}) == [submission_set]
    assert await found(**{"source.given": "and", "code": "submissionset,folder"}) == [submission_set]
    assert await found(**{"source.family": "Olsen"}) == []
    posted = await http.post(
        "/fhir/List/_search",
        content=f"patient.identifier={CPR_SYSTEM}%7C{CPR}&source.family=Ander",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert [f"List/{x['id']}" for x in _matches(posted.json())] == [submission_set]
