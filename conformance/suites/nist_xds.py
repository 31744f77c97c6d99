"""The NIST XDS toolkit testkit, run against telehub's real SOAP doors (in-process or ``--target URL``).

Each test of the groups Register (R.b), Provide and Register (PR.b), Stored Query (SQ.b), Retrieve (Ret.b),
metadata update (MU, ITI-57) and delete (RM, ITI-62) runs in its own context: a fresh hub database (in
process) and fresh patient ids; the preload tests it refers to (``testdata-registry``, ``12346`` …) run first,
on demand, through ``UseId`` / ``UseReport``.  Every step goes through the SOAP door exactly as the
toolkit would send it (metadata converted 2.1 -> 3.0, patient ids, uniqueIds and UUIDs assigned) and is
graded by :mod:`conformance.suites.nist_checks`.  Steps that cannot run are skipped with the reason: XDS.a,
assertion-only ``NullTransaction`` steps, ITI-92 Restricted Update (``RmuTransaction``), Patient Identity
Feed (a no-op for a hub without a patient registry), and tests of other actors (XCA, XDR, XDS-I, MHD …).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from conformance.report import CaseResult, CaseStatus, SuiteReport
from conformance.suites.nist_plan import collections, readme_title, sections
from conformance.suites.nist_runner import StepRunner
from conformance.suites.xds_client import XdsClient
from hub.core.errors import ConfigurationError

SUITE = "nist-xds"
# Test patients live in the CPR domain, so the hub's patient registry (FHIR Patients with a CPR identifier,
# ``xds.patient_registry``) can play the Patient Identity Feed.
PATIENT_AUTHORITY = "1.2.208.176.1.2"
# collection -> reported group (first match wins, in this order)
GROUPS: tuple[tuple[str, str], ...] = (
    ("SQ.b", "SQ.b"),
    ("R.b", "R.b"),
    ("PR.b", "PR.b"),
    ("Ret.b", "Ret.b"),
    ("reg_mu", "MU"),
    ("reg_rm", "RM"),
    ("reg_rmd_rm", "RM"),
    ("reg_catfolder", "R.b"),
    ("reg_catlifecycle", "R.b"),
    ("reg", "R.b"),
    ("rep", "PR.b"),
)
SKIPPED_COLLECTIONS = {"reg_rmu": "ITI-92 Restricted Metadata Update is not implemented"}


@dataclass(frozen=True, slots=True)
class NistOptions:
    tests: tuple[str, ...] = ()  # only these test ids (default: every test of a runnable group)
    groups: tuple[str, ...] = ()  # only these groups


def group_of(test_dir: Path) -> tuple[str | None, str]:
    """(group, skip reason): the reported group of a test, or why it does not run."""
    found = collections(test_dir)
    for collection, group in GROUPS:
        if collection in found:
            return group, ""
    for collection, reason in SKIPPED_COLLECTIONS.items():
        if collection in found:
            return None, reason
    named = ", ".join(found) or "none"
    return None, f"not an XDS.b registry/repository test (collections: {named})"


def new_patient_id() -> str:
    return f"{uuid.uuid4().int % 10**10:010d}^^^&{PATIENT_AUTHORITY}&ISO"


@asynccontextmanager
async def remote_hub(target: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=target.rstrip("/"), timeout=120) as http:
        yield http


@dataclass(slots=True)
class TestOutcome:
    results: list[CaseResult] = field(default_factory=list)


async def run_test(testkit: Path, test_dir: Path, group: str, http: httpx.AsyncClient) -> list[CaseResult]:
    runner = StepRunner(testkit, XdsClient(http), new_patient_id, group=group)
    try:
        for section in sections(test_dir):
            await runner.run_section(section, record=True)
    except Exception as exc:  # one broken test must not stop the suite: reported as ERROR
        runner.results.append(
            CaseResult(name=test_dir.name, status=CaseStatus.ERROR, group=group, reason=f"runner: {exc!r}")
        )
    return runner.results


def selected_tests(testkit: Path, options: NistOptions) -> list[Path]:
    tests_dir = testkit / "tests"
    if options.tests:
        return [tests_dir / t for t in options.tests if (tests_dir / t).is_dir()]
    return sorted(p for p in tests_dir.iterdir() if p.is_dir())


HubFactory = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


async def arun_nist(
    testkit: Path,
    target: str | None = None,
    options: NistOptions | None = None,
    *,
    hub: HubFactory | None = None,
) -> SuiteReport:
    """Run the testkit at ``testkit`` (the folder holding ``tests/``) and grade every step.

    ``target`` is a hub's base URL; without it, ``hub`` must give a fresh in-process hub per test (the
    composition root provides one: ``hub.cli.xds.in_process_hub``; conformance cannot import the app).
    """
    options = options or NistOptions()
    if target is None and hub is None:
        raise ConfigurationError("run_nist needs a --target URL or an in-process hub factory")
    report = SuiteReport(suite=SUITE, target=target or "in-process")
    for test_dir in selected_tests(testkit, options):
        group, reason = group_of(test_dir)
        if options.groups and group not in options.groups:
            continue
        if group is None:
            title = readme_title(test_dir)
            report.add(
                CaseResult(name=f"{test_dir.name} {title}".strip(), status=CaseStatus.SKIP, reason=reason)
            )
            continue
        started = time.perf_counter()
        session = hub() if hub is not None and target is None else remote_hub(target or "")
        async with session as http:
            results = await run_test(testkit, test_dir, group, http)
        seconds = (time.perf_counter() - started) / max(len(results), 1)
        for result in results:
            report.add(_timed(result, seconds))
    return report


def _timed(result: CaseResult, seconds: float) -> CaseResult:
    from dataclasses import replace

    return replace(result, seconds=round(seconds, 4))


def run_nist(
    path: Path | str,
    target: str | None = None,
    *,
    tests: Sequence[str] = (),
    groups: Sequence[str] = (),
    hub: HubFactory | None = None,
) -> SuiteReport:
    """Synchronous entry point (``telehub conformance run --suite nist-xds PATH [--target URL]``)."""
    options = NistOptions(tests=tuple(tests), groups=tuple(groups))
    return asyncio.run(arun_nist(Path(path), target, options, hub=hub))


def group_table(report: SuiteReport) -> str:
    """The pass-rate table per group, in Markdown."""
    rows = ["| group | steps | runnable | passed | pass rate |", "| --- | ---: | ---: | ---: | ---: |"]
    groups: dict[str, list[CaseResult]] = {}
    for result in report.results:
        if result.group:
            groups.setdefault(result.group, []).append(result)
    total = passed_all = 0
    for name in sorted(groups):
        items = groups[name]
        runnable = [r for r in items if r.runnable]
        passed = sum(1 for r in runnable if r.status is CaseStatus.PASS)
        total += len(runnable)
        passed_all += passed
        rate = f"{100.0 * passed / len(runnable):.1f} %" if runnable else "-"
        rows.append(f"| {name} | {len(items)} | {len(runnable)} | {passed} | {rate} |")
    overall = f"{100.0 * passed_all / total:.1f} %" if total else "-"
    rows.append(f"| **all** | | {total} | {passed_all} | {overall} |")
    return "\n".join(rows)


def failures(report: SuiteReport) -> list[str]:
    """Every failing (or erroring) step with its cause."""
    return [
        f"{r.name} [{r.group}]: {r.reason}"
        for r in report.results
        if r.status in (CaseStatus.FAIL, CaseStatus.ERROR)
    ]
