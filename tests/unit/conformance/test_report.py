"""Suite reports: summary figures and the text / JSON / JUnit writers."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from conformance.report import CaseResult, CaseStatus, ReportFormat, SuiteReport, merge, render


def _report() -> SuiteReport:
    report = SuiteReport("demo", "in-process")
    report.add(CaseResult("a", CaseStatus.PASS, "g1", expected_errors=0, actual_errors=0))
    report.add(CaseResult("b", CaseStatus.PASS, "g1", expected_errors=2, actual_errors=1))
    report.add(CaseResult("c", CaseStatus.FAIL, "g2", "telehub misses errors", 1, 0, ("error: x",)))
    report.add(CaseResult("d", CaseStatus.SKIP, "g2", "needs a terminology server"))
    report.add(CaseResult("e", CaseStatus.ERROR, "g2", "boom"))
    return report


def test_summary_counts() -> None:
    summary = _report().summary()
    assert summary["runnable"] == 3 and summary["agreement"] == 2 and summary["exact_error_count"] == 1
    assert summary["agreement_rate"] == 66.7
    assert summary["skip_reasons"] == {"needs a terminology server": 1}
    assert summary["groups"]["g1"] == {"total": 2, "runnable": 2, "pass": 2}
    assert _report().has_failures()


def test_writers() -> None:
    report = _report()
    text = render(report, ReportFormat.TEXT)
    assert (
        "valid/invalid agreement: 2 (66.7 %)" in text
        and "[fail] c:" in text
        and "1 x needs a terminology server" in text
    )
    data = json.loads(render(report, ReportFormat.JSON))
    assert data["summary"]["total"] == 5 and data["results"][2]["agrees"] is False
    suite = ET.fromstring(render(report, ReportFormat.JUNIT).split("?>", 1)[1])
    assert suite.get("tests") == "5" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert suite.find("testcase[@name='c']/failure") is not None
    assert suite.find("testcase[@name='e']/error") is not None


def test_merge() -> None:
    merged = merge([_report(), _report()])
    assert len(merged.results) == 10 and merged.suite == "demo"
