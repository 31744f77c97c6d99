"""Observation/Device writes and the lineage rule on a real database (SQLite, and PostgreSQL when configured):
bulk insert in a savepoint, idempotent re-writes, retargeting, the hub-Patient reference, retire/restore."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from hub.core.settings import Settings
from hub.fhir import FhirService, RequestContext, create, history, search_type, vread
from hub.storage import Database
from tests.unit.profiles.cda.phmr_builder import build_phmr
from tests.unit.xds.phmr.conftest import LOCAL_BASE, fhir_service
from xds import AvailabilityStatus, DocumentEntry
from xds.phmr import PhmrPayload, PhmrProcessor, WriteResult, retirement_txn
from xds.phmr.lineage import retire_txn
from xds.phmr.measurement_writes import persist_measurements_txn
from xds.services import SubmittedDocument

CPR = "2512484916"
FINAL = "urn:uuid:3f0c8a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
CTX = RequestContext(base_url=LOCAL_BASE)


@pytest.fixture
async def store(database: Database, tmp_path: Any) -> FhirService:
    settings = Settings(
        database_url="sqlite+aiosqlite:///unused", data_dir=tmp_path, base_url="http://testserver"
    )
    return fhir_service(settings, database)


def _payload(
    fhir: FhirService, settings: Settings, measurements: int = 4
) -> tuple[PhmrPayload, DocumentEntry]:
    processor = PhmrProcessor.from_settings(settings, fhir)
    processed = processor.process(SubmittedDocument("Document01", "text/xml", build_phmr(measurements), None))
    assert isinstance(processed.payload, PhmrPayload) and processed.derived_entry is not None
    entry = dataclasses.replace(processed.derived_entry, entry_uuid=FINAL)
    return processed.payload, entry


async def _persist(
    fhir: FhirService, payload: PhmrPayload, entry: DocumentEntry
) -> list[tuple[str, str, WriteResult]]:
    return await fhir.db.run_write("test_persist", persist_measurements_txn, fhir, payload, entry, None)


async def _search(fhir: FhirService, *params: tuple[str, str]) -> list[dict[str, Any]]:
    body = (await search_type(fhir, CTX, "Observation", list(params))).body
    return [
        orjson.loads(orjson.dumps(e["resource"]))
        for e in body.get("entry", [])
        if e["search"]["mode"] == "match"
    ]


async def test_first_write_creates_and_a_repeat_changes_nothing(store: FhirService) -> None:
    payload, entry = _payload(store, store.settings)
    first = await _persist(store, payload, entry)
    assert [r for _, _, r in first] == [WriteResult.CREATED] * 5  # 1 Device + 4 Observations
    again = await _persist(store, payload, entry)  # the savepoint's insert conflicts: one by one
    assert [r for _, _, r in again] == [WriteResult.UNCHANGED] * 5
    found = await _search(store, ("patient:identifier", f"urn:oid:1.2.208.176.1.2|{CPR}"))
    assert len(found) == 4 and all(o["meta"]["versionId"] == "1" for o in found)


async def test_derived_from_is_retargeted_to_the_final_entry(store: FhirService) -> None:
    payload, entry = _payload(store, store.settings, 2)
    assert payload.reference_id != FINAL[9:]
    await _persist(store, payload, entry)
    final = await _search(store, ("derived-from", f"DocumentReference/{FINAL[9:]}"))
    assert len(final) == 2 and final[0]["derivedFrom"] == [{"reference": f"DocumentReference/{FINAL[9:]}"}]
    assert await _search(store, ("derived-from", f"DocumentReference/{payload.reference_id}")) == []


async def test_subject_names_the_hub_patient_when_there_is_one(store: FhirService) -> None:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": CPR}],
        "name": [{"family": "Berggren"}],
    }
    created = await create(store, CTX, "Patient", patient)
    pid = created.stored.res_id
    payload, entry = _payload(store, store.settings, 2)
    await _persist(store, payload, entry)
    by_reference = await _search(
        store, ("patient", f"Patient/{pid}"), ("code", "urn:oid:1.2.208.176.2.1|NPU03804")
    )
    assert len(by_reference) == 1
    assert by_reference[0]["subject"]["reference"] == f"Patient/{pid}"
    assert by_reference[0]["subject"]["identifier"]["value"] == CPR
    assert len(await _search(store, ("patient:identifier", f"urn:oid:1.2.208.176.1.2|{CPR}"))) == 2


async def test_retire_then_restore(store: FhirService) -> None:
    payload, entry = _payload(store, store.settings, 3)
    await _persist(store, payload, entry)
    deprecated = dataclasses.replace(entry, availability_status=AvailabilityStatus.DEPRECATED)
    retired = await store.db.run_write("test_retire", retire_txn, store, [deprecated], {})
    assert retired == 3
    assert await _search(store, ("derived-from", f"DocumentReference/{FINAL[9:]}")) == []
    obs_id = payload.observations[0].resource_id
    kept = await vread(store, CTX, "Observation", obs_id, "2")
    assert kept.data is not None
    body = orjson.loads(kept.data)
    assert body["status"] == "entered-in-error" and "was deprecated" in body["note"][-1]["text"]
    versions = (await history(store, CTX, "Observation", obs_id, [])).body["entry"]
    assert len(versions) == 3
    retirement = await store.db.run("test_retirement", retirement_txn, obs_id)
    assert retirement is not None and retirement.document == FINAL[9:] and retirement.replaced_by is None
    assert retirement.version == 2 and "no longer current" in retirement.explanation()
    # submitting the document again brings the measurements back as new versions
    restored = await _persist(store, payload, entry)
    observations = [r for t, _, r in restored if t == "Observation"]
    assert observations == [WriteResult.UPDATED] * 3
    assert len(await _search(store, ("derived-from", f"DocumentReference/{FINAL[9:]}"))) == 3
    assert await store.db.run("test_retirement", retirement_txn, obs_id) is None


async def test_retiring_an_unrelated_entry_touches_nothing(store: FhirService) -> None:
    payload, entry = _payload(store, store.settings, 2)
    await _persist(store, payload, entry)
    other = dataclasses.replace(entry, entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000000")
    assert await store.db.run_write("test_retire", retire_txn, store, [other], {}) == 0
    assert await store.db.run_write("test_retire", retire_txn, store, [], {}) == 0
    assert len(await _search(store, ("derived-from", f"DocumentReference/{FINAL[9:]}"))) == 2
