"""MHD ITI-65 Provide Document Bundle through ``POST /fhir``, on both engines: a PHMR with minimal metadata is
completed from its header, registered and stored with its Observations in one transaction; comprehensive
metadata is cross-checked; bad bundles are precise 4xx errors and store nothing."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.storage import audit_rows_txn
from security import AuditAction, AuditOutcome, record_from_bytes
from security.authentication import OPEN_PRINCIPAL
from tests.conftest import TESTDATA, testdata_path
from tests.integration.conftest import make_settings
from tests.integration.phmr.conftest import (
    CPR,
    CPR_SYSTEM,
    FHIR,
    NOTHING,
    Token,
    observations,
    stored_counts,
)
from tests.integration.phmr.test_submit_document import HOSTILE
from tests.integration.validation.conftest import FHIR_XML, open_hub
from tests.unit.profiles.cda.phmr_builder import build_phmr
from tests.xds_calls import query, quoted
from xds.services import Caller
from xds.stored_queries import StoredQueryId

MHD = "https://profiles.ihe.net/ITI/MHD/"
TYPES = MHD + "CodeSystem/IHE.MHD.MHDIdentifierType"
SOURCE_OID = "1.2.208.176.43210.8.20"
EXAMPLES = TESTDATA / "mhd" / "examples"


def provide_bundle(document: bytes, **changes: Any) -> dict[str, Any]:
    """An ITI-65 bundle of one PHMR with minimal metadata (the rest comes from the CDA header)."""
    reference: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": CPR}},
        "content": [{"attachment": {"contentType": "text/xml", "url": "urn:uuid:binary-1"}}],
    }
    reference.update(changes.pop("reference", {}))
    submission_set: dict[str, Any] = {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": MHD + "CodeSystem/MHDlistTypes", "code": "submissionset"}]},
        "extension": [
            {
                "url": MHD + "StructureDefinition/ihe-sourceId",
                "valueIdentifier": {"value": f"urn:oid:{SOURCE_OID}"},
            }
        ],
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": TYPES, "code": "uniqueId"}]},
                "system": "urn:ietf:rfc:3986",
                "value": f"urn:oid:2.25.{int(hashlib.sha1(document).hexdigest()[:24], 16)}",
            }
        ],
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": CPR}},
        "entry": [{"item": {"reference": "urn:uuid:docref-1"}}],
    }
    submission_set.update(changes.pop("submission_set", {}))
    binary = {
        "resourceType": "Binary",
        "contentType": "text/xml",
        "data": base64.b64encode(document).decode(),
    }
    binary.update(changes.pop("binary", {}))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "meta": {"profile": [MHD + "StructureDefinition/IHE.MHD.Minimal.ProvideBundle"]},
        "entry": [
            {
                "fullUrl": "urn:uuid:set-1",
                "resource": submission_set,
                "request": {"method": "POST", "url": "List"},
            },
            {
                "fullUrl": "urn:uuid:docref-1",
                "resource": reference,
                "request": {"method": "POST", "url": "DocumentReference"},
            },
            {
                "fullUrl": "urn:uuid:binary-1",
                "resource": binary,
                "request": {"method": "POST", "url": "Binary"},
            },
        ],
    }
    bundle.update(changes)
    return bundle


async def provide(
    http: httpx.AsyncClient, bundle: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post("/fhir", content=json.dumps(bundle), headers={**FHIR, **(headers or {})})


def locations(response: httpx.Response) -> list[str]:
    body = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "transaction-response", body
    assert all(e["response"]["status"] == "201 Created" for e in body["entry"])
    return [e["response"]["location"] for e in body["entry"]]


async def test_a_phmr_with_minimal_metadata_is_registered_with_its_observations(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, services = hub
    document = build_phmr(4)
    r = await provide(http, provide_bundle(document))
    assert r.status_code == 200, r.text
    list_location, reference_location, binary_location = locations(r)
    assert list_location.startswith("List/")
    doc_id = reference_location.removeprefix("DocumentReference/")
    assert binary_location == f"Binary/{doc_id}"
    # the DocumentReference view: metadata completed from the CDA header
    reference = (await http.get(f"/fhir/DocumentReference/{doc_id}")).json()
    assert reference["type"]["coding"][0]["code"] == "53576-5"
    assert reference["masterIdentifier"]["value"] == "5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11"
    assert reference["context"]["facilityType"]["coding"][0]["code"]
    assert (
        reference["content"][0]["attachment"]["hash"]
        == base64.b64encode(hashlib.sha1(document).digest()).decode()
    )
    # ITI-68 gives the very bytes back; the measurements are Observations derived from the document
    assert (await http.get(f"/fhir/{binary_location}")).content == document
    found = await observations(http, **{"derived-from": reference_location})
    assert len(found) == 4
    # audited as ITI-65
    await services.xds.runtime.audit.close()
    rows = await services.fhir.db.run("a", audit_rows_txn, 0, 10_000)
    records = [record_from_bytes(row.record) for row in rows if row.action == AuditAction.ITI_65.value]
    assert [r.outcome for r in records] == [AuditOutcome.SUCCESS]


async def test_the_response_follows_the_request_order(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = hub
    bundle = provide_bundle(build_phmr(2))
    bundle["entry"].reverse()  # Binary, DocumentReference, List
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    binary, reference, submission_set = locations(r)
    assert binary.startswith("Binary/") and reference.startswith("DocumentReference/")
    assert submission_set.startswith("List/")


async def test_a_patient_reference_resolves_through_the_hubs_patient(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, _ = hub
    patient = {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": CPR}]}
    created = await http.post("/fhir/Patient", content=json.dumps(patient), headers=FHIR)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    subject = {"reference": f"Patient/{patient_id}"}
    listing = {"subject": subject, **_listing("urn:uuid:folder-1")}
    bundle = provide_bundle(build_phmr(2), reference={"subject": subject}, submission_set=listing)
    folder = _folder_entry(["urn:uuid:docref-1"])
    folder["resource"]["subject"] = subject  # the folder names the patient the same way
    bundle["entry"].append(folder)
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    assert len(locations(r)) == 4


async def test_submitted_metadata_is_cross_checked_against_the_header(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, services = hub
    wrong = {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3.4.5"}
    r = await provide(http, provide_bundle(build_phmr(2), reference={"masterIdentifier": wrong}))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "uniqueId" in json.dumps(body)
    assert await stored_counts(http, services) == NOTHING


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"type": "batch"}, 400, "'transaction' Bundle"),
        ({"binary": {"data": "not base64!"}}, 400, "base64"),
        ({"reference": {"content": [{"attachment": {"url": "urn:uuid:nowhere"}}]}}, 422, "names no Binary"),
        ({"reference": {"status": "superseded"}}, 422, "status must be 'current'"),
        ({"reference": {"subject": {"reference": "Patient/unknown"}}}, 422, "no CPR identifier"),
        ({"reference": {"subject": {"identifier": {"value": CPR}}}}, 422, "urn:oid:"),
        (
            {"reference": {"content": [{"attachment": {"url": "urn:uuid:binary-1", "hash": "AAAA"}}]}},
            422,
            "SHA-1",
        ),
        ({"submission_set": {"entry": []}}, 422, "does not list"),
        ({"submission_set": {"extension": []}}, 422, "ihe-sourceId"),
        ({"submission_set": {"identifier": []}}, 422, "uniqueId"),
        ({"binary": {"contentType": "application/pdf"}}, 422, "differs from the Binary's contentType"),
    ],
)
async def test_bad_bundles_are_precise_errors_and_store_nothing(
    hub: tuple[httpx.AsyncClient, Any], change: dict[str, Any], status: int, words: str
) -> None:
    http, services = hub
    r = await provide(http, provide_bundle(build_phmr(2), **copy.deepcopy(change)))
    assert r.status_code == status, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert words in r.text
    assert await stored_counts(http, services) == NOTHING


async def test_a_wrong_hash_or_size_is_the_repository_error(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, services = hub
    other = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    attachment = {"contentType": "text/xml", "url": "urn:uuid:binary-1", "hash": other}
    r = await provide(
        http, provide_bundle(build_phmr(2), reference={"content": [{"attachment": attachment}]})
    )
    assert r.status_code == 422, r.text
    assert "XDSRepositoryMetadataError: [XDS-REP-03] hash" in r.text
    attachment = {"contentType": "text/xml", "url": "urn:uuid:binary-1", "size": 3}
    r = await provide(
        http, provide_bundle(build_phmr(2), reference={"content": [{"attachment": attachment}]})
    )
    assert r.status_code == 422, r.text
    assert "XDSRepositoryMetadataError" in r.text and "size" in r.text
    assert await stored_counts(http, services) == NOTHING


async def test_other_resources_and_stray_binaries_are_refused(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, services = hub
    document = build_phmr(2)
    device = provide_bundle(document)
    device["entry"].append(
        {
            "fullUrl": "urn:uuid:d",
            "resource": {"resourceType": "Device"},
            "request": {"method": "POST", "url": "Device"},
        }
    )
    stray = provide_bundle(document)
    extra = copy.deepcopy(stray["entry"][2])
    extra["fullUrl"] = "urn:uuid:binary-2"
    stray["entry"].append(extra)
    twice = provide_bundle(document)
    twice["entry"][2]["fullUrl"] = "urn:uuid:docref-1"
    unlisted_folder = provide_bundle(document)
    unlisted_folder["entry"].append(_folder_entry(["urn:uuid:docref-1"]))
    bad_member = provide_bundle(document, submission_set=_listing("urn:uuid:folder-1"))
    bad_member["entry"].append(_folder_entry(["urn:uuid:elsewhere"]))
    for bundle, words in (
        (device, "List, DocumentReference, Binary and one Patient read only"),
        (stray, "is not the content of any DocumentReference"),
        (twice, "used twice"),
        (unlisted_folder, "does not list the Folder"),
        (bad_member, "names no DocumentReference of this bundle"),
    ):
        r = await provide(http, bundle)
        assert r.status_code in (400, 422), r.text
        assert words in r.text, r.text
    assert await stored_counts(http, services) == NOTHING


async def _hub_patient(http: httpx.AsyncClient) -> str:
    patient = {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": CPR}]}
    created = await http.post("/fhir/Patient", content=json.dumps(patient), headers=FHIR)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _patient_entry(request: dict[str, str], **resource: Any) -> dict[str, Any]:
    return {
        "fullUrl": "urn:uuid:patient-1",
        "resource": {"resourceType": "Patient", **resource},
        "request": request,
    }


async def test_a_patient_entry_read_names_the_documents_patient(hub: tuple[httpx.AsyncClient, Any]) -> None:
    """MHD's ProvideBundle may carry one Patient; telehub takes it as a read (GET Patient/<id>) of a patient
    it knows: references to its fullUrl mean that patient's CPR, and its response entry is 200 with the
    Patient's location (nothing is created or changed)."""
    http, services = hub
    patient_id = await _hub_patient(http)
    by_entry = {"reference": "urn:uuid:patient-1"}
    bundle = provide_bundle(
        build_phmr(2), reference={"subject": by_entry}, submission_set={"subject": by_entry}
    )
    cpr = [{"system": CPR_SYSTEM, "value": CPR}]
    bundle["entry"].append(_patient_entry({"method": "GET", "url": f"Patient/{patient_id}"}, identifier=cpr))
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    answers = [e["response"] for e in r.json()["entry"]]
    assert [a["status"] for a in answers] == ["201 Created", "201 Created", "201 Created", "200 OK"]
    assert answers[3]["location"] == f"Patient/{patient_id}"
    reference = (await http.get(f"/fhir/{answers[1]['location']}")).json()
    assert reference["subject"]["identifier"]["value"] == CPR
    counts = await stored_counts(http, services)
    assert (counts["entries"], counts["observations"]) == (1, 2)
    patients = (await http.get("/fhir/Patient", params={"identifier": f"{CPR_SYSTEM}|{CPR}"})).json()
    assert [e["resource"]["id"] for e in patients["entry"]] == [patient_id]  # read, not created again


