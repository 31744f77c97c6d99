"""ITI-41 / ITI-43 traffic for ``bench_xds``: the wrk script of a PHMR Provide and Register (each request a
new document and submission set), and the 100 MB round trip with RSS sampling of the server process."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import time
from collections.abc import Iterator

import httpx

from hub.core.xml_safety import parse_xml
from tests import xds_builders as b
from tests.benchmarks.bench_phmr_pipeline import lua_long_string
from tests.benchmarks.harness import RssSampler, Server, lua_string
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds import (
    Action,
    Attachment,
    DocumentRequest,
    InternationalString,
    SubmitObjectsRequest,
    build_envelope,
    envelope_bytes,
    mtom_response,
    provide_and_register_element,
    retrieve_request_element,
)
from xds.cda_metadata import derive_document_entry

DOC_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
SET_PLACEHOLDER = "1" * 24
CHUNK = 1024 * 1024


def _request(entry_changes: dict[str, object], document_id: str = "Document01") -> SubmitObjectsRequest:
    return b.submission(dataclasses.replace(b.document_entry(document_id), **entry_changes))  # type: ignore[arg-type]


def iti41_lua(measurements: int = 20, *, phmr: bool = True) -> str:
    """wrk script: ITI-41 (MTOM) with a PHMR whose ClinicalDocument/id and SubmissionSet uniqueId change per
    request; metadata is derived from the document, hash and size are left to the repository.  With
    ``phmr=False`` the document is a small XML note no processor takes: registry + repository work only."""
    if phmr:
        document = build_phmr(measurements, document_id=DOC_PLACEHOLDER)
        entry = derive_document_entry(
            parse_xml(document),
            document,
            facility_type=b.FACILITY,
            practice_setting=b.PRACTICE,
            entry_uuid="Document01",
        )
        # the submitter sends complete code triples (the builder's serviceEvent codes carry no displayName)
        events = tuple(
            dataclasses.replace(c, display=c.display or InternationalString.of(c.code))
            for c in entry.event_codes
        )
        entry = dataclasses.replace(entry, hash=None, size=None, event_codes=events)
    else:
        document = b"<note>" + b"x" * 4000 + b"</note>"
        entry = b.document_entry(unique_id=f"1.2.208.184^{DOC_PLACEHOLDER}")
    submission = b.submission(entry, cpr=entry.patient_id.id if entry.patient_id else b.PATIENT)
    sset = dataclasses.replace(
        submission.objects.submission_sets[0],
        unique_id=f"2.25.{SET_PLACEHOLDER}",
        patient_id=entry.patient_id,
    )
    submission = dataclasses.replace(
        submission, objects=dataclasses.replace(submission.objects, submission_sets=(sset,))
    )
    envelope = envelope_bytes(
        build_envelope(Action.ITI_41, provide_and_register_element(submission, {"Document01": "doc1@bench"}))
    )
    framed = mtom_response(
        envelope, [Attachment.from_bytes("doc1@bench", document, "text/xml")], action=Action.ITI_41.value
    )
    # Lua long strings turn CR LF into LF: carry the MIME line ends as a marker and restore them once
    body = framed.body().decode("utf-8").replace("\r\n", "@CRLF@")
    return f"""
local template = string.gsub({lua_long_string(body)}, "@CRLF@", "\\r\\n")
local counter = 0
math.randomseed(os.time() + {random.randrange(1 << 30)})
local prefix = string.format("%08x", math.random(0, 0x7fffffff))
request = function()
  counter = counter + 1
  local id = string.format("%s-%04x-4000-8000-%012x", prefix, math.floor(counter / 65536) % 65536, counter)
  local set = string.format("1%011d%012d", math.random(0, 99999999999), counter)  -- an OID arc: no leading 0
  local payload = string.gsub(template, "{DOC_PLACEHOLDER.replace("-", "%-")}", id)
  payload = string.gsub(payload, "{SET_PLACEHOLDER}", set)
  local headers = {{["Content-Type"] = {lua_string(framed.content_type)}}}
  return wrk.format("POST", "/xds/repository", headers, payload)
end
"""


def _big_upload(megabytes: int) -> tuple[str, Iterator[bytes], str, str]:
    # text/xml: the DK profile allows no other mimeType for documents; no processor takes random bytes
    request = _request({"mime_type": "text/xml"})
    uid = request.objects.document_entries[0].unique_id or ""
    envelope = envelope_bytes(
        build_envelope(Action.ITI_41, provide_and_register_element(request, {"Document01": "big@bench"}))
    )
    framed = mtom_response(envelope, [Attachment("big@bench", "text/xml", lambda: iter(()), 0)])
    whole = framed.body()
    head, closing = whole[: -len(framed.closing)], framed.closing
    block = os.urandom(CHUNK)
    digest = hashlib.sha1(usedforsecurity=False)
    for _ in range(megabytes):
        digest.update(block)

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(megabytes):
            yield block
        yield closing

    return framed.content_type, chunks(), uid, digest.hexdigest()


def memory_round_trip(server: Server, megabytes: int) -> str:
    size_mb = megabytes
    with httpx.Client(base_url=server.url, timeout=600) as http:
        content_type, body, uid, sha1 = _big_upload(1)  # warm-up: every code path loaded once
        http.post("/xds/repository", content=body, headers={"content-type": content_type}).raise_for_status()
        time.sleep(1.0)
        sampler = RssSampler(server.process)
        baseline = max(sampler.current_mb())
        content_type, body, uid, sha1 = _big_upload(megabytes)
        started = time.perf_counter()
        with sampler:
            answer = http.post("/xds/repository", content=body, headers={"content-type": content_type})
        upload_s = time.perf_counter() - started
        upload_peak = sampler.peak
        status = "Success" if b"ResponseStatusType:Success" in answer.content else "FAILED"
        if status == "FAILED":
            raise RuntimeError(f"the 100 MB submission failed: {answer.text[-1500:]}")
        retrieve = envelope_bytes(
            build_envelope(Action.ITI_43, retrieve_request_element([DocumentRequest(b.REPOSITORY_ID, uid)]))
        )
        received = 0
        digest = hashlib.sha1(usedforsecurity=False)
        download = RssSampler(server.process)
        started = time.perf_counter()
        with (
            download,
            http.stream(
                "POST", "/xds/repository", content=retrieve, headers={"content-type": "application/soap+xml"}
            ) as reply,
        ):
            for chunk in reply.iter_bytes(CHUNK):
                received += len(chunk)
                digest.update(chunk)
        download_s = time.perf_counter() - started
    growth = max(upload_peak, download.peak) - baseline
    return (
        f"{size_mb} MB document: ITI-41 {status} in {upload_s:.1f} s, ITI-43 {received / 2**20:.0f} MB in "
        f"{download_s:.1f} s; RSS baseline {baseline:.0f} MB, peak upload {upload_peak:.0f} MB, "
        "peak download "
        f"{download.peak:.0f} MB -> growth {growth:.0f} MB = {growth / size_mb:.2f} x the document size"
        f" (sha1 sent {sha1[:12]}…)"
    )
