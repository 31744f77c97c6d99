"""Suite results and their reports: plain text, JSON and JUnit XML.

The JUnit format is the de-facto one CI servers read (``testsuite``/``testcase`` with
``failure`` and ``skipped`` children; see https://github.com/testmoapp/junitxml).  A suite
result counts, per runnable case, whether telehub agrees with the expected outcome on
valid/invalid and whether the error count is exactly the same.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET


class CaseStatus(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"  # the runner or the target broke


class ReportFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case (or one step of a case, e.g. ``name [profile]``)."""

    name: str
    status: CaseStatus
    group: str = ""
    reason: str = ""
    expected_errors: int | None = None
    actual_errors: int | None = None
    messages: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def runnable(self) -> bool:
        return self.status in (CaseStatus.PASS, CaseStatus.FAIL)

    @property
    def agrees(self) -> bool:
        """Valid/invalid agreement (error count zero vs non-zero on both sides)."""
        if self.expected_errors is None or self.actual_errors is None:
            return self.status is CaseStatus.PASS
        return (self.expected_errors > 0) == (self.actual_errors > 0)

    @property
    def exact(self) -> bool:
        return self.expected_errors is not None and self.expected_errors == self.actual_errors


@dataclass(slots=True)
class SuiteReport:
    """All results of one suite run against one target."""

    suite: str
    target: str
    results: list[CaseResult] = field(default_factory=list)

    def add(self, result: CaseResult) -> None:
        self.results.append(result)

    @property
    def runnable(self) -> list[CaseResult]:
        return [r for r in self.results if r.runnable]

    def summary(self) -> dict[str, Any]:
        runnable = self.runnable
        agree = sum(1 for r in runnable if r.agrees)
        exact = sum(1 for r in runnable if r.exact)
        passed = sum(1 for r in runnable if r.status is CaseStatus.PASS)
        skipped = Counter(r.reason for r in self.results if r.status is CaseStatus.SKIP)
        groups: dict[str, dict[str, int]] = {}
        for r in self.results:
            g = groups.setdefault(r.group or "(none)", {"total": 0, "runnable": 0, "pass": 0})
            g["total"] += 1
            if r.runnable:
                g["runnable"] += 1
                g["pass"] += r.status is CaseStatus.PASS
        return {
            "suite": self.suite,
            "target": self.target,
            "total": len(self.results),
            "runnable": len(runnable),
            "passed": passed,
            "pass_rate": _rate(passed, len(runnable)),
            "agreement": agree,
            "agreement_rate": _rate(agree, len(runnable)),
            "exact_error_count": exact,
            "exact_rate": _rate(exact, len(runnable)),
            "skipped": sum(skipped.values()),
            "errors": sum(1 for r in self.results if r.status is CaseStatus.ERROR),
            "skip_reasons": dict(skipped.most_common()),
            "groups": groups,
        }

    def has_failures(self) -> bool:
        return any(r.status in (CaseStatus.FAIL, CaseStatus.ERROR) for r in self.results)


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def render(report: SuiteReport, fmt: ReportFormat) -> str:
    if fmt is ReportFormat.JSON:
        return render_json(report)
    if fmt is ReportFormat.JUNIT:
        return render_junit(report)
    return render_text(report)


def render_text(report: SuiteReport) -> str:
    s = report.summary()
    lines = [
        f"Suite {s['suite']} against {s['target']}",
        f"  cases: {s['total']}  runnable: {s['runnable']}  skipped: {s['skipped']}"
        f"  runner errors: {s['errors']}",
        f"  passed: {s['passed']} ({s['pass_rate']} %)",
    ]
    if any(r.expected_errors is not None for r in report.results):
        lines.append(f"  valid/invalid agreement: {s['agreement']} ({s['agreement_rate']} %)")
        lines.append(f"  exact error count: {s['exact_error_count']} ({s['exact_rate']} %)")
    if len(s["groups"]) > 1:
        lines.append("  per group (pass/runnable):")
        for name, g in sorted(s["groups"].items()):
            lines.append(f"    {name}: {g['pass']}/{g['runnable']} (of {g['total']})")
    if s["skip_reasons"]:
        lines.append("  skipped because:")
        lines.extend(f"    {n} x {reason}" for reason, n in s["skip_reasons"].items())
    failing = [r for r in report.results if r.status in (CaseStatus.FAIL, CaseStatus.ERROR)]
    if failing:
        lines.append("  disagreements:")
        for r in failing:
            counts = (
                ""
                if r.expected_errors is None
                else f" expected {r.expected_errors} error(s), got {r.actual_errors}"
            )
            lines.append(f"    [{r.status.value}] {r.name}:{counts} {r.reason}".rstrip())
            lines.extend(f"        {m}" for m in r.messages[:5])
    return "\n".join(lines) + "\n"


def _result_json(r: CaseResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "group": r.group,
        "status": r.status.value,
        "reason": r.reason,
        "expected_errors": r.expected_errors,
        "actual_errors": r.actual_errors,
        "agrees": r.agrees if r.runnable else None,
        "messages": list(r.messages),
        "seconds": round(r.seconds, 4),
    }


def render_json(report: SuiteReport) -> str:
    return json.dumps(
        {"summary": report.summary(), "results": [_result_json(r) for r in report.results]}, indent=2
    )


def render_junit(report: SuiteReport) -> str:
    s = report.summary()
    suite = ET.Element(
        "testsuite",
        name=report.suite,
        tests=str(s["total"]),
        failures=str(sum(1 for r in report.results if r.status is CaseStatus.FAIL)),
        errors=str(s["errors"]),
        skipped=str(s["skipped"]),
        time=f"{sum(r.seconds for r in report.results):.3f}",
    )
    for r in report.results:
        case = ET.SubElement(
            suite, "testcase", classname=f"{report.suite}.{r.group or 'default'}", name=r.name
        )
        case.set("time", f"{r.seconds:.4f}")
        detail = "\n".join(r.messages)
        if r.status is CaseStatus.SKIP:
            ET.SubElement(case, "skipped", message=r.reason)
        elif r.status is CaseStatus.FAIL:
            failure = ET.SubElement(
                case, "failure", message=r.reason or "disagreement with the expected outcome"
            )
            failure.text = detail
        elif r.status is CaseStatus.ERROR:
            error = ET.SubElement(case, "error", message=r.reason)
            error.text = detail
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def merge(reports: Iterable[SuiteReport]) -> SuiteReport:
    """One report holding the results of several (same suite and target)."""
    items = list(reports)
    merged = SuiteReport(items[0].suite if items else "", items[0].target if items else "")
    for report in items:
        merged.results.extend(report.results)
    return merged