async def test_patient_entries_that_would_create_or_cannot_be_read_are_refused(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, services = hub
    patient_id = await _hub_patient(http)
    before = await stored_counts(http, services)
    by_entry = {"reference": "urn:uuid:patient-1"}
    other_cpr = [{"system": CPR_SYSTEM, "value": "0101010000"}]
    cases = [
        (_patient_entry({"method": "POST", "url": "Patient"}), 422, "does not create or update patients"),
        (_patient_entry({"method": "PUT", "url": f"Patient/{patient_id}"}), 422, "does not create or update"),
        (_patient_entry({"method": "GET", "url": "Patient?identifier=x"}), 400, "must be GET Patient/<id>"),
        (_patient_entry({"method": "GET", "url": "Patient/unknown"}), 422, "does not know"),
        (
            _patient_entry({"method": "GET", "url": f"Patient/{patient_id}"}, identifier=other_cpr),
            422,
            "CPR identifier of another patient",
        ),
    ]
    for entry, status, words in cases:
        bundle = provide_bundle(
            build_phmr(2), reference={"subject": by_entry}, submission_set={"subject": by_entry}
        )
        bundle["entry"].append(entry)
        r = await provide(http, bundle)
        assert r.status_code == status, (words, r.text)
        assert words in r.text, r.text
    twice = provide_bundle(build_phmr(2))
    second = _patient_entry({"method": "GET", "url": f"Patient/{patient_id}"})
    twice["entry"] += [
        _patient_entry({"method": "GET", "url": f"Patient/{patient_id}"}),
        {**second, "fullUrl": "urn:uuid:p2"},
    ]
    r = await provide(http, twice)
    assert r.status_code == 422 and "at most one Patient" in r.text, r.text
    assert await stored_counts(http, services) == before


def _folder_entry(members: list[str]) -> dict[str, Any]:
    folder = {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": MHD + "CodeSystem/MHDlistTypes", "code": "folder"}]},
        "extension": [
            {
                "url": MHD + "StructureDefinition/ihe-designationType",
                "valueCodeableConcept": {
                    "coding": [
                        {"system": "urn:oid:1.2.208.184.100.9", "code": "001", "display": "Klinisk rapport"}
                    ]
                },
            }
        ],
        "identifier": [{"use": "usual", "system": "urn:ietf:rfc:3986", "value": "urn:oid:2.25.4711"}],
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": CPR}},
        "title": "Hjemmemålinger",
        "entry": [{"item": {"reference": m}} for m in members],
    }
    return {"fullUrl": "urn:uuid:folder-1", "resource": folder, "request": {"method": "POST", "url": "List"}}


def _listing(*extra: str) -> dict[str, Any]:
    return {"entry": [{"item": {"reference": r}} for r in ("urn:uuid:docref-1", *extra)]}


async def test_a_new_folder_holds_its_documents(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, services = hub
    bundle = provide_bundle(build_phmr(2), submission_set=_listing("urn:uuid:folder-1"))
    bundle["entry"].append(_folder_entry(["urn:uuid:docref-1"]))
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    found = locations(r)
    assert found[3].startswith("List/")
    folder_uuid = "urn:uuid:" + found[3].removeprefix("List/")
    answer = await query(
        services.xds,
        Caller(OPEN_PRINCIPAL),
        StoredQueryId.GET_FOLDER_AND_CONTENTS,
        {"$XDSFolderEntryUUID": [quoted(folder_uuid)]},
        leaf=True,
    )
    assert [f.entry_uuid for f in answer.result.folders] == [folder_uuid]
    assert [e.entry_uuid.removeprefix("urn:uuid:") for e in answer.result.entries] == [
        found[1].removeprefix("DocumentReference/")
    ]


async def test_a_replacement_supersedes_the_original_and_its_observations(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, _ = hub
    first = await provide(http, provide_bundle(build_phmr(3)))
    assert first.status_code == 200, first.text
    original = locations(first)[1]
    replacement = build_phmr(3, document_id="0b9e4c2d-7a61-4f3b-9c55-1d2e3f4a5b6c")
    relates = {"relatesTo": [{"code": "replaces", "target": {"reference": original}}]}
    second = await provide(http, provide_bundle(replacement, reference=relates))
    assert second.status_code == 200, second.text
    assert (await http.get(f"/fhir/{original}")).json()["status"] == "superseded"
    assert len(await observations(http, **{"derived-from": original})) == 0
    assert len(await observations(http, **{"derived-from": locations(second)[1]})) == 3


async def test_a_non_mhd_transaction_still_goes_to_the_fhir_store(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, _ = hub
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": CPR}]},
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    assert r.json()["entry"][0]["response"]["status"].startswith("201")


async def test_only_systems_submit_and_refusals_are_audited(
    secure_hub: tuple[httpx.AsyncClient, Any], token: Token
) -> None:
    http, services = secure_hub
    bundle = provide_bundle(build_phmr(2))
    assert (await provide(http, bundle)).status_code == 401
    doctor = token("physician", purpose="treatment", authorisation_id="BCD12", sor="123456789012")
    refused = await provide(http, bundle, doctor)
    assert refused.status_code == 403, refused.text
    system = token("system")
    r = await provide(http, bundle, system)
    assert r.status_code == 200, r.text
    await services.xds.runtime.audit.close()
    rows = await services.fhir.db.run("a", audit_rows_txn, 0, 10_000)
    outcomes = [
        record_from_bytes(row.record).outcome for row in rows if row.action == AuditAction.ITI_65.value
    ]
    assert AuditOutcome.SUCCESS in outcomes and len(outcomes) >= 2


def _example(name: str) -> dict[str, Any]:
    path: Path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} (../shared/testdata) is not available")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _with_displays(node: Any) -> Any:
    if isinstance(node, dict):
        if "code" in node and "system" in node and "display" not in node:
            node["display"] = f"display of {node['code']}"
        for value in node.values():
            _with_displays(value)
    elif isinstance(node, list):
        for value in node:
            _with_displays(value)
    return node


@pytest.mark.parametrize("xds_overrides", [{"danish_profile_strictness": "warning"}])
async def test_the_ihe_comprehensive_example_is_registered(hub: tuple[httpx.AsyncClient, Any]) -> None:
    """IHE's own ITI-65 example (a text document, US codes), with the patient made a Danish CPR and a display
    on every coding (XDS names every code; the example's codings have none) and a SubmissionSet uniqueId of
    at most 64 characters (ITI TF-3 4.2.3.3.12; the example's has 76): accepted when the Danish value-set
    checks only warn, and the document comes back byte for byte."""
    http, _ = hub
    bundle = _with_displays(_example("Bundle-ex-comprehensiveProvideDocumentBundleSimple.json"))
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "urn:oid:1.2.840.113556.1.8000.2554.58783"
    cpr = {"identifier": {"system": CPR_SYSTEM, "value": CPR}}
    for entry in bundle["entry"]:
        if "subject" in entry["resource"]:
            entry["resource"]["subject"] = cpr
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    found = locations(r)
    assert [x.split("/")[0] for x in found] == ["List", "DocumentReference", "Binary"]
    assert (await http.get(f"/fhir/{found[2]}")).content == b"Hello World"
    reference = (await http.get(f"/fhir/{found[1]}")).json()
    assert reference["masterIdentifier"]["value"].startswith("urn:oid:1.2.840.113556.1.8000.2554.53432")
    assert reference["securityLabel"][0]["coding"][0]["code"] == "R"


async def test_the_ihe_example_fails_the_danish_value_sets_by_default(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, services = hub
    bundle = _example("Bundle-ex-comprehensiveProvideDocumentBundleSimple.json")
    for entry in bundle["entry"]:
        if "subject" in entry["resource"]:
            entry["resource"]["subject"] = {"identifier": {"system": CPR_SYSTEM, "value": CPR}}
    r = await provide(http, bundle)
    assert r.status_code == 422, r.text
    assert "XDSRegistryMetadataError" in r.text
    assert await stored_counts(http, services) == NOTHING


@pytest.mark.parametrize("xds_overrides", [{"danish_profile_strictness": "warning"}])
async def test_the_ihe_complete_example_registers_its_folder_and_authors(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    """IHE's comprehensive example with a Folder, contained authors and source patient: made Danish as
    above, the referenceId given an OID assigning authority (CXi needs one) and the relatesTo to a document
    this hub never saw removed."""
    http, services = hub
    bundle = _with_displays(_example("Bundle-ex-comprehensiveProvideDocumentBundleComplete.json"))
    for number, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        if "subject" in resource:
            resource["subject"] = {"identifier": {"system": CPR_SYSTEM, "value": CPR}}
        if resource["resourceType"] == "List":
            resource["identifier"][0]["value"] = f"urn:oid:2.25.{4711 + number}"
        if resource["resourceType"] == "DocumentReference":
            resource.pop("relatesTo", None)
            for related in resource["context"]["related"]:
                related["identifier"]["system"] = "urn:oid:1.2.208.176.43210.8.30"
    r = await provide(http, bundle)
    assert r.status_code == 200, r.text
    found = locations(r)
    folders = [x for x, e in zip(found, bundle["entry"], strict=True) if _is_folder(e["resource"])]
    document = next(x for x in found if x.startswith("DocumentReference/"))
    reference = (await http.get(f"/fhir/{document}")).json()
    assert {"type": "Organization", "display": "my Hospital"} in reference["author"]
    assert reference["context"]["related"][0]["identifier"]["system"] == "urn:oid:1.2.208.176.43210.8.30"
    answer = await query(
        services.xds,
        Caller(OPEN_PRINCIPAL),
        StoredQueryId.GET_FOLDER_AND_CONTENTS,
        {"$XDSFolderEntryUUID": [quoted("urn:uuid:" + folders[0].removeprefix("List/"))]},
        leaf=True,
    )
    assert len(answer.result.folders) == 1
    assert [e.entry_uuid for e in answer.result.entries] == [
        "urn:uuid:" + document.removeprefix("DocumentReference/")
    ]


def _is_folder(resource: dict[str, Any]) -> bool:
    return resource["resourceType"] == "List" and resource["code"]["coding"][0]["code"] == "folder"


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_documents_in_the_binary_store_nothing(
    hub: tuple[httpx.AsyncClient, Any], name: str
) -> None:
    """Billion laughs, XXE (file and http), truncated and rule-breaking PHMRs: the same safe parse and DK
    rules as ITI-41, a 422 naming the problem, nothing stored."""
    http, services = hub
    r = await provide(http, provide_bundle(HOSTILE[name]))
    assert r.status_code == 422, r.text
    errors = [i for i in r.json()["issue"] if i["severity"] in ("error", "fatal")]
    assert errors, r.text
    assert await stored_counts(http, services) == NOTHING


async def test_malformed_and_oversized_bodies_are_refused(hub: tuple[httpx.AsyncClient, Any]) -> None:
    http, services = hub
    broken = await http.post(
        "/fhir", content=b'{"resourceType": "Bundle", "type": "transaction", "entry": [', headers=FHIR
    )
    assert broken.status_code == 400, broken.text
    assert broken.json()["resourceType"] == "OperationOutcome"
    limit = services.settings.max_body_bytes
    huge = provide_bundle(build_phmr(2), binary={"data": base64.b64encode(b"x" * limit).decode()})
    r = await provide(http, huge)
    assert r.status_code == 413, r.text
    assert await stored_counts(http, services) == NOTHING


async def test_the_capability_statement_names_the_document_recipient(
    hub: tuple[httpx.AsyncClient, Any],
) -> None:
    http, _ = hub
    statement = (await http.get("/fhir/metadata")).json()
    assert statement["instantiates"] == [
        MHD + "CapabilityStatement/IHE.MHD.DocumentRecipient",
        MHD + "CapabilityStatement/IHE.MHD.DocumentResponder",
    ]
    interactions = {i["code"]: i for i in statement["rest"][0]["interaction"]}
    assert "ITI-65" in interactions["transaction"]["documentation"]
    operations = {o["name"]: o["definition"] for o in statement["rest"][0]["operation"]}
    assert operations["submit-document"] == "http://telehub.dk/fhir/OperationDefinition/submit-document"


@pytest.fixture
async def xml_hub(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A hub with hl7.fhir.r4.core configured (FHIR XML needs it); skipped without ../shared/testdata."""
    core = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    settings = make_settings(database_url, tmp_path / "var", validation={"packages": [str(core)]})
    async with open_hub(settings) as opened:
        yield opened


async def test_an_iti65_bundle_in_fhir_xml_is_registered(xml_hub: tuple[httpx.AsyncClient, Any]) -> None:
    """With the core package installed, the same bundle sent as FHIR XML gets the same answer, in XML."""
    http, services = xml_hub
    codec = services.validation.xml_codec()
    assert codec is not None
    body = codec.serialise(provide_bundle(build_phmr(2)))
    r = await http.post("/fhir", content=body, headers={"content-type": FHIR_XML, "accept": FHIR_XML})
    assert r.status_code == 200, r.text
    answer = codec.parse(r.content)
    assert answer["type"] == "transaction-response"
    found = [e["response"]["location"] for e in answer["entry"]]
    assert [x.split("/")[0] for x in found] == ["List", "DocumentReference", "Binary"]
    assert (await http.get(f"/fhir/{found[2]}")).content == build_phmr(2)


async def test_the_same_bundle_sent_twice_at_once_is_stored_once(hub: tuple[httpx.AsyncClient, Any]) -> None:
    """Two identical submissions race: one is registered, the other is refused whole (its SubmissionSet
    uniqueId is taken), and nothing of the refused one remains."""
    http, services = hub
    bundle = provide_bundle(build_phmr(3))
    first, second = await asyncio.gather(provide(http, bundle), provide(http, bundle))
    assert sorted([first.status_code, second.status_code]) == [200, 422], (first.text, second.text)
    refused = first if first.status_code == 422 else second
    assert "XDSDuplicateUniqueIdInRegistry" in refused.text or "uniqueId" in refused.text
    assert await stored_counts(http, services) == {
        "entries": 1,
        "observations": 3,
        "devices": 1,
        "repository": 1,
    }


@pytest.mark.parametrize("xds_overrides", [{"danish_profile_strictness": "warning"}])
async def test_the_ihe_minimal_example_resolves_its_patient_read(hub: tuple[httpx.AsyncClient, Any]) -> None:
    """IHE's Minimal example carries its Patient as an entry that its DocumentReference and SubmissionSet
    reference by fullUrl. Sent as a read of the hub's Patient with the CPR (telehub creates no patients), the
    references resolve; the text document's minimal metadata then lacks what an XDS registry requires
    (only a PHMR's is completed from its header), and the 422 names exactly those attributes - none about the
    patient - and stores nothing."""
    http, services = hub
    patient_id = await _hub_patient(http)
    bundle = _with_displays(_example("Bundle-ex-minimalProvideDocumentBundleSimple.json"))
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "urn:oid:1.2.840.113556.1.8000.2554.58784"
    patient_entry = bundle["entry"][3]
    assert patient_entry["resource"]["resourceType"] == "Patient"
    patient_entry["request"] = {"method": "GET", "url": f"Patient/{patient_id}"}
    patient_entry["resource"]["identifier"] = [{"system": CPR_SYSTEM, "value": CPR}]
    r = await provide(http, bundle)
    assert r.status_code == 422, r.text
    issues = r.json()["issue"]
    assert {i["details"]["coding"][0]["code"] for i in issues} == {"XDS-REQ-01"}
    missing = {i["diagnostics"].rsplit("] ", 1)[1] for i in issues}
    assert "classCode is required" in missing and "typeCode is required" in missing
    assert not any("patient" in m.lower() for m in missing)
    assert await stored_counts(http, services) == NOTHING
