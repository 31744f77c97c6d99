"""Lineage through the real doors: a replacement (RPLC by ITI-41), a deprecation (ITI-57) and a deletion
(ITI-62) take the old document's Observations out of search; no duplicates; 410 names the replacement."""

from __future__ import annotations

import dataclasses

import httpx

from conformance.suites.xds_client import XdsClient
from hub.core.xml_safety import parse_xml
from profiles.cda import read_phmr
from tests import xds_builders as b
from tests.integration.phmr.conftest import CPR, matches, observations, reference_ids, submit
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds import (
    Association,
    AssociationType,
    AvailabilityStatus,
    Code,
    DocumentEntry,
    RegistryObjectList,
    SubmitObjectsRequest,
)
from xds.cda_metadata import derive_document_entry
from xds.phmr.code_displays import with_displays

REPLACEMENT_ID = "9d8c7b6a-5f4e-4d3c-8b2a-190817161514"
FACILITY = Code.of("550621000005101", "2.16.840.1.113883.6.96", "hjemmesygeplejeenhed")
PRACTICE = Code.of("408443003", "2.16.840.1.113883.6.96", "almen medicin")


def _entry(document: bytes) -> DocumentEntry:
    """The ITI-41 metadata a sender derives from its own document (symbolic id ``Document01``)."""
    root = parse_xml(document)
    derived = derive_document_entry(root, document, facility_type=FACILITY, practice_setting=PRACTICE)
    return dataclasses.replace(with_displays(derived, read_phmr(root)), entry_uuid="Document01")


async def _replace(xds: XdsClient, document: bytes, old_entry_uuid: str) -> None:
    rplc = b.relation(AssociationType.RPLC, "Document01", old_entry_uuid, "Rplc01")
    request = b.submission(_entry(document), cpr=CPR, extra=(rplc,))
    reply = await xds.provide_and_register(request, {"Document01": (document, "text/xml")})
    assert reply.status == "Success", (reply.fault, reply.response)


async def _entry_uuid(http: httpx.AsyncClient, doc_id: str) -> str:
    body = (await http.get(f"/fhir/DocumentReference/{doc_id}")).json()
    return str(body["identifier"][0]["value"])


async def test_rplc_by_iti41_retires_the_old_measurements(http: httpx.AsyncClient, xds: XdsClient) -> None:
    original = await submit(http, build_phmr(5))
    assert original.status_code == 201, original.text
    (old_doc,) = reference_ids(original.json(), "documentReference")
    old_observations = reference_ids(original.json(), "observation")
    replacement = build_phmr(6, document_id=REPLACEMENT_ID)
    await _replace(xds, replacement, await _entry_uuid(http, old_doc))

    current = await observations(http)
    assert len(current) == 6  # the replacement's measurements, once; none of the original's
    assert not {o["id"] for o in current} & set(old_observations)
    new_doc = current[0]["derivedFrom"][0]["reference"].split("/")[1]
    assert new_doc != old_doc

    gone = await http.get(f"/fhir/Observation/{old_observations[0]}")
    assert gone.status_code == 410
    explanation = [i for i in gone.json()["issue"] if i["severity"] == "information"]
    assert f"DocumentReference/{new_doc}" in explanation[0]["diagnostics"]
    retired = await http.get(f"/fhir/Observation/{old_observations[0]}/_history/2")
    assert retired.status_code == 200 and retired.json()["status"] == "entered-in-error"
    assert f"replaced by DocumentReference/{new_doc}" in retired.json()["note"][-1]["text"]

    old = (await http.get(f"/fhir/DocumentReference/{old_doc}")).json()
    new = (await http.get(f"/fhir/DocumentReference/{new_doc}")).json()
    assert old["status"] == "superseded" and new["status"] == "current"
    assert new["relatesTo"] == [{"code": "replaces", "target": {"reference": f"DocumentReference/{old_doc}"}}]
    patient = f"urn:oid:1.2.208.176.1.2|{CPR}"
    current_docs = await http.get("/fhir/DocumentReference", params={"patient.identifier": patient})
    assert [d["id"] for d in matches(current_docs.json())] == [new_doc]
    superseded = await http.get(
        "/fhir/DocumentReference", params={"patient.identifier": patient, "status": "superseded"}
    )
    assert [d["id"] for d in matches(superseded.json())] == [old_doc]


async def test_iti57_deprecation_retires_without_replacement(http: httpx.AsyncClient, xds: XdsClient) -> None:
    answer = await submit(http, build_phmr(3))
    (doc_id,) = reference_ids(answer.json(), "documentReference")
    await _deprecate(xds, await _entry_uuid(http, doc_id))
    assert await observations(http) == []
    gone = await http.get(f"/fhir/Observation/{reference_ids(answer.json(), 'observation')[0]}")
    assert gone.status_code == 410
    assert "no longer current" in gone.text and "replaced by" not in gone.text


