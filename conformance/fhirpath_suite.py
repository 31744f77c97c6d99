"""The FHIRPath R4 test suite (``tests-fhir-r4.xml``) against the evaluator the hub uses.

See https://github.com/HL7/FHIRPath/blob/master/tests/testSchema.xsd for the format: groups of
tests, each with an input resource, an expression (optionally ``invalid="syntax|semantic|
execution"``) and the expected outputs with their types; ``predicate="true"`` turns the result
into a boolean (exists).  Expected dates, times and quantities are compared by evaluating the
expected literal with the same engine, so both sides have the same representation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson
from lxml import etree

from conformance.report import CaseResult, CaseStatus, SuiteReport
from hub.core.errors import HubError
from hub.core.xml_safety import parse_xml
from profiles import CanonicalRegistry, FhirPathEngine, FhirPathEvaluationError, FhirPathSyntaxError

SUITE = "fhirpath"
_LITERAL_TYPES = {"date", "dateTime", "time", "Quantity"}


class FhirPathSuite:
    """Runs every test of a FHIRPath test file; the pass rate is reported per group."""

    def __init__(
        self, root: Path, *, definitions: CanonicalRegistry, engine: FhirPathEngine | None = None
    ) -> None:
        self.root = root
        self.tests_file = root / "tests-fhir-r4.xml" if root.is_dir() else root
        self.input_dir = self.tests_file.parent / "input"
        self.definitions = definitions
        self.engine = engine or FhirPathEngine()
        self._inputs: dict[str, dict[str, Any] | None] = {}

    def run(self, *, only: str | None = None, progress: Callable[[str], None] | None = None) -> SuiteReport:
        report = SuiteReport(SUITE, "in-process")
        document = parse_xml(self.tests_file.read_bytes(), max_bytes=50 * 1024 * 1024)
        for group in document.iter("group"):
            group_name = str(group.get("name", ""))
            for test in group.iter("test"):
                name = str(test.get("name", ""))
                if only and only not in name and only not in group_name:
                    continue
                report.add(self._run_test(group_name, name, test))
                if progress:
                    progress(name)
        return report

    def _input(self, name: str) -> dict[str, Any] | None:
        if name not in self._inputs:
            path = self.input_dir / name
            resource: dict[str, Any] | None = None
            if path.is_file() and name.endswith(".json"):
                resource = orjson.loads(path.read_bytes())
            elif path.is_file():
                from profiles.fhir_xml import FhirXmlCodec

                # test inputs only need their data: order problems the reader reports do not matter here
                resource = FhirXmlCodec(self.definitions).read(path.read_bytes()).resource
            self._inputs[name] = resource
        return self._inputs[name]

    def _run_test(self, group: str, name: str, test: etree._Element) -> CaseResult:
        started = time.perf_counter()
        expression_node = test.find("expression")
        text = (expression_node.text or "") if expression_node is not None else ""
        invalid = expression_node.get("invalid") if expression_node is not None else None
        input_name = test.get("inputfile")
        try:
            resource = self._input(input_name) if input_name else {}
        except (HubError, ImportError, orjson.JSONDecodeError) as exc:
            return CaseResult(name, CaseStatus.SKIP, group, f"input {input_name} unreadable: {exc}")
        if resource is None:
            return CaseResult(name, CaseStatus.SKIP, group, f"input {input_name} missing")
        try:
            result = self.engine.evaluate(text, resource)
        except (FhirPathSyntaxError, FhirPathEvaluationError) as exc:
            elapsed = time.perf_counter() - started
            if invalid:
                return CaseResult(name, CaseStatus.PASS, group, seconds=elapsed)
            return CaseResult(name, CaseStatus.FAIL, group, exc.message, messages=(text,), seconds=elapsed)
        elapsed = time.perf_counter() - started
        if invalid:
            return CaseResult(
                name, CaseStatus.FAIL, group, f"expected a {invalid} error", messages=(text,), seconds=elapsed
            )
        if test.get("predicate") == "true":
            result = [bool(result)]
        expected = [(str(o.get("type", "")), o.text or "") for o in test.findall("output")]
        problem = self._compare(expected, result)
        status = CaseStatus.PASS if problem is None else CaseStatus.FAIL
        return CaseResult(
            name, status, group, problem or "", messages=(text,) if problem else (), seconds=elapsed
        )

    def _compare(self, expected: list[tuple[str, str]], actual: list[Any]) -> str | None:
        if len(expected) != len(actual):
            return f"expected {len(expected)} value(s), got {len(actual)}: {_show(actual)}"
        for (kind, text), value in zip(expected, actual, strict=True):
            if not self._equal(kind, text, value):
                return f"expected {kind} {text}, got {_show([value])}"
        return None

    def _equal(self, kind: str, text: str, value: Any) -> bool:
        if kind == "boolean":
            return value is (text == "true")
        if kind in ("integer", "decimal"):
            try:
                return not isinstance(value, bool) and Decimal(str(value)) == Decimal(text)
            except InvalidOperation:
                return False
        if kind in _LITERAL_TYPES:
            literal = text if text.startswith("@") or kind == "Quantity" else "@" + text
            try:
                parsed = self.engine.evaluate(literal, {})
            except (FhirPathSyntaxError, FhirPathEvaluationError):
                return str(value) == text
            return len(parsed) == 1 and str(parsed[0]) == str(value)
        if not kind and text.startswith("@"):
            return str(value) == text[1:]
        return str(value) == text


def _show(values: list[Any]) -> str:
    rendered = ", ".join(repr(v) if not isinstance(v, dict) else "{...}" for v in values[:5])
    return f"[{rendered}{', ...' if len(values) > 5 else ''}]"
