"""Hostile input at the SOAP doors is refused cleanly (a SOAP Fault or a Failure response) and stores nothing:
XXE, entity expansion, a 100 MB MTOM part above the configured limit, truncated multipart, duplicate
Content-IDs, a missing start part, an xop:Include to nowhere, metadata pointing at a missing document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.suites.xds_client import SOAP_XML, XdsClient, read_reply
from tests import xds_builders as b
from tests.xds_calls import APPROVED, patient_param
from xds import (
    Action,
    Attachment,
    build_envelope,
    envelope_bytes,
    mtom_response,
    new_content_id,
    provide_and_register_element,
)
from xds.stored_queries import StoredQueryId, adhoc_query_request_element

LIMIT = 1024 * 1024


@pytest.fixture
def xds_options() -> dict[str, Any]:
    return {"max_document_bytes": LIMIT}


def _itil41(content_id: str = "doc1@test") -> tuple[bytes, Any]:
    request = b.submission()
    body = provide_and_register_element(request, {"Document01": content_id})
    return envelope_bytes(build_envelope(Action.ITI_41, body)), request


async def _nothing_stored(xds: XdsClient, blob_dir: Path) -> None:
    found = await xds.query(
        adhoc_query_request_element(
            StoredQueryId.FIND_DOCUMENTS,
            {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]},
        )
    )
    assert found.status == "Success" and found.payload is not None
    assert not list(found.payload.iter("{*}ObjectRef"))
    assert not [p for p in blob_dir.glob("??/??/*")], "no document bytes were kept"


@pytest.fixture
def blob_dir(app_client: tuple[Any, httpx.AsyncClient]) -> Path:
    path: Path = app_client[0].state.services.settings.blob_dir
    return path


async def _post(
    http: httpx.AsyncClient, body: bytes, content_type: str, door: str = "/xds/repository"
) -> Any:
    answer = await http.post(door, content=body, headers={"content-type": content_type})
    return read_reply(answer.status_code, answer.headers.get("content-type", ""), answer.content)


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><e>&x;</e>',
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;</l>',
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "http://169.254.169.254/latest">]><e>&x;</e>',
    ],
    ids=["xxe-file", "entity-expansion", "xxe-http"],
)
async def test_dtds_and_entities_are_refused(
    http: httpx.AsyncClient, xds: XdsClient, blob_dir: Path, payload: bytes
) -> None:
    reply = await _post(http, payload, SOAP_XML, door="/xds/registry")
    assert reply.status_code == 400 and reply.fault and "passwd" not in reply.fault
    # the same inside an MTOM root part
    framed = mtom_response(payload, [], action=Action.ITI_41.value)
    reply = await _post(http, framed.body(), framed.content_type)
    assert reply.fault and reply.status_code == 400
    await _nothing_stored(xds, blob_dir)


async def test_part_above_the_limit_is_refused_while_streaming(
    http: httpx.AsyncClient, xds: XdsClient, blob_dir: Path
) -> None:
    envelope, _ = _itil41()
    framed = mtom_response(
        envelope, [Attachment("doc1@test", "text/xml", lambda: iter(()), 0)], action=Action.ITI_41.value
    )
    head = b"".join(framed.chunks())
    head, closing = head[: -len(framed.closing)], framed.closing
    chunk = b"A" * (64 * 1024)
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(1600):  # 100 MB
            sent += len(chunk)
            yield chunk
        yield closing

    answer = await http.post("/xds/repository", content=body(), headers={"content-type": framed.content_type})
    reply = read_reply(answer.status_code, answer.headers.get("content-type", ""), answer.content)
    assert answer.status_code == 413 and reply.fault and str(LIMIT) in reply.fault
    await _nothing_stored(xds, blob_dir)


async def test_truncated_duplicate_and_missing_parts(
    http: httpx.AsyncClient, xds: XdsClient, blob_dir: Path
) -> None:
    envelope, _ = _itil41()
    document = Attachment.from_bytes("doc1@test", b.cda_document(), "text/xml")
    good = mtom_response(envelope, [document], action=Action.ITI_41.value)
    body = good.body()
    truncated = await _post(http, body[: len(body) - 40], good.content_type)
    assert truncated.fault and "truncated" in truncated.fault.lower()
    twice = mtom_response(envelope, [document, document], action=Action.ITI_41.value)
    duplicate = await _post(http, twice.body(), twice.content_type)
    assert duplicate.fault and "duplicate Content-ID" in duplicate.fault
    elsewhere, _ = _itil41(content_id=new_content_id())
    dangling = mtom_response(elsewhere, [document], action=Action.ITI_41.value)
    missing = await _post(http, dangling.body(), dangling.content_type)
    assert missing.fault and "missing MIME part" in missing.fault
    no_start = good.content_type.replace('start="<', 'start="<nope.')
    start = await _post(http, body, no_start)
    assert start.fault and "start part" in start.fault
    not_multipart = await _post(http, body, "multipart/related")
    assert not_multipart.fault and "boundary" in not_multipart.fault
    await _nothing_stored(xds, blob_dir)


async def test_plain_body_above_the_limit(http: httpx.AsyncClient) -> None:
    big = b"<x>" + b"a" * (LIMIT * 3) + b"</x>"  # above 4/3 of the limit (inline base64) plus 1 MB
    reply = await _post(http, big, SOAP_XML, door="/xds/registry")
    assert reply.status_code == 413 and reply.fault


async def test_metadata_pointing_at_a_missing_document(xds: XdsClient, blob_dir: Path) -> None:
    request = b.submission(b.document_entry(), b.document_entry("Document02"))
    reply = await xds.provide_and_register(request, {"Document01": (b.cda_document(), "text/xml")})
    assert reply.status == "Failure" and "XDSMissingDocument" in reply.error_codes
    await _nothing_stored(xds, blob_dir)