async def _deprecate(xds: XdsClient, entry_uuid: str) -> None:
    change = Association(
        entry_uuid="Status01",
        association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
        source="SubmissionSet01",
        target=entry_uuid,
        original_status=AvailabilityStatus.APPROVED,
        new_status=AvailabilityStatus.DEPRECATED,
    )
    update = SubmitObjectsRequest(
        objects=RegistryObjectList(submission_sets=(b.submission_set(cpr=CPR),), associations=(change,))
    )
    reply = await xds.update(update)
    assert reply.status == "Success", (reply.fault, reply.response)


async def test_last_updated_marks_each_registry_change(http: httpx.AsyncClient, xds: XdsClient) -> None:
    """meta.lastUpdated of a DocumentReference is when its registry entry last changed, and MHD's
    ``_lastUpdated`` searches it: a client polling "what changed since" sees a deprecation."""
    answer = await submit(http, build_phmr(2))
    (doc_id,) = reference_ids(answer.json(), "documentReference")
    registered = (await http.get(f"/fhir/DocumentReference/{doc_id}")).json()["meta"]["lastUpdated"]
    patient = {"patient.identifier": f"urn:oid:1.2.208.176.1.2|{CPR}", "status": "current,superseded"}

    async def changed(*values: str) -> list[str]:
        params = [*patient.items(), *(("_lastUpdated", v) for v in values)]
        r = await http.get("/fhir/DocumentReference", params=params)
        assert r.status_code == 200, r.text
        return [d["id"] for d in matches(r.json())]

    assert await changed(f"ge{registered}") == [doc_id]
    assert await changed(f"eq{registered}") == [doc_id]  # an instant to the microsecond
    assert await changed(f"gt{registered}") == []
    assert await changed(f"lt{registered}") == []
    assert await changed("ge2000-01-01", f"le{registered}") == [doc_id]  # repeated: AND
    await _deprecate(xds, await _entry_uuid(http, doc_id))
    retired = (await http.get(f"/fhir/DocumentReference/{doc_id}")).json()
    assert retired["status"] == "superseded" and retired["meta"]["lastUpdated"] > registered
    assert await changed(f"gt{registered}") == [doc_id]
    assert await changed(f"le{registered}") == []
    assert await changed(f"eq{retired['meta']['lastUpdated'][:10]}") == [doc_id]  # that whole day
    for bad, words in (("ne2024-01-01", "prefix ne is not supported"), ("soon", "_lastUpdated")):
        r = await http.get("/fhir/DocumentReference", params={**patient, "_lastUpdated": bad})
        assert r.status_code == 400 and words in r.text, r.text
        assert r.json()["resourceType"] == "OperationOutcome"


async def test_iti62_deletion_retires_and_resubmission_restores(
    http: httpx.AsyncClient, xds: XdsClient
) -> None:
    document = build_phmr(2)
    entry = dataclasses.replace(_entry(document), entry_uuid="urn:uuid:5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b")
    submission_set = b.submission_set("urn:uuid:6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c", cpr=CPR)
    member = b.has_member(
        submission_set.entry_uuid, entry.entry_uuid, "urn:uuid:7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    )
    request = SubmitObjectsRequest(
        objects=RegistryObjectList(
            document_entries=(entry,), submission_sets=(submission_set,), associations=(member,)
        )
    )
    reply = await xds.provide_and_register(request, {entry.entry_uuid: (document, "text/xml")})
    assert reply.status == "Success", (reply.fault, reply.response)
    extracted = [o["id"] for o in await observations(http)]
    assert len(extracted) == 2
    reply = await xds.delete([entry.entry_uuid, submission_set.entry_uuid, member.entry_uuid])
    assert reply.status == "Success", (reply.fault, reply.response)
    assert await observations(http) == []
    assert (await http.get(f"/fhir/DocumentReference/{entry.entry_uuid[9:]}")).status_code == 404
    gone = await http.get(f"/fhir/Observation/{extracted[0]}")
    assert gone.status_code == 410 and "no longer current" in gone.text
    # the same document submitted again: its measurements come back (new versions), not duplicated
    again = await submit(http, document)
    assert again.status_code == 201, again.text
    assert sorted(o["id"] for o in await observations(http)) == sorted(extracted)
    assert "0 created, 2 updated" in again.text


async def test_lineage_leaves_other_patients_alone(http: httpx.AsyncClient, xds: XdsClient) -> None:
    mine = await submit(http, build_phmr(2))
    other_doc = build_phmr(2, document_id="aaaabbbb-cccc-4ddd-8eee-ffff00001111")
    other = await submit(http, other_doc)
    assert mine.status_code == other.status_code == 201
    (old_doc,) = reference_ids(mine.json(), "documentReference")
    await _replace(xds, build_phmr(1, document_id=REPLACEMENT_ID), await _entry_uuid(http, old_doc))
    kept = reference_ids(other.json(), "observation")
    assert {o["id"] for o in await observations(http)} >= set(kept)
