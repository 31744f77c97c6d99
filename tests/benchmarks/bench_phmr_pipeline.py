"""Benchmark of the PHMR submission pipeline (issue 4, "Speed"): in process, then end to end over HTTP.

    .venv/bin/python -m tests.benchmarks.bench_phmr_pipeline [--docs 200] [--measurements 20]
        [--duration 10] [--connections 4] [--workers 1] [--pg-url postgresql+asyncpg://…/postgres]
        [--doors submit,mhd]

1. In process, one core (process CPU time, single thread), a generated PHMR with 20 measurements:
   * validate + derive + extract (the issue's target: >= 300 documents/s) - ``CdaValidator``, header,
     DocumentEntry, Observations, exactly as the processor chains them (one parse);
   * the whole CPU phase of :class:`xds.phmr.PhmrProcessor` (the above + display completion +
     ``hub.fhir`` ``prepare`` of 20 Observations and 1 Device: FHIR structure checks and index rows);
   * both again with the CDA R2 schema pack installed from ``../shared/testdata`` (when present);
   * the processor with its derived resources validated against ``hl7.fhir.r4.core`` (when present), as
     a hub with the core package installed runs it;
   * a per-stage breakdown, and a calibration loop to compare machines.
2. End to end: ``POST /fhir/$submit-document`` and MHD ITI-65 (``POST /fhir`` with a Provide Document
   Bundle of minimal metadata) against a real ``telehub serve`` (wrk, each request a new document) on
   SQLite, and on PostgreSQL with ``--pg-url`` (a fresh database is created and dropped).

It prints its results; it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import string
import tempfile
import time
import timeit
from pathlib import Path

import psutil

from hub.core.settings import Settings
from hub.core.xml_safety import parse_xml
from hub.fhir import (
    AllowAllPolicy,
    FhirService,
    NullAuditTrail,
    NullWriteValidator,
    ResourceIndexer,
    build_validation,
)
from hub.fhir.search import default_registry
from hub.fhir.writes import prepare
from hub.storage import Database, upgrade
from profiles.cda import CdaValidator, install_pack, read_header, read_phmr
from tests.benchmarks.bench_phmr import pipeline, rate
from tests.benchmarks.harness import LoadResult, Server, wrk
from tests.conftest import TESTDATA
from tests.integration.phmr.test_provide_bundle import provide_bundle
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds.cda_metadata import derive_document_entry
from xds.phmr import PhmrProcessor
from xds.phmr_observations import extract_observations
from xds.services import SubmittedDocument

PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
SUBJECT = {"type": "Patient", "identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "2512484916"}}


def processor_for(packs_dir: Path, *, core: Path | None = None) -> PhmrProcessor:
    """The processor as a hub builds it; with ``core`` (the hl7.fhir.r4.core package) its 21 derived
    resources are validated against the base definitions, as in production, else not validated at all."""
    settings = Settings(
        database_url="sqlite+aiosqlite:///unused.db",
        data_dir=packs_dir.parent,
        base_url="http://bench",
        validation={"packages": [str(core)]} if core else {},
    )
    fhir = FhirService(
        settings=settings,
        db=Database(settings.database_url),
        indexer=ResourceIndexer(default_registry(), local_base="http://bench/fhir"),
        policy=AllowAllPolicy(),
        validator=build_validation(settings) if core else NullWriteValidator(),
        audit=NullAuditTrail(),
    )
    validator = CdaValidator(packs_dir)
    return PhmrProcessor(fhir, validator, facility_type="550621000005101", practice_setting="408443003")


def line(label: str, docs_per_second: float) -> None:
    print(f"  {label:58s} {docs_per_second:7.0f} docs/s  ({1000 / docs_per_second:6.2f} ms/doc)")


def in_process(args: argparse.Namespace, document: bytes) -> None:
    print(f"In process, one core: PHMR with {args.measurements} measurements, {len(document)} bytes")
    submitted = SubmittedDocument("Document01", "text/xml", document, None)
    with tempfile.TemporaryDirectory() as folder:
        packs = Path(folder) / "packs"
        bare = processor_for(packs)
        line(
            "validate + derive + extract (no schema pack)",
            rate(lambda: pipeline(bare.validator, document), args.docs),
        )
        line(
            "PhmrProcessor.process (+ FHIR prepare), no schema pack",
            rate(lambda: bare.process(submitted), args.docs),
        )
        schemas = TESTDATA / "cda" / "schemas"
        if schemas.is_dir():
            install_pack("cda-r2", schemas, packs)
            xsd = processor_for(packs)
            line(
                "validate + derive + extract (CDA_SDTC.xsd pack)",
                rate(lambda: pipeline(xsd.validator, document), args.docs),
            )
            line(
                "PhmrProcessor.process (+ FHIR prepare), XSD pack",
                rate(lambda: xsd.process(submitted), args.docs),
            )
        else:
            print("  ../shared/testdata/cda/schemas not available: XSD runs skipped")
        core = TESTDATA / "fhir" / "packages" / "hl7.fhir.r4.core-4.0.1.tgz"
        if core.is_file():
            validated = processor_for(Path(folder) / "bare", core=core)
            line(
                "PhmrProcessor.process, resources validated (core), no pack",
                rate(lambda: validated.process(submitted), args.docs),
            )
        stages(bare, document, args.docs)


def stages(processor: PhmrProcessor, document: bytes, docs: int) -> None:
    root = parse_xml(document)
    report = processor.validator.validate(document)
    header = read_header(root)
    entry = derive_document_entry(root, document, facility_type="1", practice_setting="2", header=header)
    extraction = extract_observations(
        root,
        document_reference_id="b",
        uniqueid="u",
        patient_reference=SUBJECT,
        content=report.phmr,
        header=header,
    )
    fhir = processor.fhir

    def prepare_all() -> None:
        for resource in (*extraction.observations, *extraction.devices):
            prepare(fhir, resource, resource_id=resource["id"], expected_type=resource["resourceType"])

    print("  per stage (ms CPU per document):")
    for name, work in (
        ("CdaValidator.validate (parse, DK rules)", lambda: processor.validator.validate(document)),
        ("  of which read PHMR content", lambda: read_phmr(root)),
        ("read header", lambda: read_header(root)),
        (
            "derive DocumentEntry",
            lambda: derive_document_entry(
                root, document, facility_type="1", practice_setting="2", header=header
            ),
        ),
        (
            "extract Observations",
            lambda: extract_observations(
                root,
                document_reference_id="b",
                uniqueid="u",
                patient_reference=SUBJECT,
                content=report.phmr,
                header=header,
            ),
        ),
        ("prepare 21 resources (structure + index)", prepare_all),
    ):
        print(f"    {name:44s} {1000 / rate(work, docs):7.3f}")
    assert entry.unique_id  # the derived entry is real, not a stub


# ------------------------------------------------------------------------------------ over HTTP


def lua_long_string(text: str) -> str:
    """A Lua long-bracket literal: raw UTF-8, no escapes (JSON's ``\\uXXXX`` is not Lua)."""
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def _unique_id_lua(prefix: str) -> str:
    """Lua: ``id()`` gives a fresh 36-character id per request (the document's, in the CDA header)."""
    return f"""
local counter = 0
local function next_id()
  counter = counter + 1
  return string.format("{prefix}-%04x-4000-8000-%012x", math.floor(counter / 65536) % 65536, counter)
end
"""


def submit_lua(template: bytes) -> str:
    """wrk script: every request is a new document (its id replaces the placeholder)."""
    return f"""
{_unique_id_lua(secrets.token_hex(4))}
local template = {lua_long_string(template.decode("utf-8"))}
request = function()
  local body = string.gsub(template, "{PLACEHOLDER.replace("-", "%-")}", next_id())
  return wrk.format("POST", "/fhir/$submit-document", {{["Content-Type"] = "application/xml"}}, body)
end
"""


SET_PLACEHOLDER = "2.25.999999999999999999"


def mhd_bundle(template: bytes) -> tuple[str, str]:
    """An ITI-65 bundle of ``template`` (minimal metadata) and the base64 of the document id placeholder.

    The document travels base64-encoded, so the placeholder is aligned to a 3-byte boundary (newlines after
    the XML declaration) and its base64 is a fixed substring that the Lua script replaces per request.
    """
    offset = template.index(PLACEHOLDER.encode())
    declaration_end = template.index(b"?>") + 2
    aligned = template[:declaration_end] + b"\n" * (-offset % 3) + template[declaration_end:]
    assert aligned.index(PLACEHOLDER.encode()) % 3 == 0 and len(PLACEHOLDER) % 3 == 0
    bundle = provide_bundle(aligned)
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = f"urn:oid:{SET_PLACEHOLDER}"
    encoded_placeholder = base64.b64encode(PLACEHOLDER.encode()).decode()
    text = json.dumps(bundle, separators=(",", ":"))
    assert text.count(encoded_placeholder) == 1
    return text, encoded_placeholder


def mhd_lua(template: bytes) -> str:
    """wrk script for MHD ITI-65: a new document id (in the base64 CDA) and SubmissionSet uniqueId each
    request."""
    bundle, encoded_placeholder = mhd_bundle(template)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    first = secrets.randbelow(10**9) + 1
    return f"""
{_unique_id_lua(secrets.token_hex(4))}
local template = {lua_long_string(bundle)}
local alphabet = "{alphabet}"
local function b64(s)  -- #s is a multiple of 3
  local out = {{}}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + b * 256 + c
    for shift = 18, 0, -6 do
      local k = math.floor(n / 2 ^ shift) % 64
      out[#out + 1] = alphabet:sub(k + 1, k + 1)
    end
  end
  return table.concat(out)
end
request = function()
  local id = next_id()
  local body = string.gsub(template, "{encoded_placeholder.replace("+", "%+")}", b64(id))
  body = string.gsub(body, "{SET_PLACEHOLDER.replace(".", "%.")}", "2.25.{first}" .. counter)
  return wrk.format("POST", "/fhir", {{["Content-Type"] = "application/fhir+json"}}, body)
end
"""


async def _create_pg(admin_url: str) -> tuple[str, str]:
    import asyncpg

    name = f"telehub_bench_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.close()
    return name, url


async def _drop_pg(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


DOORS = {"submit": ("/fhir/$submit-document", submit_lua), "mhd": ("/fhir", mhd_lua)}


def over_http(engine: str, url: str, args: argparse.Namespace, template: bytes, door: str) -> LoadResult:
    path, script = DOORS[door]
    with (
        tempfile.TemporaryDirectory() as folder,
        Server(url, args.workers, Path(folder), extra_env={"TELEHUB_SECURITY__MODE": "open"}) as server,
    ):
        # a fresh script (fresh id prefix) per run: the measured run must not resubmit warm-up documents
        wrk(server.url + path, script(template), duration=2, connections=args.connections)  # warm up
        result = wrk(
            server.url + path, script(template), duration=args.duration, connections=args.connections
        )
    print(
        f"  {engine:10s} {door:6s} {result.requests_per_s:7.1f} docs/s  p50 {result.p50_ms:6.1f} ms  "
        f"p95 {result.p95_ms:6.1f} ms  errors {result.errors}  ({args.workers} worker(s), "
        f"{args.connections} connections)"
    )
    return result


def end_to_end(args: argparse.Namespace) -> None:
    template = build_phmr(args.measurements, document_id=PLACEHOLDER)
    doors = [d for d in args.doors.split(",") if d]
    print(
        f"End to end over HTTP: {', '.join(DOORS[d][0] for d in doors)}, {args.duration} s per engine (wrk)"
    )
    for door in doors:
        with tempfile.TemporaryDirectory() as folder:
            over_http("sqlite", f"sqlite+aiosqlite:///{folder}/bench.db", args, template, door)
        if args.pg_url:
            name, url = asyncio.run(_create_pg(args.pg_url))
            try:
                over_http("postgresql", url, args, template, door)
            finally:
                asyncio.run(_drop_pg(args.pg_url, name))
        else:
            print("  postgresql skipped (give --pg-url)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200, help="documents per timed in-process run")
    parser.add_argument("--measurements", type=int, default=20)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per engine")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pg-url", help="postgresql+asyncpg://… of a server where databases may be created")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--doors", default="submit,mhd", help="submit ($submit-document) and/or mhd (ITI-65), comma-separated"
    )
    args = parser.parse_args()
    calibration = min(timeit.repeat("sum(range(1_000_000))", number=5, repeat=3, timer=time.process_time)) / 5
    print(
        f"machine: {psutil.cpu_count()} cores; calibration sum(range(1e6)) = {calibration * 1e3:.1f} ms CPU "
        "(about 20 ms on an idle modern core)"
    )
    in_process(args, build_phmr(args.measurements))
    if not args.skip_http:
        end_to_end(args)


if __name__ == "__main__":
    main()
