"""The repository's content-addressed blob store: document bytes by SHA-256 (IHE ITI TF-2b 3.41.4.1.3 stores,
3.43.4.1.3 retrieves).

Layout on the filesystem (``Settings.blob_dir``): ``<root>/<h[0:2]>/<h[2:4]>/<h>`` where ``h`` is the
lowercase hex SHA-256 of the content; partial writes live in ``<root>/tmp`` until complete.  Each write
streams the source in chunks, computing SHA-1 (the XDS ``hash``), SHA-256 and the size on the way, then
renames the finished file into place (atomic on POSIX), so a reader never sees a partial blob.

Ordering with the database (why there are no orphan *documents*): a submission writes its blobs FIRST and
commits the repository rows afterwards.  If the transaction fails, the blob stays on disk without a row:
such an orphan blob is invisible (nothing points at it) and harmless;
:meth:`FileBlobStore.collect_garbage` deletes orphans older than a grace period (the grace protects blobs
of transactions still in flight).  The reverse order could leave a row pointing at missing bytes, which is
never allowed.

The :class:`BlobStore` Protocol is what services use, leaving room for an S3-compatible implementation.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import Container, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from hub.core.errors import NotFoundError, StorageError

CHUNK_BYTES = 64 * 1024
DEFAULT_GRACE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What was stored: the content address and the digests/size recorded with the document row."""

    sha256: str
    sha1: str
    size: int


class BlobStore(Protocol):
    """Content-addressed storage of immutable byte strings."""

    async def put(self, source: BinaryIO) -> BlobInfo:
        """Store everything readable from ``source`` (read from its current position, in chunks)."""
        ...

    async def put_bytes(self, data: bytes) -> BlobInfo: ...

    def chunks(self, sha256: str, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The content in chunks (blocking reads: drive it from a thread, e.g. ``xds.aiter_chunks``)."""
        ...

    def size(self, sha256: str) -> int: ...

    def exists(self, sha256: str) -> bool: ...


def _check_key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFoundError(f"not a blob key: {sha256[:80]!r}", message_id="TH-BLOB-KEY")
    return sha256


class FileBlobStore:
    """:class:`BlobStore` on a local filesystem directory."""

    def __init__(self, root: Path, *, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.root = root
        self._chunk = chunk_bytes

    def path(self, sha256: str) -> Path:
        key = _check_key(sha256)
        return self.root / key[:2] / key[2:4] / key

    async def put(self, source: BinaryIO) -> BlobInfo:
        return await asyncio.to_thread(self._put_sync, source)

    async def put_bytes(self, data: bytes) -> BlobInfo:
        return await asyncio.to_thread(self._put_sync, _BytesSource(data))

    def _put_sync(self, source: BinaryIO | _BytesSource) -> BlobInfo:
        tmp_dir = self.root / "tmp"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            partial = tmp_dir / f"{uuid.uuid4().hex}.part"
            sha1 = hashlib.sha1(usedforsecurity=False)
            sha256 = hashlib.sha256()
            size = 0
            try:
                with partial.open("wb") as out:
                    while chunk := source.read(self._chunk):
                        sha1.update(chunk)
                        sha256.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                info = BlobInfo(sha256.hexdigest(), sha1.hexdigest(), size)
                final = self.path(info.sha256)
                if final.exists():
                    partial.unlink()  # same content already stored: content addressing dedupes
                else:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(partial, final)
                return info
            finally:
                partial.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"blob store write failed under {self.root}: {exc}") from exc

    def chunks(self, sha256: str, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        path = self.path(sha256)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {sha256} is missing", message_id="TH-BLOB-MISSING") from exc
        return _file_chunks(handle, chunk_size)

    def read_bytes(self, sha256: str) -> bytes:
        return b"".join(self.chunks(sha256))

    def size(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {sha256} is missing", message_id="TH-BLOB-MISSING") from exc

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def keys(self) -> Iterator[str]:
        """Every stored blob key (for garbage collection and audits)."""
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def collect_garbage(
        self, referenced: Container[str], *, grace_seconds: float = DEFAULT_GRACE_SECONDS
    ) -> list[str]:
        """Delete blobs no row references and left-over partial files, when older than ``grace_seconds``.

        ``referenced`` must be read after the blobs were listed would be racy; callers pass the keys of the
        repository rows and rely on the grace period for in-flight submissions.  Returns the deleted keys.
        """
        cutoff = time.time() - grace_seconds
        deleted: list[str] = []
        for key in list(self.keys()):
            path = self.path(key)
            if key not in referenced and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                deleted.append(key)
        for partial in (self.root / "tmp").glob("*.part"):
            if partial.stat().st_mtime < cutoff:
                partial.unlink(missing_ok=True)
        return deleted


def _file_chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk


class _BytesSource:
    """A minimal readable over bytes (avoids copying into a BytesIO)."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int) -> bytes:
        chunk = bytes(self._view[self._at : self._at + size])
        self._at += len(chunk)
        return chunk
