"""FHIR REST benchmarks (Foundation issue): create, read, 100-Observation transaction, and search by
patient + code + date range over N Observations, with RSS per worker.

    .venv/bin/python -m tests.benchmarks.bench_fhir --engine sqlite
    .venv/bin/python -m tests.benchmarks.bench_fhir --engine postgresql --pg-url postgresql+asyncpg://…/db

Prints a JSON report (and a Markdown table).  It measures; it never asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil

from hub.storage import Database, upgrade
from tests.benchmarks import datagen
from tests.benchmarks.harness import LoadResult, RssSampler, Server, install_core, lua_string, wrk
from tests.conftest import TESTDATA

FHIR = "application/fhir+json"
CORE = TESTDATA / "fhir" / "packages" / "hl7.fhir.r4.core-4.0.1.tgz"


def machine() -> str:
    freq = psutil.cpu_freq()
    return (
        f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores"
        + (f" @ {freq.max:.0f} MHz" if freq and freq.max else "")
        + f", {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.close()


def bench_create(server: Server, duration: int, connections: int) -> LoadResult:
    body = orjson.dumps(datagen.observation("pt-0000001", random.Random(1))).decode()
    lua = f"""
wrk.method = "POST"
wrk.body = {lua_string(body)}
wrk.headers["Content-Type"] = "{FHIR}"
wrk.headers["Prefer"] = "return=minimal"
"""
    return wrk(server.url + "/fhir/Observation", lua, duration=duration, connections=connections)


def bench_read(server: Server, ids: list[str], duration: int, connections: int) -> LoadResult:
    table = ",".join(lua_string(i) for i in ids)
    lua = f"""
local ids = {{{table}}}
request = function()
  return wrk.format("GET", "/fhir/Observation/" .. ids[math.random(#ids)])
end
"""
    return wrk(server.url, lua, duration=duration, connections=connections)


def bench_search(server: Server, patients: int, duration: int, connections: int) -> LoadResult:
    codes = ",".join(lua_string(c[0]) for c in datagen.CODES)
    lua = f"""
local codes = {{{codes}}}
request = function()
  local p = string.format("pt-%07d", math.random(0, {patients - 1}))
  local m = math.random(1, 12)
  local code = codes[math.random(#codes)]
  local path = "/fhir/Observation?patient=" .. p .. "&code=urn:oid:1.2.208.176.2.1%7C" .. code
    .. string.format("&date=ge2023-%02d-01&date=lt2024-%02d-01&_count=50", m, m)
  return wrk.format("GET", path)
end
"""
    return wrk(server.url, lua, duration=duration, connections=connections)


async def bench_bundles(server: Server, seconds: float, concurrency: int) -> dict[str, float]:
    rng = random.Random(3)

    def bundle() -> bytes:
        return orjson.dumps(
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    {
                        "resource": datagen.observation(datagen.patient_id(rng.randrange(1000)), rng),
                        "request": {"method": "POST", "url": "Observation"},
                    }
                    for _ in range(100)
                ],
            }
        )

    bodies = [bundle() for _ in range(20)]
    done, errors, latencies = 0, 0, []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, headers={"content-type": FHIR, "prefer": "return=minimal"}
    ) as client:

        async def worker() -> None:
            nonlocal done, errors
            i = 0
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                r = await client.post("/fhir", content=bodies[i % len(bodies)])
                latencies.append(time.perf_counter() - t)
                i += 1
                if r.status_code == 200:
                    done += 100
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "resources/s": round(done / elapsed, 1),
        "bundle p50 ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "errors": errors,
    }


async def seed_reads(server: Server, n: int) -> list[str]:
    rng = random.Random(5)
    ids = []
    async with httpx.AsyncClient(base_url=server.url, headers={"content-type": FHIR}) as client:
        for _ in range(n):
            r = await client.post(
                "/fhir/Observation", content=orjson.dumps(datagen.observation("pt-0000002", rng))
            )
            ids.append(r.json()["id"])
    return ids


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="telehub-bench-"))
    url = args.database_url or (
        f"sqlite+aiosqlite:///{tmp}/bench.db" if args.engine == "sqlite" else args.pg_url
    )
    workers = 1 if args.engine == "sqlite" else args.workers
    asyncio.run(migrate(url))
    report: dict[str, Any] = {
        "engine": args.engine,
        "workers": workers,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    if args.observations and not args.skip_load:
        print(f"loading {args.observations:,} Observations for {args.patients:,} patients …", flush=True)
        started = time.perf_counter()

        async def _load() -> int:
            svc = datagen.service(url)
            try:
                return await datagen.load(svc, datagen.observations(args.observations, args.patients))
            finally:
                await svc.db.close()

        loaded = asyncio.run(_load())
        report["load"] = {"observations": loaded, "seconds": round(time.perf_counter() - started, 1)}
    # `open` security: the hub's audit trail and consent filter run, token verification does not (its cost is
    # measured by bench_security_http).
    # hl7.fhir.r4.core installed as in production: writes are validated (default level) and RSS includes it
    report["hl7.fhir.r4.core installed"] = install_core(tmp / "var", CORE)
    with Server(url, workers, tmp / "var", extra_env={"TELEHUB_SECURITY__MODE": "open"}) as server:
        sampler = RssSampler(server.process)
        report["idle RSS MB per worker"] = [round(m, 1) for m in sampler.current_mb()]
        with sampler:
            if args.observations:
                # one client: the latency of a search itself; then several: throughput (and queueing)
                report["search (patient+code+date), 1 connection"] = bench_search(
                    server, args.patients, args.duration, 1
                ).row()
                report[f"search (patient+code+date), {args.search_connections} connections"] = bench_search(
                    server, args.patients, args.duration, args.search_connections
                ).row()
            report["create Observation"] = bench_create(server, args.duration, args.connections).row()
            ids = asyncio.run(seed_reads(server, 500))
            report["read by id, 1 connection"] = bench_read(server, ids, args.duration, 1).row()
            report[f"read by id, {args.connections} connections"] = bench_read(
                server, ids, args.duration, args.connections
            ).row()
            report["transaction of 100 Observations"] = asyncio.run(bench_bundles(server, args.duration, 2))
        report["peak RSS MB per worker"] = round(sampler.peak, 1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url", help="postgresql+asyncpg://… of an EMPTY database (required for postgresql)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load test")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--observations", type=int, default=1_000_000, help="search data set size (0 skips)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument(
        "--search-connections", type=int, default=4, help="wrk connections for the search test"
    )
    parser.add_argument("--database-url", help="use this (already loaded) database instead of a new one")
    parser.add_argument("--skip-load", action="store_true", help="the database already holds the data set")
    parser.add_argument("--out", type=Path, help="write the JSON report here too")
    args = parser.parse_args()
    if args.engine == "postgresql" and not args.pg_url:
        parser.error("--pg-url is required with --engine postgresql")
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
