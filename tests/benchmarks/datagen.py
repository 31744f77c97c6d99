"""Synthetic Danish home measurements for benchmarks: patients with CPR-shaped identifiers and their
weight / SpO2 / blood-pressure / pulse Observations, loaded in bulk through the hub's own write path."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

from hub.core.settings import Settings
from hub.fhir import FhirService
from hub.fhir.writes import finalise, prepare
from hub.storage import Database, NewResource, insert_new_many_txn

NPU = "urn:oid:1.2.208.176.2.1"
CODES = [
    ("NPU03804", "kg", 60.0, 110.0),
    ("NPU03011", "%", 88.0, 99.0),
    ("DNK05472", "mm[Hg]", 100.0, 170.0),
    ("DNK05473", "mm[Hg]", 60.0, 100.0),
    ("NPU21692", "{beat}/min", 50.0, 110.0),
]
START = 1_672_531_200  # 2023-01-01T00:00:00Z
SPAN = 2 * 365 * 86_400


def patient_id(n: int) -> str:
    return f"pt-{n:07d}"


def patient(n: int) -> dict[str, Any]:
    day, month, year = 1 + n % 28, 1 + n % 12, 30 + n % 60
    return {
        "resourceType": "Patient",
        "id": patient_id(n),
        "identifier": [
            {"system": "urn:oid:1.2.208.176.1.2", "value": f"{day:02d}{month:02d}{year:02d}{n % 10000:04d}"}
        ],
        "name": [{"family": f"Hansen{n}", "given": ["Bo"]}],
        "birthDate": f"19{year}-{month:02d}-{day:02d}",
    }


def observation(pid: str, rng: random.Random, code_index: int | None = None) -> dict[str, Any]:
    code, unit, low, high = CODES[code_index if code_index is not None else rng.randrange(len(CODES))]
    when = time.strftime("%Y-%m-%dT%H:%M:%S+01:00", time.gmtime(START + rng.randrange(SPAN)))
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": NPU, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": round(rng.uniform(low, high), 1),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
        "method": {
            "coding": [
                {"system": "urn:oid:1.2.208.184.100.1", "code": "POT"},
                {"system": "urn:oid:1.2.208.184.100.1", "code": "AUT"},
            ]
        },
    }


def observations(total: int, patients: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(total):
        yield observation(patient_id(i % patients), rng)


async def load(
    svc: FhirService, resources: Iterator[dict[str, Any]], *, batch: int = 2000, progress: bool = True
) -> int:
    """Insert through prepare() (checks + index extraction) and the bulk insert, ``batch`` per transaction."""
    done = 0
    started = time.perf_counter()
    chunk: list[NewResource] = []
    for resource in resources:
        rid = resource.get("id") or str(uuid.uuid4())
        p = prepare(svc, resource, resource_id=rid, expected_type=resource["resourceType"])
        now = svc.clock()
        chunk.append(
            NewResource(
                p.resource_type,
                p.resource_id,
                now,
                p.patient_key,
                finalise(p, version=1, last_updated=now),
                p.index,
            )
        )
        if len(chunk) >= batch:
            await svc.db.run_write("bench_load", insert_new_many_txn, chunk, "POST")
            done += len(chunk)
            chunk = []
            if progress and done % 50_000 == 0:
                rate = done / (time.perf_counter() - started)
                print(f"  loaded {done:,} ({rate:,.0f}/s)", flush=True)
    if chunk:
        await svc.db.run_write("bench_load", insert_new_many_txn, chunk, "POST")
        done += len(chunk)
    return done


def service(database_url: str) -> FhirService:
    from hub.app import build_services

    return build_services(Settings(database_url=database_url)).fhir


__all__ = ["CODES", "Database", "load", "observation", "observations", "patient", "patient_id", "service"]
