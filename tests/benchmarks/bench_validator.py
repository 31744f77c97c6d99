"""Validator throughput: a Danish home-measurement Observation, and a 100-entry transaction Bundle.

Run with ``.venv/bin/python -m tests.benchmarks.bench_validator``.  Needs
``../shared/testdata/fhir/packages/hl7.fhir.r4.core-4.0.1.tgz``.  Uses the built-in
``dk-tm-observation`` profile when it exists, otherwise a profile built here from the core
Observation.  Measures one process on one core; prints resources per second, never fails on time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from profiles import BUILTIN_PACKAGE_DIR, load_registry
from profiles.validator import ProfileValidator
from tests.conftest import TESTDATA

DK_OBSERVATION = "http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"
FALLBACK = "http://telehub.dk/fhir/StructureDefinition/bench-home-observation"
MSG = "urn:oid:1.2.208.184.100.1"


def observation(index: int = 0, profile: str = DK_OBSERVATION) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs{index}",
        "meta": {"profile": [profile]},
        "status": "final",
        "code": {
            "coding": [
                {"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804", "display": "Pt-Body; mass = ? kg"}
            ]
        },
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-05-01T08:30:00+02:00",
        "valueQuantity": {
            "value": 72.5 + index % 10,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
        "method": {"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "AUT"}]},
        "device": {"reference": "Device/d1"},
    }


def fallback_profile() -> dict[str, Any]:
    """A home-measurement profile on the core Observation (used until the built-in one exists)."""
    return {
        "resourceType": "StructureDefinition",
        "url": FALLBACK,
        "name": "BenchHomeObservation",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Observation",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint",
        "differential": {
            "element": [
                {"path": "Observation.code.coding", "min": 1},
                {"path": "Observation.subject", "min": 1},
                {"path": "Observation.effective[x]", "min": 1, "type": [{"code": "dateTime"}]},
                {"path": "Observation.value[x]", "type": [{"code": "Quantity"}]},
                {"path": "Observation.valueQuantity.system", "fixedUri": "http://unitsofmeasure.org"},
            ]
        },
    }


def transaction(size: int, profile: str) -> dict[str, Any]:
    entries = []
    for index in range(size):
        resource = observation(index, profile)
        entries.append(
            {
                "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
                "resource": resource,
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def measure(label: str, run: Callable[[], Any], resources_per_call: int, seconds: float = 3.0) -> float:
    run()  # compile profiles, warm caches
    calls = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        run()
        calls += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rate = calls * resources_per_call / elapsed
    # CPU time is what one core spends; wall clock also counts time lost to other processes
    cpu_rate = calls * resources_per_call / cpu if cpu else 0.0
    print(
        f"{label}: {rate:,.0f} resources/s wall clock, {cpu_rate:,.0f} resources/s of CPU time "
        f"({calls} calls in {elapsed:.2f} s)"
    )
    return rate


def calibrate() -> float:
    """Seconds for sum(range(10**7)): relates the figures to the speed of this machine."""
    started = time.process_time()
    sum(range(10**7))
    return time.process_time() - started


def main() -> None:
    core = TESTDATA / "fhir" / "packages" / "hl7.fhir.r4.core-4.0.1.tgz"
    if not core.is_file():
        print("skipped: ../shared/testdata/fhir/packages/hl7.fhir.r4.core-4.0.1.tgz not available")
        return
    loader = load_registry([core])
    profile = DK_OBSERVATION if (BUILTIN_PACKAGE_DIR / "package.json").is_file() else FALLBACK
    if profile == FALLBACK:
        loader.registry.add(fallback_profile())
    try:
        from profiles.danish import danish_checks

        validator = ProfileValidator(loader.registry, custom_checks=danish_checks())
    except ImportError:
        validator = ProfileValidator(loader.registry)
    single = observation(profile=profile)
    errors = [i for i in validator.validate(single) if i.is_error]
    print(f"machine calibration: sum(range(10**7)) takes {calibrate():.3f} s of CPU")
    print(f"profile {profile}; sample errors: {len(errors)} {[e.diagnostics for e in errors][:3]}")
    bundle = transaction(100, profile)
    bundle_errors = [i for i in validator.validate(bundle) if i.is_error]
    print(f"bundle of 100: {len(bundle_errors)} errors")
    measure("Observation against its profile", lambda: validator.validate(single), 1)
    measure("100-entry transaction Bundle", lambda: validator.validate(bundle), 100)


if __name__ == "__main__":
    main()
