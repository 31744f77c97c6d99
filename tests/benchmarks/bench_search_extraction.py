"""Search-index extraction cost per resource (hub.fhir.search.extraction).

Run: ``.venv/bin/python -m tests.benchmarks.bench_search_extraction``.  Prints
microseconds per resource (best of several rounds, so other load on the machine
inflates the figure as little as possible) for the fast path and for
fhirpathpy-only evaluation, on official R4 examples when ../shared/testdata is
present and on a built-in telemedicine Observation otherwise.  Never fails on time.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

from hub.fhir.search import IndexExtractor, default_registry, patient_compartment_key

_EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "fhir" / "examples"

# A typical home-monitoring measurement (hand-written): blood pressure with two components.
_HOME_BP: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "bp-1",
    "meta": {"lastUpdated": "2024-03-05T10:15:00+01:00", "profile": ["http://medcomfhir.dk/ig/x"]},
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                }
            ]
        }
    ],
    "code": {
        "coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]
    },
    "subject": {"reference": "Patient/0101011234"},
    "effectiveDateTime": "2024-03-05T08:00:00+01:00",
    "performer": [{"reference": "Organization/sor-123"}],
    "component": [
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
            "valueQuantity": {
                "value": 142,
                "unit": "mmHg",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        },
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
            "valueQuantity": {
                "value": 91,
                "unit": "mmHg",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        },
    ],
}


def _best_us(extractor: IndexExtractor, resource: dict[str, Any], rounds: int, per_round: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            extractor.extract(resource)
        best = min(best, (time.perf_counter() - start) / per_round)
    return best * 1e6


def main() -> None:
    registry = default_registry()
    fast = IndexExtractor(registry)
    slow = IndexExtractor(registry, fast_paths=False)
    samples: list[tuple[str, dict[str, Any]]] = [("home blood pressure (built-in)", _HOME_BP)]
    for name in ("Observation-example.json", "Observation-blood-pressure.json", "Patient-example.json"):
        path = _EXAMPLES / name
        if path.is_file():
            samples.append((name, json.loads(path.read_text(encoding="utf-8"))))
    print(f"search-index extraction, python {platform.python_version()}, {platform.machine()}")
    print(f"{'resource':36} {'rows':>5} {'fast µs':>9} {'fhirpathpy µs':>14}")
    for label, resource in samples:
        rows = len(fast.extract(resource))
        fast_us = _best_us(fast, resource, rounds=7, per_round=500)
        slow_us = _best_us(slow, resource, rounds=3, per_round=30)
        print(f"{label:36} {rows:5d} {fast_us:9.1f} {slow_us:14.1f}")
    start = time.perf_counter()
    for _ in range(10_000):
        patient_compartment_key(_HOME_BP)
    print(f"patient_compartment_key: {(time.perf_counter() - start) / 10_000 * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
