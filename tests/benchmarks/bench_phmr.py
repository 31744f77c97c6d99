"""Benchmark: a 20-measurement PHMR through validate + derive XDS metadata + extract FHIR Observations.

Run ``.venv/bin/python -m tests.benchmarks.bench_phmr [--docs N] [--measurements M]``.  It measures one
core (process CPU time, single thread) and prints documents per second:

* without a CDA schema pack (DK rules only, plus the "not performed" warning),
* with the CDA R2 SDTC schema pack installed from ../shared/testdata into a temporary folder,
* with the schema pack and MedCom's conf-phmr-dk schematron (SaxonC),

followed by a per-stage breakdown.  A calibration loop (pure Python) is printed so numbers from a busy
or slow machine can be compared.  It never fails on time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from hub.core.xml_safety import parse_xml
from profiles.cda import CdaValidator, DocumentFamily, install_pack, read_header, read_phmr, run_phmr_rules
from profiles.cda.schema_pack import CdaSchema
from tests.conftest import TESTDATA
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds.cda_metadata import derive_document_entry
from xds.phmr_observations import extract_observations

PATIENT = {"reference": "Patient/bench"}


def pipeline(validator: CdaValidator, document: bytes) -> int:
    """validate -> derive -> extract, as the submission door runs them; returns the Observation count."""
    report = validator.validate(document)
    header = read_header(report.root)
    entry = derive_document_entry(
        report.root,
        document,
        facility_type="550621000005101",
        practice_setting="408443003",
        repository_unique_id="1.2.208.176.43210.8.10.1",
        detected=report.detected,
        header=header,
    )
    extraction = extract_observations(
        report.root,
        document_reference_id="bench",
        uniqueid=entry.unique_id or "",
        patient_reference=PATIENT,
        content=report.phmr,
        header=header,
    )
    return len(extraction.observations)


def rate(work: Callable[[], object], docs: int) -> float:
    """Best of three runs, in documents per CPU second."""
    work()  # warm caches (compiled schema, XPath, schematron executable)
    best = min(timeit.repeat(work, number=docs, repeat=3, timer=time.process_time))
    return docs / best


def report(label: str, docs_per_second: float) -> None:
    print(f"{label:50s} {docs_per_second:7.0f} docs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300, help="documents per timed run (default 300)")
    parser.add_argument("--measurements", type=int, default=20, help="measurements per PHMR (default 20)")
    args = parser.parse_args()
    document = build_phmr(args.measurements)
    calibration = min(timeit.repeat("sum(range(1_000_000))", number=5, repeat=3, timer=time.process_time)) / 5
    print(f"PHMR: {args.measurements} measurements, {len(document)} bytes; {args.docs} documents per run")
    print(
        f"calibration: sum(range(1e6)) = {calibration * 1e3:.1f} ms CPU (about 20 ms on an idle modern core)"
    )

    with tempfile.TemporaryDirectory() as folder:
        packs = Path(folder)
        bare = CdaValidator(packs / "none")
        report("validate+derive+extract, no schema pack", rate(lambda: pipeline(bare, document), args.docs))
        schemas = TESTDATA / "cda" / "schemas"
        if not schemas.is_dir():
            print("../shared/testdata/cda/schemas not available: XSD runs skipped")
            return
        install_pack("cda-r2", schemas, packs)
        with_xsd = CdaValidator(packs)
        report(
            "validate+derive+extract, CDA_SDTC.xsd pack",
            rate(lambda: pipeline(with_xsd, document), args.docs),
        )
        schematron = (
            TESTDATA / "dk" / "medcom-cda" / "main" / "resources" / "schematrons" / "conf-phmr-dk.sch.xml"
        )
        if schematron.is_file():
            install_pack("schematron", schematron, packs, "medcom-phmr", applies_to=(DocumentFamily.PHMR,))
            full = CdaValidator(packs)
            label = "... plus MedCom conf-phmr-dk schematron (Saxon)"
            report(label, rate(lambda: pipeline(full, document), args.docs))

        root = parse_xml(document)
        schema = CdaSchema(packs)
        content = read_phmr(root)
        header = read_header(root)
        stages: list[tuple[str, Callable[[], object]]] = [
            ("safe parse", lambda: parse_xml(document)),
            ("XSD validation", lambda: schema.validate(root)),
            ("read PHMR content", lambda: read_phmr(root)),
            ("DK PHMR rules", lambda: run_phmr_rules(root, document, content=content)),
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
                    patient_reference=PATIENT,
                    content=content,
                    header=header,
                ),
            ),
        ]
        print("per stage (ms CPU per document):")
        for name, work in stages:
            per_doc = 1e3 / rate(work, args.docs)
            print(f"  {name:22s} {per_doc:6.3f}")


if __name__ == "__main__":
    main()
