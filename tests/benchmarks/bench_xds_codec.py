"""Benchmark: ITI-41 request codec + rules, without HTTP or storage.

One ProvideAndRegister request (SOAP 1.2 + MTOM) carrying the hand-written Danish PHMR metadata of
``tests/unit/xds/golden/dk_phmr_submission.xml`` and a synthetic PHMR-sized CDA document (~20 measurements,
about 60 KB).  Each operation: MTOM parse -> SOAP parse -> ebRIM parse -> repository rules -> registry and
Danish rules -> identity assignment -> change planning -> ebRIM write of the registry form.

Run: ``.venv/bin/python -m tests.benchmarks.bench_xds_codec [seconds]``.  Prints ops/s; never fails on time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import time
from pathlib import Path

from xds.ebrim_parse import parse_submit_objects_request
from xds.ebrim_write import registry_object_list_element, to_bytes
from xds.identifiers import assign_identities
from xds.messages import parse_provide_and_register, provide_and_register_element
from xds.mtom import read_mtom
from xds.mtom_write import Attachment, mtom_response
from xds.registry_rules import (
    RegistryState,
    RuleOptions,
    SubmittedDocument,
    check_provide_and_register,
    check_register,
    plan_changes,
    with_repository_attributes,
)
from xds.soap import Action, build_envelope, envelope_bytes, parse_envelope

GOLDEN = Path(__file__).resolve().parents[1] / "unit" / "xds" / "golden" / "dk_phmr_submission.xml"
OPTIONS = RuleOptions(repository_unique_id="1.2.208.176.43210.8.10.1")


def phmr_like_document(measurements: int = 20) -> bytes:
    """A CDA-shaped document of realistic PHMR size (not a valid PHMR; only its bytes matter here)."""
    entry = (
        '<entry><observation classCode="OBS" moodCode="EVN"><templateId root="1.2.208.184.11.1.2"/>'
        '<id root="1.2.208.184" extension="{i:08d}-obs"/><code code="NPU03011" codeSystem="1.2.208.176.2.1" '
        'displayName="Pt—Legeme; masse = ? kg"/><value xsi:type="PQ" value="7{i}.5" unit="kg"/>'
        '<effectiveTime value="20240305{h:02d}1500+0100"/>'
        + '<methodCode code="POT"/>' * 3
        + "</observation></entry>"
    )
    body = "".join(entry.format(i=i, h=i % 24) for i in range(measurements))
    padding = "<!-- " + "x" * 2000 + " -->"
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' + padding * 20 + body + "</ClinicalDocument>"
    ).encode()


def build_request(document: bytes) -> tuple[str, bytes]:
    submit = parse_submit_objects_request(GOLDEN.read_bytes())
    entry = submit.objects.document_entries[0]
    sha1 = hashlib.sha1(document, usedforsecurity=False).hexdigest()
    entry = dataclasses.replace(entry, hash=sha1, size=len(document))
    submit = dataclasses.replace(
        submit, objects=dataclasses.replace(submit.objects, document_entries=(entry,))
    )
    body = provide_and_register_element(submit, {"Document01": "doc1@bench"})
    envelope = envelope_bytes(build_envelope(Action.ITI_41, body))
    wire = mtom_response(envelope, [Attachment.from_bytes("doc1@bench", document, "text/xml")])
    return wire.content_type, wire.body()


def one_operation(content_type: str, body: bytes) -> int:
    with read_mtom(content_type, [body], max_part_bytes=10 * 1024 * 1024) as message:
        envelope = parse_envelope(message.root.read_bytes())
        envelope.require_action(frozenset({Action.ITI_41}))
        request = parse_provide_and_register(envelope.body, message)
        documents = {doc_id: SubmittedDocument(p.size, p.sha1) for doc_id, p in request.documents.items()}
        objects = request.submit.objects
        findings = check_provide_and_register(objects, documents, OPTIONS)
        objects = with_repository_attributes(
            objects, documents, repository_unique_id=OPTIONS.repository_unique_id
        )
        findings += check_register(objects, RegistryState(), OPTIONS)
        if findings:
            raise RuntimeError(f"benchmark request is not valid: {findings}")
        assigned, _ = assign_identities(objects)
        completed, _ = plan_changes(assigned, RegistryState(), now="20240312081600")
        return len(to_bytes(registry_object_list_element(completed)))


def main(seconds: float = 5.0) -> None:
    document = phmr_like_document()
    content_type, body = build_request(document)
    one_operation(content_type, body)  # warm-up and validity check
    count = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        one_operation(content_type, body)
        count += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"ITI-41 codec+rules: document {len(document)} bytes, request {len(body)} bytes")
    print(f"{count} operations in {elapsed:.2f} s wall = {count / elapsed:.0f} ops/s")
    # CPU time is the steadier figure on a shared machine: ops/s per fully available core.
    print(f"CPU {cpu:.2f} s = {count / cpu:.0f} ops/s per core ({1000 * cpu / count:.2f} ms CPU/op)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
