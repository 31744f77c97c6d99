"""MTOM/XOP request parsing: ``multipart/related; type="application/xop+xml"`` (ITI TF-2x V.3.6, W3C XOP
1.0 §3-4, RFC 2387 multipart/related, RFC 2392 ``cid:`` URLs).

The body is streamed through python-multipart's low-level :class:`MultipartParser` callbacks.  Each part
goes into a :class:`MimePart` backed by a ``SpooledTemporaryFile`` (memory up to ``spool_bytes``, then a
temporary file), while its size, SHA-1 (the XDS ``hash``) and SHA-256 are computed on the fly, so a
100 MB document is never held in memory.  Problems raise :class:`xds.errors.MtomError` (a SOAP Sender
fault): bad Content-Type, missing/duplicate/bad Content-ID, missing start part, truncated body, too many
parts, and :class:`~xds.errors.MtomPartTooLargeError` as soon as a part passes ``max_part_bytes``.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import BinaryIO, cast
from urllib.parse import unquote

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser

from xds.errors import MtomError, MtomPartTooLargeError

DEFAULT_SPOOL_BYTES = 1024 * 1024
DEFAULT_MAX_PARTS = 1000
_CHUNK = 64 * 1024
# RFC 2392 / RFC 5322 msg-id: no whitespace, controls or angle brackets inside the id.
_CONTENT_ID = re.compile(r"^[\x21-\x3b\x3d\x3f-\x7e]+$")


@dataclass(frozen=True, slots=True)
class MultipartContentType:
    """The parameters of a ``multipart/related`` Content-Type header."""

    boundary: str
    type: str | None = None
    start: str | None = None  # normalised Content-ID of the root part
    start_info: str | None = None

    @property
    def is_xop(self) -> bool:
        return (self.type or "").lower() == "application/xop+xml"


def parse_content_type(header: str) -> MultipartContentType:
    """Parse a ``multipart/related`` Content-Type; anything else is an :class:`MtomError`."""
    message = Message()
    message["content-type"] = header
    if message.get_content_type() != "multipart/related":
        raise MtomError(f"expected multipart/related, got {header!r}", message_id="MTOM-CONTENT-TYPE")
    params = {k.lower(): v for k, v in message.get_params(failobj=[], header="content-type")[1:]}
    boundary = params.get("boundary")
    if not boundary:
        raise MtomError("multipart/related Content-Type has no boundary", message_id="MTOM-NO-BOUNDARY")
    start = params.get("start")
    return MultipartContentType(
        boundary=boundary,
        type=params.get("type"),
        start=normalize_content_id(start) if start else None,
        start_info=params.get("start-info"),
    )


def normalize_content_id(value: str) -> str:
    """``<abc@x>`` (header) or ``cid:abc%40x`` (href) -> ``abc@x``; a malformed id is an MtomError."""
    text = value.strip()
    if text[:4].lower() == "cid:":
        text = unquote(text[4:])
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not _CONTENT_ID.match(text):
        raise MtomError(f"malformed Content-ID {value!r}", message_id="MTOM-BAD-CONTENT-ID")
    return text


class MimePart:
    """One MIME part, spooled to disk above a threshold, with size and digests computed while written."""

    def __init__(
        self,
        content_id: str | None,
        headers: dict[str, str],
        *,
        spool_bytes: int = DEFAULT_SPOOL_BYTES,
        tmp_dir: str | None = None,
    ) -> None:
        self.content_id = content_id
        self.headers = headers
        self.size = 0
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._file: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=spool_bytes, dir=tmp_dir
        )

    @classmethod
    def from_bytes(cls, content_id: str | None, data: bytes, content_type: str) -> MimePart:
        """A part holding ``data`` (used for inline base64 documents)."""
        part = cls(content_id, {"content-type": content_type}, spool_bytes=max(len(data), 1))
        part.write(data)
        return part

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")

    @property
    def sha1(self) -> str:
        """Lowercase hex SHA-1: the XDS ``hash`` attribute (ITI TF-3 4.2.3.2.10)."""
        return self._sha1.hexdigest()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def in_memory(self) -> bool:
        return not getattr(self._file, "_rolled", True)

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._sha1.update(data)
        self._sha256.update(data)
        self.size += len(data)

    def open(self) -> BinaryIO:
        """The content, rewound to the start (the part stays owner of the file)."""
        self._file.seek(0)
        return cast(BinaryIO, self._file)

    def read_bytes(self) -> bytes:
        return self.open().read()

    def iter_chunks(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        handle = self.open()
        while chunk := handle.read(chunk_size):
            yield chunk

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MimePart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class MtomMessage:
    """A parsed multipart/related message: the root (SOAP) part and the attachments by Content-ID."""

    root: MimePart
    parts: dict[str, MimePart]

    def part(self, href: str) -> MimePart:
        """The attachment an ``xop:Include/@href`` (``cid:…``) points at; missing -> MtomError."""
        content_id = normalize_content_id(href)
        try:
            return self.parts[content_id]
        except KeyError:
            raise MtomError(
                f"xop:Include points at missing MIME part {href!r}", message_id="MTOM-MISSING-PART"
            ) from None

    def close(self) -> None:
        """Release every spooled part (temporary files); the message must not be used afterwards."""
        self.root.close()
        for part in self.parts.values():
            part.close()

    def __enter__(self) -> MtomMessage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MtomReader:
    """Incremental MTOM parser: :meth:`feed` chunks as they arrive, then :meth:`finish`."""

    def __init__(
        self,
        content_type: str,
        *,
        max_part_bytes: int,
        max_parts: int = DEFAULT_MAX_PARTS,
        spool_bytes: int = DEFAULT_SPOOL_BYTES,
        tmp_dir: str | None = None,
    ) -> None:
        self.content_type = parse_content_type(content_type)
        self._max_part_bytes = max_part_bytes
        self._max_parts = max_parts
        self._spool_bytes = spool_bytes
        self._tmp_dir = tmp_dir
        self._parts: list[MimePart] = []
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._current: MimePart | None = None
        self._ended = False
        self._preamble = True
        self._pending = b""
        try:
            self._parser = MultipartParser(
                self.content_type.boundary.encode("latin-1"),
                callbacks={
                    "on_part_begin": self._on_part_begin,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_end": self._on_end,
                },
                max_header_count=32,
            )
        except (FormParserError, UnicodeEncodeError) as exc:
            self._discard()
            raise MtomError(f"unusable multipart boundary: {exc}", message_id="MTOM-BAD-BOUNDARY") from exc

    # ------------------------------------------------------------------ callbacks

    def _on_part_begin(self) -> None:
        if len(self._parts) >= self._max_parts:
            raise MtomError(f"more than {self._max_parts} MIME parts", message_id="MTOM-TOO-MANY-PARTS")
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("latin-1").strip()
        self._field.clear()
        self._value.clear()

    def _on_headers_finished(self) -> None:
        raw_id = self._headers.get("content-id")
        content_id = normalize_content_id(raw_id) if raw_id is not None else None
        encoding = self._headers.get("content-transfer-encoding", "binary").lower()
        if encoding not in ("binary", "8bit", "7bit"):
            raise MtomError(
                f"Content-Transfer-Encoding {encoding!r} is not supported in MTOM (use binary)",
                message_id="MTOM-TRANSFER-ENCODING",
            )
        self._current = MimePart(
            content_id, self._headers, spool_bytes=self._spool_bytes, tmp_dir=self._tmp_dir
        )
        self._parts.append(self._current)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current
        if part is None:  # data before the headers finished cannot happen; guard for mypy
            raise MtomError("MIME part data without headers", message_id="MTOM-MALFORMED")
        if part.size + (end - start) > self._max_part_bytes:
            raise MtomPartTooLargeError(
                f"MIME part {part.content_id or len(self._parts)} exceeds the limit of "
                f"{self._max_part_bytes} bytes",
                message_id="MTOM-PART-TOO-LARGE",
            )
        part.write(data[start:end])

    def _on_part_end(self) -> None:
        self._current = None

    def _on_end(self) -> None:
        self._ended = True

    # ------------------------------------------------------------------ feeding

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body."""
        if self._ended or not chunk:
            return  # the epilogue after the closing boundary is ignored (RFC 2046 §5.1.1)
        if self._preamble:
            chunk = self._skip_preamble(chunk)
            if not chunk:
                return
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            self._discard()
            raise MtomError(f"malformed multipart body: {exc}", message_id="MTOM-MALFORMED") from exc
        except MtomError:
            self._discard()
            raise

    def _skip_preamble(self, chunk: bytes) -> bytes:
        """Drop any MIME preamble before the first boundary line (RFC 2046 §5.1.1)."""
        data = self._pending + chunk
        marker = b"--" + self.content_type.boundary.encode("latin-1")
        if data.startswith(marker) or data.startswith(b"\r\n" + marker):
            at = 0
        else:
            found = data.find(b"\n" + marker)
            if found == -1:
                self._pending = data[-(len(marker) + 2) :]
                return b""
            at = found + 1
        self._preamble = False
        self._pending = b""
        return data[at:]

    def finish(self) -> MtomMessage:
        """Check completeness and return the message; the caller must :meth:`MtomMessage.close` it."""
        try:
            if not self._ended:
                raise MtomError("truncated multipart body: no closing boundary", message_id="MTOM-TRUNCATED")
            if not self._parts:
                raise MtomError("multipart body has no parts", message_id="MTOM-NO-PARTS")
            return self._assemble()
        except MtomError:
            self._discard()
            raise

    def _assemble(self) -> MtomMessage:
        by_id: dict[str, MimePart] = {}
        for index, part in enumerate(self._parts):
            if part.content_id is None:
                if index == 0 and self.content_type.start is None:
                    continue  # the root may go without a Content-ID when no start parameter is given
                raise MtomError(f"MIME part {index + 1} has no Content-ID", message_id="MTOM-NO-CONTENT-ID")
            if part.content_id in by_id:
                raise MtomError(
                    f"duplicate Content-ID <{part.content_id}>", message_id="MTOM-DUPLICATE-CONTENT-ID"
                )
            by_id[part.content_id] = part
        start = self.content_type.start
        if start is None:
            root = self._parts[0]
        elif start in by_id:
            root = by_id[start]
        else:
            raise MtomError(f"start part <{start}> is not in the message", message_id="MTOM-MISSING-START")
        attachments = {cid: part for cid, part in by_id.items() if part is not root}
        return MtomMessage(root=root, parts=attachments)

    def abort(self) -> None:
        """Release what was received so far (when the caller gives up before :meth:`finish`)."""
        self._discard()

    def _discard(self) -> None:
        for part in self._parts:
            part.close()


def read_mtom(content_type: str, body: bytes | Iterable[bytes], *, max_part_bytes: int) -> MtomMessage:
    """Parse a whole body (bytes or an iterable of chunks)."""
    reader = MtomReader(content_type, max_part_bytes=max_part_bytes)
    for chunk in [body] if isinstance(body, bytes) else body:
        reader.feed(chunk)
    return reader.finish()


async def aread_mtom(content_type: str, body: AsyncIterable[bytes], *, max_part_bytes: int) -> MtomMessage:
    """Parse a streamed body (e.g. an ASGI request stream) chunk by chunk."""
    reader = MtomReader(content_type, max_part_bytes=max_part_bytes)
    async for chunk in body:
        reader.feed(chunk)
    return reader.finish()
