"""The content-addressed blob store: streaming writes with digests, dedupe, chunked reads, garbage
collection.  Synchronous tests: the async writes run on a private event loop (no database is involved)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from hub.core.errors import NotFoundError
from hub.storage import BlobInfo, FileBlobStore


def run(write: Coroutine[Any, Any, BlobInfo]) -> BlobInfo:
    """Drive one write on a private loop (``asyncio.run`` would reset the thread's current loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(write)
    finally:
        loop.close()


def test_put_records_digests_and_fans_out(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    data = b"<ClinicalDocument/>" * 1000
    info = run(store.put(io.BytesIO(data)))
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert info.size == len(data)
    path = store.path(info.sha256)
    assert path.parent.parent.name == info.sha256[:2] and path.parent.name == info.sha256[2:4]
    assert path.read_bytes() == data
    assert store.exists(info.sha256) and store.size(info.sha256) == len(data)


def test_chunked_read_and_dedupe(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path, chunk_bytes=1000)
    data = os.urandom(10_500)
    first = run(store.put_bytes(data))
    second = run(store.put(io.BytesIO(data)))
    assert first == second
    chunks = list(store.chunks(first.sha256, chunk_size=4096))
    assert [len(c) for c in chunks] == [4096, 4096, 2308]
    assert b"".join(chunks) == data
    assert list(store.keys()) == [first.sha256]
    assert not list((tmp_path / "tmp").glob("*.part")), "no partial file is left behind"


def test_empty_blob(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    info = run(store.put_bytes(b""))
    assert info.size == 0 and store.read_bytes(info.sha256) == b""


def test_missing_and_hostile_keys(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    with pytest.raises(NotFoundError):
        store.chunks("0" * 64)
    with pytest.raises(NotFoundError):
        store.size("f" * 64)
    for key in ("../../etc/passwd", "ab" * 40, "G" * 64, ""):
        with pytest.raises(NotFoundError):
            store.path(key)


def test_garbage_collection_keeps_referenced_and_young_blobs(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    kept = run(store.put_bytes(b"referenced"))
    orphan = run(store.put_bytes(b"orphan of a failed transaction"))
    young = run(store.put_bytes(b"in flight"))
    old = time.time() - 7200
    for key in (kept.sha256, orphan.sha256):
        os.utime(store.path(key), (old, old))
    stale_part = tmp_path / "tmp" / "dead.part"
    stale_part.write_bytes(b"x")
    os.utime(stale_part, (old, old))
    deleted = store.collect_garbage({kept.sha256}, grace_seconds=3600)
    assert deleted == [orphan.sha256]
    assert store.exists(kept.sha256) and store.exists(young.sha256) and not store.exists(orphan.sha256)
    assert not stale_part.exists()
