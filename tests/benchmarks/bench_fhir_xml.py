"""FHIR XML codec benchmark (issue 3, "FHIR XML"): serialise and parse rates on the 712 official R4 examples,
and on a Danish home-measurement Observation.

    .venv/bin/python -m tests.benchmarks.bench_fhir_xml [--rounds 3]

Reads ../shared/testdata in place (hl7.fhir.r4.core-4.0.1.tgz and fhir/examples).  Single thread, one core.
It measures and prints; it never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import time
from pathlib import Path
from typing import Any

from profiles.fhir_xml import FhirXmlCodec, StructureDefinitionTable, dump_json, load_json

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"

OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "meta": {"profile": ["http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"]},
    "status": "final",
    "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]},
    "subject": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "0707614285"}},
    "effectiveDateTime": "2024-05-01T08:30:00+02:00",
    "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    "method": {
        "coding": [
            {"system": "urn:oid:1.2.208.184.100.1", "code": "POT"},
            {"system": "urn:oid:1.2.208.184.100.1", "code": "AUT"},
        ]
    },
}


def core_types() -> StructureDefinitionTable:
    definitions: list[dict[str, Any]] = []
    with tarfile.open(TESTDATA / "fhir" / "packages" / "hl7.fhir.r4.core-4.0.1.tgz", "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name.startswith("StructureDefinition-"):
                handle = tar.extractfile(member)
                if handle is not None:
                    definitions.append(json.loads(handle.read()))
    return StructureDefinitionTable(definitions)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    codec = FhirXmlCodec(core_types())
    examples = [
        load_json(p.read_bytes())
        for p in sorted((TESTDATA / "fhir" / "examples").glob("*.json"))
        if p.name != "package.json"
    ]
    xml_docs = [codec.serialise(e) for e in examples]  # also warms the shape cache
    json_bytes = sum(len(dump_json(e)) for e in examples)
    xml_bytes = sum(len(x) for x in xml_docs)

    started = time.perf_counter()
    for _ in range(args.rounds):
        for example in examples:
            codec.serialise(example)
    serialise_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(args.rounds):
        for doc in xml_docs:
            codec.parse(doc)
    parse_s = time.perf_counter() - started

    observation_xml = codec.serialise(OBSERVATION)
    n = 2000 * args.rounds
    started = time.perf_counter()
    for _ in range(n):
        codec.parse(observation_xml)
    obs_parse_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(n):
        codec.serialise(OBSERVATION)
    obs_serialise_s = time.perf_counter() - started

    report = {
        "examples": len(examples),
        "json_MB": round(json_bytes / 2**20, 2),
        "xml_MB": round(xml_bytes / 2**20, 2),
        "examples_serialise_per_s": round(rate(len(examples) * args.rounds, serialise_s)),
        "examples_parse_per_s": round(rate(len(examples) * args.rounds, parse_s)),
        "examples_parse_MB_per_s": round(xml_bytes * args.rounds / 2**20 / parse_s, 1),
        "observation_parse_per_s": round(rate(n, obs_parse_s)),
        "observation_serialise_per_s": round(rate(n, obs_serialise_s)),
    }
    print(json.dumps(report, indent=2))
    print("\n| measure | value |\n| --- | --- |")
    for key, value in report.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
