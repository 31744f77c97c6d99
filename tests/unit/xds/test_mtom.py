"""MTOM/XOP parsing and building (ITI TF-2x V.3.6, XOP 1.0, RFC 2387)."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from xds.errors import MtomError, MtomPartTooLargeError
from xds.mtom import MimePart, MtomReader, aread_mtom, normalize_content_id, parse_content_type, read_mtom
from xds.mtom_write import Attachment, aiter_chunks, mtom_response, new_content_id

BOUNDARY = "MIMEBoundary_test"
CONTENT_TYPE = (
    f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; '
    'start="<root@test>"; start-info="application/soap+xml"'
)


def _part(content_id: str | None, body: bytes, extra: str = "") -> bytes:
    head = "Content-Type: application/octet-stream\r\n" + extra
    if content_id is not None:
        head += f"Content-ID: <{content_id}>\r\n"
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + body + b"\r\n"


def _message(*parts: bytes, closing: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if closing else b"")


def test_content_type_parameters() -> None:
    parsed = parse_content_type(CONTENT_TYPE)
    assert parsed.boundary == BOUNDARY
    assert parsed.start == "root@test"
    assert parsed.is_xop and parsed.start_info == "application/soap+xml"


@pytest.mark.parametrize(
    ("header", "message_id"),
    [
        ("application/soap+xml", "MTOM-CONTENT-TYPE"),
        ('multipart/related; type="application/xop+xml"', "MTOM-NO-BOUNDARY"),
        ('multipart/related; boundary=b; start="<bad id>"', "MTOM-BAD-CONTENT-ID"),
    ],
)
def test_bad_content_type(header: str, message_id: str) -> None:
    with pytest.raises(MtomError) as caught:
        parse_content_type(header)
    assert caught.value.issues[0].message_id == message_id


def test_content_id_forms() -> None:
    assert normalize_content_id("<a@b>") == "a@b"
    assert normalize_content_id("cid:a%40b") == "a@b"
    assert normalize_content_id("CID:doc1") == "doc1"
    for bad in ("", "<>", "a b", "<a<b>", "cid:"):
        with pytest.raises(MtomError):
            normalize_content_id(bad)


def test_parse_root_and_attachments_in_tiny_chunks() -> None:
    body = _message(_part("root@test", b"<soap/>"), _part("doc1@test", b"\x00binary\r\n--not-a-boundary"))
    chunks = [body[i : i + 3] for i in range(0, len(body), 3)]
    with read_mtom(CONTENT_TYPE, chunks, max_part_bytes=1024) as message:
        assert message.root.read_bytes() == b"<soap/>"
        part = message.part("cid:doc1%40test")
        assert part.read_bytes() == b"\x00binary\r\n--not-a-boundary"
        assert part.size == len(b"\x00binary\r\n--not-a-boundary")
        assert part.sha1 == hashlib.sha1(b"\x00binary\r\n--not-a-boundary", usedforsecurity=False).hexdigest()
        assert part.sha256 == hashlib.sha256(b"\x00binary\r\n--not-a-boundary").hexdigest()
        assert part.content_type == "application/octet-stream"


def test_preamble_and_epilogue_are_ignored() -> None:
    body = b"This is a MIME preamble\r\n" + _message(_part("root@test", b"<soap/>")) + b"epilogue"
    with read_mtom(CONTENT_TYPE, [body[:10], body[10:]], max_part_bytes=100) as message:
        assert message.root.read_bytes() == b"<soap/>"


def test_root_without_content_id_when_no_start_parameter() -> None:
    header = f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"'
    body = _message(_part(None, b"<soap/>"), _part("d@x", b"data"))
    with read_mtom(header, body, max_part_bytes=100) as message:
        assert message.root.read_bytes() == b"<soap/>"
        assert set(message.parts) == {"d@x"}


@pytest.mark.parametrize(
    ("body", "message_id"),
    [
        (
            _message(_part("root@test", b"<soap/>"), _part("d@x", b"1"), _part("d@x", b"2")),
            "MTOM-DUPLICATE-CONTENT-ID",
        ),
        (_message(_part("other@test", b"<soap/>")), "MTOM-MISSING-START"),
        (_message(_part("root@test", b"<soap/>"), _part(None, b"x")), "MTOM-NO-CONTENT-ID"),
        (_message(_part("root@test", b"<soap/>"), closing=False), "MTOM-TRUNCATED"),
        (_message(_part("root@test", b"<soap/>"))[:-30], "MTOM-TRUNCATED"),
        (
            _message(_part("root@test", b"<soap/>", "Content-Transfer-Encoding: base64\r\n")),
            "MTOM-TRANSFER-ENCODING",
        ),
        (f"--{BOUNDARY}\r\nContent-ID: <bad id>\r\n\r\nx\r\n--{BOUNDARY}--".encode(), "MTOM-BAD-CONTENT-ID"),
        (f"--{BOUNDARY}X\r\n".encode(), "MTOM-MALFORMED"),
        (f"--{BOUNDARY}--\r\n".encode(), "MTOM-NO-PARTS"),
    ],
)
def test_malformed_messages(body: bytes, message_id: str) -> None:
    with pytest.raises(MtomError) as caught:
        read_mtom(CONTENT_TYPE, body, max_part_bytes=1024)
    assert caught.value.issues[0].message_id == message_id


def test_missing_part_behind_xop_include() -> None:
    with (
        read_mtom(CONTENT_TYPE, _message(_part("root@test", b"<soap/>")), max_part_bytes=100) as message,
        pytest.raises(MtomError) as caught,
    ):
        message.part("cid:absent@test")
    assert caught.value.issues[0].message_id == "MTOM-MISSING-PART"


def test_too_many_parts() -> None:
    reader = MtomReader(CONTENT_TYPE, max_part_bytes=100, max_parts=2)
    with pytest.raises(MtomError) as caught:
        reader.feed(_message(_part("root@test", b"r"), _part("a@x", b"a"), _part("b@x", b"b")))
    assert caught.value.issues[0].message_id == "MTOM-TOO-MANY-PARTS"


def _streamed_part(size: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    yield _part("root@test", b"<soap/>") + f"--{BOUNDARY}\r\nContent-ID: <big@test>\r\n\r\n".encode()
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_part_above_the_limit_is_refused_while_streaming() -> None:
    """A 100 MB part against a 4 MB limit: refused after ~4 MB, the rest is never read."""
    consumed = 0

    def counting() -> Iterator[bytes]:
        nonlocal consumed
        for chunk in _streamed_part(100 * 1024 * 1024):
            consumed += len(chunk)
            yield chunk

    with pytest.raises(MtomPartTooLargeError) as caught:
        read_mtom(CONTENT_TYPE, counting(), max_part_bytes=4 * 1024 * 1024)
    assert caught.value.issues[0].message_id == "MTOM-PART-TOO-LARGE"
    assert consumed < 5 * 1024 * 1024


def test_large_part_is_spooled_not_held_in_memory() -> None:
    size = 24 * 1024 * 1024
    expected = hashlib.sha1(usedforsecurity=False)
    for chunk in list(_streamed_part(size))[1:-1]:
        expected.update(chunk)
    tracemalloc.start()
    try:
        message = read_mtom(CONTENT_TYPE, _streamed_part(size), max_part_bytes=size + 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    part = message.parts["big@test"]
    assert part.size == size
    assert part.sha1 == expected.hexdigest()
    assert not part.in_memory
    assert message.root.in_memory
    assert peak < 8 * 1024 * 1024, f"peak traced allocation {peak} bytes"
    message.close()
    part.close()


def test_async_reader() -> None:
    body = _message(_part("root@test", b"<soap/>"), _part("d@x", b"payload"))

    async def stream() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 5):
            yield body[i : i + 5]

    with asyncio.run(aread_mtom(CONTENT_TYPE, stream(), max_part_bytes=100)) as message:
        assert message.parts["d@x"].read_bytes() == b"payload"


def test_build_then_parse_round_trip(tmp_path: Path) -> None:
    document = tmp_path / "doc.xml"
    document.write_bytes(b"<ClinicalDocument/>" * 1000)
    spooled = MimePart.from_bytes("p@x", b"spooled", "text/plain")
    response = mtom_response(
        b"<s:Envelope/>",
        [
            Attachment.from_file("file@x", document, "text/xml"),
            Attachment.from_bytes("bytes@x", b"\r\n--MIMEBoundary_fake\r\n", "application/octet-stream"),
            Attachment.from_part("part@x", spooled),
        ],
        action="urn:ihe:iti:2007:RetrieveDocumentSetResponse",
    )
    body = response.body()
    assert response.content_length == len(body)
    assert 'action="urn:ihe:iti:2007:RetrieveDocumentSetResponse"' in response.content_type
    spooled.close()
    with read_mtom(response.content_type, body, max_part_bytes=10**6) as message:
        assert message.root.read_bytes() == b"<s:Envelope/>"
        assert message.parts["file@x"].read_bytes() == document.read_bytes()
        assert message.parts["file@x"].content_type == "text/xml"
        assert message.parts["bytes@x"].read_bytes() == b"\r\n--MIMEBoundary_fake\r\n"
        assert message.parts["part@x"].read_bytes() == b"spooled"


def test_unknown_size_gives_no_content_length() -> None:
    attachment = Attachment("x@y", "text/plain", lambda: iter([b"a", b"b"]))
    response = mtom_response(b"<e/>", [attachment], boundary="B", root_content_id="r@y")
    assert response.content_length is None
    assert response.body().startswith(b"--B\r\nContent-Type: application/xop+xml")
    assert b"ab\r\n--B--\r\n" in response.body()


def test_async_chunk_adapter_streams_every_chunk() -> None:
    async def collect() -> list[bytes]:
        return [c async for c in aiter_chunks(iter([b"a", b"", b"bc"]))]

    assert asyncio.run(collect()) == [b"a", b"bc"]


def test_new_content_ids_are_unique_and_valid() -> None:
    first, second = new_content_id(), new_content_id("x")
    assert first != second and second.startswith("x.")
    assert normalize_content_id(f"<{first}>") == first
