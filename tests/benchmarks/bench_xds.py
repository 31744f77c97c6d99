"""XDS.b benchmarks (issue 5, "Bad input and speed"):

1. ``submit``: ITI-41 with a MedCom PHMR (20 measurements; the PHMR processor validates it, derives and
   cross-checks metadata and extracts Observations) end to end over HTTP against ``telehub serve`` (wrk; every
   request a new document), on SQLite and - with ``--pg-url`` - PostgreSQL (a fresh database, dropped after).
2. ``query``: FindDocuments (patient + classCode + creationTime range) over ``--entries`` DocumentEntries
   (default 1,000,000, bulk-loaded by ``tests.benchmarks.xds_datagen``): latency of the one SQL statement,
   of the whole ITI-18 service call (parse AdhocQueryRequest, authorise, SQL, build the response), and of
   the SOAP door over HTTP (a real ``telehub serve``, one connection).
3. ``memory``: a 100 MB document through ITI-41 and back through ITI-43 over HTTP; peak RSS growth of the
   server process against the document size.

    .venv/bin/python -m tests.benchmarks.bench_xds [--part submit|query|memory|all] [--pg-url URL]

It prints what it measured; it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from lxml import etree
from sqlalchemy import text

from conformance.suites.xds_client import SOAP_XML
from hub.core.registry_query import CodeCondition, EntryCodeField, EntryFilter, KeyRange
from hub.storage import Database, find_entries_txn, upgrade
from tests.benchmarks import xds_datagen
from tests.benchmarks.bench_phmr_pipeline import _create_pg, _drop_pg
from tests.benchmarks.bench_xds_transfer import iti41_lua, memory_round_trip
from tests.benchmarks.harness import Server, lua_string, wrk
from tests.unit.xds.services.conftest import PHYSICIAN, xds_settings
from xds import Action, build_envelope, envelope_bytes
from xds.services import Caller, XdsService
from xds.stored_queries import (
    ReturnType,
    StoredQueryId,
    adhoc_query_request_element,
    parse_adhoc_query_request,
)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return f"p50 {at(0.50):6.2f} ms  p95 {at(0.95):6.2f} ms  p99 {at(0.99):6.2f} ms  (n={len(ordered)})"


# ------------------------------------------------------------------ 1. ITI-41 over HTTP


def submit(engine: str, url: str, args: argparse.Namespace) -> None:
    workers = 1 if engine == "sqlite" else args.workers  # SQLite has one writer: telehub serves it with one
    with (
        tempfile.TemporaryDirectory() as folder,
        Server(url, workers, Path(folder), extra_env={"TELEHUB_SECURITY__MODE": "open"}) as server,
    ):
        for label, phmr in (("PHMR", True), ("plain", False)):
            lua = iti41_lua(phmr=phmr)
            wrk(server.url + "/xds/repository", lua, duration=2, connections=args.connections)  # warm-up
            result = wrk(
                server.url + "/xds/repository", lua, duration=args.duration, connections=args.connections
            )
            print(
                f"  ITI-41 {label:5s} {engine:10s} {result.requests_per_s:7.1f} docs/s  "
                f"p50 {result.p50_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms  errors {result.errors}  "
                f"({workers} worker(s), {args.connections} conn.)"
            )


# ------------------------------------------------------------------ 2. FindDocuments over N entries


def random_query(rng: random.Random, patients: int) -> tuple[str, str, int, int]:
    year = rng.choice((2022, 2023, 2024))
    month = rng.randint(1, 10)
    low = int(f"{year}{month:02d}01000000")
    high = int(f"{year}{month + 2:02d}01000000")
    return xds_datagen.patient(rng.randrange(patients)), rng.choice(xds_datagen.CLASSES), low, high


async def query_bench(engine: str, url: str, args: argparse.Namespace) -> None:
    db = Database(url)
    await upgrade(db)
    print(
        f"  {engine}: loading {args.entries:,} DocumentEntries over {args.patients:,} patients ...",
        flush=True,
    )
    seconds = await xds_datagen.load(db, args.entries, args.patients)
    print(f"  {engine}: loaded in {seconds:.0f} s ({args.entries / seconds:,.0f} entries/s)")
    async with db.sa_engine.begin() as conn:  # fresh planner statistics, as autovacuum would give later
        await conn.execute(text("ANALYZE"))
    rng = random.Random(5)
    sql_ms: list[float] = []
    found = 0
    for _ in range(args.queries):
        key, code, low, high = random_query(rng, args.patients)
        f = EntryFilter(
            patient_key=key,
            statuses=("Approved",),
            object_types=("stable",),
            codes=((EntryCodeField.CLASS, CodeCondition((((code, xds_datagen.CLASS_SCHEME),),))),),
            creation=KeyRange(low, high),
        )
        started = time.perf_counter()
        rows = await db.run("find_documents", find_entries_txn, db.engine, f, with_ebrim=False)
        sql_ms.append((time.perf_counter() - started) * 1000)
        found += len(rows)
    print(
        f"  {engine}: FindDocuments SQL (ObjectRef)      {percentiles(sql_ms)}  "
        f"avg {found / args.queries:.1f} hits"
    )
    with tempfile.TemporaryDirectory() as folder:
        service = XdsService(xds_settings(Path(folder)), db)
        for leaf in (False, True):
            latencies = await service_latencies(service, rng, args, leaf=leaf)
            label = "LeafClass" if leaf else "ObjectRef"
            print(f"  {engine}: ITI-18 service call ({label:9s})  {percentiles(latencies)}")
        await service.close()
    await db.close()
    over_http(engine, url, rng, args)


def find_documents(rng: random.Random, patients: int, *, leaf: bool) -> etree._Element:
    key, code, low, high = random_query(rng, patients)
    return adhoc_query_request_element(
        StoredQueryId.FIND_DOCUMENTS,
        {
            "$XDSDocumentEntryPatientId": [f"'{key}^^^&1.2.208.176.1.2&ISO'"],
            "$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
            "$XDSDocumentEntryClassCode": [f"('{code}^^{xds_datagen.CLASS_SCHEME}')"],
            "$XDSDocumentEntryCreationTimeFrom": [str(low)],
            "$XDSDocumentEntryCreationTimeTo": [str(high)],
        },
        return_type=ReturnType.LEAF_CLASS if leaf else ReturnType.OBJECT_REF,
    )


def over_http(engine: str, url: str, rng: random.Random, args: argparse.Namespace) -> None:
    """The same FindDocuments as SOAP requests to a real ``telehub serve`` (open security: the audit record
    and the consent check still run), one connection: the whole door, envelope to envelope."""
    workers = 1 if engine == "sqlite" else args.workers
    for leaf in (False, True):
        bodies = [
            envelope_bytes(
                build_envelope(Action.ITI_18, find_documents(rng, args.patients, leaf=leaf))
            ).decode()
            for _ in range(500)
        ]
        lua = (
            'wrk.method = "POST"\n'
            f'wrk.headers["Content-Type"] = {lua_string(SOAP_XML)}\n'
            f"local bodies = {{{','.join(lua_string(b) for b in bodies)}}}\n"
            "request = function()\n"
            "  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])\n"
            "end\n"
        )
        with (
            tempfile.TemporaryDirectory() as folder,
            Server(url, workers, Path(folder), extra_env={"TELEHUB_SECURITY__MODE": "open"}) as server,
        ):
            sample = httpx.post(
                server.url + "/xds/registry", content=bodies[0], headers={"content-type": SOAP_XML}
            )
            assert b"ResponseStatusType:Success" in sample.content, sample.text[:500]
            wrk(server.url + "/xds/registry", lua, duration=2, connections=1)  # warm-up
            result = wrk(server.url + "/xds/registry", lua, duration=args.duration, connections=1)
        label = "LeafClass" if leaf else "ObjectRef"
        print(
            f"  {engine}: ITI-18 over HTTP ({label:9s})       p50 {result.p50_ms:6.2f} ms  "
            f"p95 {result.p95_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  {result.requests_per_s:.0f} req/s, "
            f"1 connection, {workers} worker(s), errors {result.errors}"
        )


async def service_latencies(
    service: XdsService, rng: random.Random, args: argparse.Namespace, *, leaf: bool
) -> list[float]:
    caller = Caller(PHYSICIAN)
    out: list[float] = []
    for _ in range(args.queries):
        element = find_documents(rng, args.patients, leaf=leaf)
        started = time.perf_counter()
        await service.stored_query(caller, parse_adhoc_query_request(element))
        out.append((time.perf_counter() - started) * 1000)
    return out


# ------------------------------------------------------------------ driver


async def on_engines(
    args: argparse.Namespace, work: Callable[[str, str, argparse.Namespace], object]
) -> None:
    async def run(engine: str, url: str) -> None:
        outcome = work(engine, url, args)
        if asyncio.iscoroutine(outcome):
            await outcome

    if "sqlite" in args.engines:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            if work is submit or work is memory:
                await upgrade_url(url)
            await run("sqlite", url)
    if "postgresql" in args.engines and args.pg_url:
        name, url = await _create_pg(args.pg_url)
        try:
            await run("postgresql", url)
        finally:
            await _drop_pg(args.pg_url, name)


async def upgrade_url(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.close()


def memory(engine: str, url: str, args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        Server(url, 1, Path(folder), extra_env={"TELEHUB_SECURITY__MODE": "open"}) as server,
    ):
        report = memory_round_trip(server, args.megabytes)
    print(f"  {engine}: {report}")


async def main_async(args: argparse.Namespace) -> None:
    parts = ("submit", "query", "memory") if args.part == "all" else (args.part,)
    works: dict[str, Callable[[str, str, argparse.Namespace], object]] = {
        "submit": submit,
        "query": query_bench,
        "memory": memory,
    }
    for part in parts:
        print(f"== {part}", flush=True)
        await on_engines(args, works[part])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("submit", "query", "memory", "all"), default="all")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg-url", help="postgresql+asyncpg://… where databases may be created")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--megabytes", type=int, default=100)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
