"""Validation over HTTP: ``$validate`` of a Danish home-measurement Observation, and creates validated at
the ``profiles`` level against the required ``dk-tm-observation`` profile (``base`` and ``off`` as baselines).

    .venv/bin/python -m tests.benchmarks.bench_validation_http [--duration 10] [--connections 8]
        [--database-url postgresql+asyncpg://…/db]

Each scenario runs a fresh ``telehub serve`` (one worker, SQLite by default, ``hl7.fhir.r4.core`` from
../shared/testdata) driven by wrk on loopback, and prints a JSON report with requests/s, latency
percentiles and the worker's RSS.  It measures; it never asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.benchmarks.bench_fhir import machine, migrate
from tests.benchmarks.harness import RssSampler, Server, install_core, lua_string, wrk
from tests.conftest import TESTDATA

FHIR = "application/fhir+json"
CORE = TESTDATA / "fhir" / "packages" / "hl7.fhir.r4.core-4.0.1.tgz"
DK_OBSERVATION = "http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"
MSG = "urn:oid:1.2.208.184.100.1"


def observation() -> dict[str, Any]:
    """A conforming Danish home measurement (body weight by the patient at home, automatically); ASCII
    only, because wrk's Lua does not read ``\\u`` escapes."""
    return {
        "resourceType": "Observation",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">weight</div>'},
        "status": "final",
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-05-01T08:30:00+02:00",
        "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        "method": {"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "AUT"}]},
        "device": {"reference": "Device/d1"},
    }


def _env(level: str) -> dict[str, str]:
    validation: dict[str, Any] = {"levels": {"Observation": level}}
    if level == "profiles":
        validation["required_profiles"] = {"Observation": [DK_OBSERVATION]}
    env = {"TELEHUB_SECURITY__MODE": "open"}
    env.update({f"TELEHUB_VALIDATION__{k.upper()}": json.dumps(v) for k, v in validation.items()})
    return env


def _post_lua(body: bytes, extra_headers: str = "") -> str:
    return f"""
wrk.method = "POST"
wrk.body = {lua_string(body.decode())}
wrk.headers["Content-Type"] = "{FHIR}"
{extra_headers}
"""


def scenario(
    name: str, level: str, path: str, lua: str, args: argparse.Namespace, check: bytes
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{data / 'telehub.db'}"
        install_core(data, CORE)
        with Server(url, 1, data, extra_env=_env(level)) as server:
            probe = httpx.post(server.url + path, content=check, headers={"content-type": FHIR}, timeout=60)
            if probe.status_code not in (200, 201):
                raise RuntimeError(f"{name}: probe answered {probe.status_code}: {probe.text[:300]}")
            for _ in range(20):  # compile the profiles before measuring
                httpx.post(server.url + path, content=check, headers={"content-type": FHIR}, timeout=60)
            idle = RssSampler(server.process).current_mb()
            with RssSampler(server.process) as rss:
                result = wrk(server.url + path, lua, duration=args.duration, connections=args.connections)
            return {
                "scenario": name,
                "level": level,
                **result.row(),
                "idle RSS MB": round(max(idle, default=0.0), 1),
                "peak RSS MB": round(rss.peak, 1),
            }


def in_process_rate(seconds: float = 3.0) -> float:
    """The same $validate without HTTP (ProfileValidator directly), for the overhead of the door."""
    from profiles import load_registry
    from profiles.danish import danish_checks
    from profiles.validator import ProfileValidator

    validator = ProfileValidator(load_registry([CORE]).registry, custom_checks=danish_checks())
    resource = observation()
    validator.validate(resource, [DK_OBSERVATION])
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        validator.validate(resource, [DK_OBSERVATION])
        done += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per scenario")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not CORE.is_file():
        raise SystemExit(f"{CORE} not available")
    if args.database_url:  # PostgreSQL refuses to serve an un-migrated schema; the scenarios share it
        asyncio.run(migrate(args.database_url))
    body = orjson.dumps(observation())
    validate_path = f"/fhir/Observation/$validate?profile={DK_OBSERVATION}"
    minimal = 'wrk.headers["Prefer"] = "return=minimal"'
    rows = [
        scenario("$validate dk-tm-observation", "profiles", validate_path, _post_lua(body), args, body),
        scenario(
            "create, level profiles + required",
            "profiles",
            "/fhir/Observation",
            _post_lua(body, minimal),
            args,
            body,
        ),
        scenario("create, level base", "base", "/fhir/Observation", _post_lua(body, minimal), args, body),
        scenario("create, level off", "off", "/fhir/Observation", _post_lua(body, minimal), args, body),
    ]
    report = {
        "machine": machine(),
        "engine": (args.database_url or "sqlite").split(":", 1)[0],
        "in-process $validate/s": round(in_process_rate(), 1),
        "scenarios": rows,
    }
    text = json.dumps(report, indent=2)
    print(text)
    print("\n| scenario | req/s | p50 ms | p95 ms | errors | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['scenario']} | {row['req/s']} | {row['p50 ms']} | {row['p95 ms']} | {row['errors']} "
            f"| {row['peak RSS MB']} |"
        )
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
