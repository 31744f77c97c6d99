"""MTOM/XOP response building by concatenating bytes (ITI TF-2x V.3.6, W3C XOP 1.0, RFC 2387).

:func:`mtom_response` returns the ``Content-Type`` header, the exact ``Content-Length`` when every
attachment knows its size, and a factory of the body as an iterator of byte chunks: the root SOAP part,
then each attachment streamed from its source (bytes, a file read in chunks, or a spooled
:class:`~xds.mtom.MimePart`), so a 100 MB document goes out without being loaded into memory.
:func:`aiter_chunks` adapts that iterator for an ASGI streaming response, reading files in a worker thread.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from xds.mtom import MimePart

_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attachment: its Content-ID (without ``<>``), media type, a chunk source and, if known, size."""

    content_id: str
    content_type: str
    source: Callable[[], Iterable[bytes]]
    size: int | None = None

    @classmethod
    def from_bytes(cls, content_id: str, data: bytes, content_type: str) -> Attachment:
        return cls(content_id, content_type, lambda: (data,), len(data))

    @classmethod
    def from_file(cls, content_id: str, path: Path, content_type: str) -> Attachment:
        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    yield chunk

        return cls(content_id, content_type, chunks, path.stat().st_size)

    @classmethod
    def from_part(cls, content_id: str, part: MimePart, content_type: str | None = None) -> Attachment:
        return cls(content_id, content_type or part.content_type, part.iter_chunks, part.size)


def new_content_id(hint: str = "doc") -> str:
    """A fresh globally unique Content-ID such as ``doc.<uuid>@telehub``."""
    return f"{hint}.{uuid.uuid4().hex}@telehub"


@dataclass(frozen=True, slots=True)
class MtomResponse:
    """Everything an HTTP layer needs: headers plus a re-iterable body."""

    content_type: str
    content_length: int | None
    parts: tuple[tuple[bytes, Attachment | bytes], ...]
    closing: bytes

    def chunks(self) -> Iterator[bytes]:
        """The body as byte chunks, in order; attachments are read lazily."""
        for head, content in self.parts:
            yield head
            if isinstance(content, bytes):
                yield content
            else:
                yield from content.source()
        yield self.closing

    def body(self) -> bytes:
        """The whole body in memory (tests and small responses only)."""
        return b"".join(self.chunks())


def mtom_response(
    root_xml: bytes,
    attachments: Sequence[Attachment],
    *,
    action: str | None = None,
    boundary: str | None = None,
    root_content_id: str | None = None,
) -> MtomResponse:
    """Build a ``multipart/related; type="application/xop+xml"`` message around a SOAP 1.2 envelope.

    ``root_xml`` must already reference each attachment with ``<xop:Include href="cid:…"/>``.
    """
    boundary = boundary or f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = root_content_id or f"root.message.{uuid.uuid4().hex}@telehub"
    action_param = f'; action="{action}"' if action else ""
    root_type = f'application/xop+xml; charset=UTF-8; type="application/soap+xml"{action_param}'
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"{action_param}'
    )
    parts: list[tuple[bytes, Attachment | bytes]] = [
        (_head(boundary, root_id, root_type, first=True), root_xml)
    ]
    for attachment in attachments:
        parts.append((_head(boundary, attachment.content_id, attachment.content_type), attachment))
    closing = f"\r\n--{boundary}--\r\n".encode("ascii")
    length: int | None = len(closing)
    for head, content in parts:
        size = len(content) if isinstance(content, bytes) else content.size
        length = None if length is None or size is None else length + len(head) + size
    return MtomResponse(content_type, length, tuple(parts), closing)


def _head(boundary: str, content_id: str, content_type: str, *, first: bool = False) -> bytes:
    lead = "" if first else "\r\n"
    return (
        f"{lead}--{boundary}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{content_id}>\r\n\r\n"
    ).encode("ascii")


async def aiter_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Drive a blocking chunk iterator (file reads) from async code without blocking the event loop."""
    done = object()
    while True:
        chunk = await asyncio.to_thread(next, chunks, done)
        if chunk is done:
            return
        if isinstance(chunk, bytes) and chunk:
            yield chunk
