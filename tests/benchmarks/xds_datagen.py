"""Bulk data for the XDS registry benchmarks: N DocumentEntries spread over P patients, written straight
through ``hub.storage.insert_registry_txn`` in large batches (the rows a submission writes, without the
rules).

Each entry: a CPR-keyed patient, one of five DK classCodes, a creationTime in 2022-2024, two code rows
(eventCode, confidentiality), one author.  The ebRIM bytes are a realistic registry-form ExtrinsicObject
(~2.5 KB) built from a template, so LeafClass answers and table sizes are representative.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator

from hub.core.registry_query import EntryCodeField, EntryCodeList, EntryRow, ObjectHeader, RegistryWrite
from hub.storage import Database, insert_registry_txn
from tests import xds_builders as b
from xds.services.registry_rows import encode

CLASSES = ("001", "002", "003", "004", "005")
CLASS_SCHEME = "1.2.208.184.100.9"
BATCH = 2000


def patient(n: int) -> str:
    """A CPR-shaped 10-digit key (not a real CPR)."""
    return f"{(1_000_000_000 + n * 7919) % 10_000_000_000:010d}"


def creation_key(rng: random.Random) -> int:
    year = rng.choice((2022, 2023, 2024))
    return int(
        f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}00"
    )


def _template() -> str:
    entry = b.document_entry(entry_id="@UUID@", content=b"benchmark", unique_id="@UID@")
    return encode(entry).decode()


def entries(total: int, patients: int, seed: int = 11) -> Iterator[EntryRow]:
    rng = random.Random(seed)
    template = _template()
    for i in range(total):
        entry_uuid = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        unique_id = f"2.25.{rng.getrandbits(100)}"
        key = patient(i % patients)
        ebrim = template.replace("@UUID@", entry_uuid).replace("@UID@", unique_id).encode()
        yield EntryRow(
            header=ObjectHeader(entry_uuid, entry_uuid, 1, "Approved", key, ebrim),
            unique_id=unique_id,
            object_type="stable",
            codes=(
                (EntryCodeField.CLASS, rng.choice(CLASSES), CLASS_SCHEME),
                (EntryCodeField.TYPE, "53576-5", "2.16.840.1.113883.6.1"),
                (EntryCodeField.FORMAT, "urn:ad:dk:medcom:phmr-v1.3:full", "1.2.208.184.100.10"),
            ),
            code_lists=(
                (EntryCodeList.EVENT, "ALAL21", "1.2.208.176.2.4"),
                (EntryCodeList.CONFIDENTIALITY, "N", "2.16.840.1.113883.5.25"),
            ),
            creation_key=creation_key(rng),
            mime_type="text/xml",
            hash="0" * 40,
            size=9,
            repository_unique_id=b.REPOSITORY_ID,
            authors=("^Jensen^Jens^^^^^^^&ISO",),
        )


async def load(db: Database, total: int, patients: int, *, progress: bool = True) -> float:
    """Insert ``total`` entries; returns seconds taken."""
    started = time.perf_counter()
    batch: list[EntryRow] = []
    done = 0
    for row in entries(total, patients):
        batch.append(row)
        if len(batch) == BATCH:
            await db.run_write("bench_load", insert_registry_txn, RegistryWrite(entries=tuple(batch)), 1)
            done += len(batch)
            batch = []
            if progress and done % 100_000 == 0:
                print(f"  loaded {done:,} entries ({time.perf_counter() - started:.0f} s)", flush=True)
    if batch:
        await db.run_write("bench_load", insert_registry_txn, RegistryWrite(entries=tuple(batch)), 1)
    return time.perf_counter() - started
