"""Benchmark of the registry views' pages (MHD ITI-67 DocumentReference, ITI-66 List) for one patient with a
long history: CPU per page at the start, the middle and the end of ``--entries`` DocumentEntries.

    .venv/bin/python -m tests.benchmarks.bench_mhd_pages [--entries 2000] [--count 50] [--pg-url URL]

Each page is the service call without HTTP: translate the search, the registry query (consent filter
included), decode the page's ebRIM and render the DocumentReferences, as ``GET /fhir/DocumentReference``
does.  For comparison it also reads the way the views did before session 9 (every row up to the page,
sliced in Python).  It prints what it measured; it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from hub.core.registry_query import RegistryWrite
from hub.fhir import AccessDecision
from hub.fhir.search import default_registry
from hub.storage import Database, insert_registry_txn, upgrade
from tests import xds_builders as b
from tests.benchmarks.bench_phmr_pipeline import _create_pg, _drop_pg
from xds.phmr.document_query import DocumentSearch, translate
from xds.phmr.document_reads import find_entries_txn
from xds.phmr.document_reference import document_reference
from xds.services import stamped_entries_txn
from xds.services.registry_rows import entry_row

CPR = "2512484916"
DECISION = AccessDecision("benchmark")


async def load(db: Database, entries: int) -> None:
    """``entries`` DocumentEntries of one patient (a full PHMR-like metadata set each), in batches."""
    template = b.document_entry(cpr=CPR)
    batch = []
    for n in range(entries):
        entry = dataclasses.replace(
            template, entry_uuid=f"urn:uuid:{uuid.uuid4()}", unique_id=f"2.25.{uuid.uuid4().int}"
        )
        batch.append(entry_row(entry))
        if len(batch) == 500 or n == entries - 1:
            write = RegistryWrite(entries=tuple(batch))
            await db.run_write("bench_load", insert_registry_txn, write, time.time_ns() // 1000)
            batch = []


async def cpu_ms(work: Callable[[], Awaitable[object]], repeat: int) -> float:
    await work()  # statement built and cached
    start = time.process_time()
    for _ in range(repeat):
        await work()
    return (time.process_time() - start) / repeat * 1000


async def measure(url: str, entries: int, count: int) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        started = time.perf_counter()
        await load(db, entries)
        print(f"  loaded {entries} entries of one patient in {time.perf_counter() - started:.1f} s")
        registry = default_registry()
        for offset in (0, entries // 2, max(entries - count, 0)):
            params = [("patient.identifier", f"urn:oid:1.2.208.176.1.2|{CPR}"), ("_count", str(count))]
            params.append(("_offset", str(offset)))
            search = translate(registry, params, default_count=count, max_count=1000)

            async def page(search: DocumentSearch = search) -> object:
                found = await db.run("bench_page", find_entries_txn, db.engine, search, DECISION)
                return [document_reference(e, base_url="http://bench/fhir") for e in found.entries]

            async def before(offset: int = offset, search: DocumentSearch = search) -> object:
                f = search.entry_filter(b.patient_cx(CPR))
                rows = await db.run(
                    "bench_before", stamped_entries_txn, db.engine, f, limit=offset + count + 1
                )
                return [document_reference(e, base_url="http://bench/fhir") for e, _ in rows[offset:]]

            now = await cpu_ms(page, 5)
            old = await cpu_ms(before, 2 if offset else 5)
            print(
                f"  page of {count} at offset {offset:5d}: {now:8.1f} ms CPU"
                f"   (read up to the page and slice: {old:8.1f} ms)"
            )
    finally:
        await db.close()


async def main_async(args: argparse.Namespace) -> None:
    print(f"ITI-67 DocumentReference pages, {args.entries} entries of one patient, _count={args.count}")
    with tempfile.TemporaryDirectory() as folder:
        print(" SQLite")
        await measure(f"sqlite+aiosqlite:///{Path(folder) / 'pages.db'}", args.entries, args.count)
    if args.pg_url:
        print(" PostgreSQL")
        name, url = await _create_pg(args.pg_url)
        try:
            await measure(url, args.entries, args.count)
        finally:
            await _drop_pg(args.pg_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--pg-url", default=None, help="postgresql+asyncpg://…/postgres (admin database)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
