"""The HL7 FHIR validator test cases (``fhir-test-cases/validator/manifest.json``), R4 entries.

Each manifest entry names a file to validate, its supporting files and packages, the expected
java-validator OperationOutcome (``outcomes/java/...``) and optionally a profile step.  A case
passes when telehub agrees with the java validator on valid vs invalid (zero errors or not);
the exact error count is reported as a second, stricter figure.  An expectation may also be given
inline (``{"outcome": {...}}`` or ``{"errorCount": n}``).

Cases are skipped, with the reason in the report, when they need:
  * a terminology server (the expected outcome carries an ``operationoutcome-issue-server``
    extension, i.e. the java result came from tx.fhir.org);
  * a package by id that is not on disk (no network registry is used);
  * a logical model or non-FHIR input (CDA, CDS Hooks, SMART Health Cards, JSON5, NDJSON, JWT);
  * or when the manifest disables them (``use-test: false``) or gives no java expectation.

The validator switches a case names are applied as the java harness applies them
(:func:`case_options`): ``validateReference``, ``assumeValidRestReferences``, ``security-checks``,
``for-publication`` and ``bundle-param``.  The HTTP target cannot pass them to a running hub,
which validates with its own configuration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from conformance.report import CaseResult, CaseStatus, SuiteReport
from conformance.targets import Target, ValidationRequest, error_count
from hub.core.errors import HubError
from hub.core.issues import Issue
from profiles import CanonicalRegistry
from profiles.validator import BundleRule, ReferencePolicy, ValidationOptions

SUITE = "hl7-validator"
TX_SERVER_EXT = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-server"
LOGICAL_MODULES = {
    "cda": "CDA logical model",
    "cdshooks": "CDS Hooks logical model",
    "shc": "SMART Health Cards",
    "json5": "JSON5 input",
    "logical": "logical model",
}
R4_VERSIONS = {"4.0", "4.0.1"}


class CaseSkipped(Exception):
    """Raised while preparing a case that cannot run here; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Expectation:
    errors: int
    needs_tx_server: bool


def case_options(case: dict[str, Any], step: dict[str, Any] | None = None) -> ValidationOptions:
    """The validator switches a manifest entry (or its profile step) asks for, as the java harness sets them.

    The java test harness runs with ``assumeValidRestReferences`` off and references not followed
    unless the case says otherwise, so those are the defaults here too.
    """

    def flag(key: str) -> bool:
        value = (step or {}).get(key, case.get(key))
        return value is True or str(value).lower() == "true"

    try:
        policy = ReferencePolicy(str(case.get("validateReference", "IGNORE")))
    except ValueError:
        policy = ReferencePolicy.IGNORE
    rules: tuple[BundleRule, ...] = ()
    param = case.get("bundle-param")
    if isinstance(param, dict):
        rule, profile = param.get("rule"), param.get("profile")
        if isinstance(rule, str) and isinstance(profile, str):
            rules = (BundleRule(rule, profile),)
    return ValidationOptions(
        assume_valid_rest_references=flag("assumeValidRestReferences"),
        reference_policy=policy,
        security_checks=flag("security-checks"),
        for_publication=flag("for-publication"),
        bundle_rules=rules,
    )


def load_expectation(path: Path) -> Expectation:
    return outcome_expectation(orjson.loads(path.read_bytes()))


def outcome_expectation(outcome: Any) -> Expectation:
    """Error count of an expected OperationOutcome, and whether a terminology server produced it."""
    issues = (outcome.get("issue") if isinstance(outcome, dict) else None) or []
    errors = sum(1 for i in issues if i.get("severity") in ("error", "fatal"))
    tx = any(e.get("url") == TX_SERVER_EXT for i in issues for e in i.get("extension") or ())
    return Expectation(errors, tx)


class Hl7ValidatorSuite:
    """Runs the R4 cases of a manifest against a :class:`~conformance.targets.Target`."""

    def __init__(
        self,
        root: Path,
        *,
        definitions: CanonicalRegistry,
        manifest: str = "manifest-dev.json",
        validator_name: str = "java",
    ) -> None:
        self.root = root
        self.manifest_path = root / manifest if (root / manifest).is_file() else root / "manifest.json"
        self.definitions = definitions
        self.validator_name = validator_name

    def cases(self) -> list[dict[str, Any]]:
        data = orjson.loads(self.manifest_path.read_bytes())
        return [c for c in data.get("test-cases") or () if isinstance(c, dict)]

    def run(
        self,
        target: Target,
        *,
        only: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> SuiteReport:
        report = SuiteReport(SUITE, target.name)
        seen: dict[str, int] = {}
        for case in self.cases():
            name = str(case.get("name", case.get("file", "?")))
            if only and only not in name:
                continue
            seen[name] = seen.get(name, 0) + 1
            label = name if seen[name] == 1 else f"{name} #{seen[name]}"
            for result in self._run_case(target, case, label):
                report.add(result)
            if progress:
                progress(label)
        return report

    # -- one case --------------------------------------------------------------
    def _run_case(self, target: Target, case: dict[str, Any], label: str) -> Iterator[CaseResult]:
        group = str(case.get("module", "(default)"))
        try:
            self._check_runnable(case)
            packages = self._packages(case.get("packages") or ())
            supporting = [
                self._read_resource(f)
                for f in [*(case.get("supporting") or ()), *(case.get("profiles") or ())]
            ]
            for extra in case.get("supporting5") or ():  # R5 copies of definitions: used where they parse
                try:
                    supporting.append(self._read_resource(str(extra)))
                except (CaseSkipped, HubError):
                    continue
            source_file = self.root / str(case["file"])
            if not source_file.is_file():
                raise CaseSkipped(f"case file {case['file']} is missing")
        except CaseSkipped as skip:
            yield CaseResult(label, CaseStatus.SKIP, group, str(skip))
            return
        except HubError as exc:
            yield CaseResult(label, CaseStatus.ERROR, group, f"supporting file unreadable: {exc.message}")
            return
        content = source_file.read_bytes()
        media = "xml" if str(case["file"]).endswith(".xml") else "json"
        base = ValidationRequest(
            content, media, (), tuple(supporting), tuple(packages), label, case_options(case)
        )
        yield self._step(target, base, label, group, case.get(self.validator_name))
        profile_step = case.get("profile")
        if isinstance(profile_step, dict) and profile_step.get(self.validator_name) is not None:
            try:
                source = self._read_resource(str(profile_step["source"]))
                extra = [self._read_resource(f) for f in profile_step.get("supporting") or ()]
            except (CaseSkipped, HubError, KeyError) as exc:
                yield CaseResult(f"{label} [profile]", CaseStatus.SKIP, group, f"profile step: {exc}")
                return
            url = str(source.get("url", ""))
            request = ValidationRequest(
                content,
                media,
                (url,),
                (*supporting, source, *extra),
                tuple(packages),
                label,
                case_options(case, profile_step),
            )
            yield self._step(
                target, request, f"{label} [profile]", group, profile_step.get(self.validator_name)
            )

    def _step(
        self, target: Target, request: ValidationRequest, label: str, group: str, expected_file: Any
    ) -> CaseResult:
        expectation = self._expectation(expected_file)
        if isinstance(expectation, str):
            return CaseResult(label, CaseStatus.SKIP, group, expectation)
        if expectation.needs_tx_server:
            return CaseResult(
                label, CaseStatus.SKIP, group, "expected outcome depends on a terminology server"
            )
        unsupported = target.unsupported(request)
        if unsupported:
            return CaseResult(label, CaseStatus.SKIP, group, unsupported)
        started = time.perf_counter()
        try:
            issues = target.validate(request)
        except HubError as exc:
            return CaseResult(
                label,
                CaseStatus.ERROR,
                group,
                exc.message,
                expectation.errors,
                seconds=time.perf_counter() - started,
            )
        elapsed = time.perf_counter() - started
        actual = error_count(issues)
        agrees = (actual > 0) == (expectation.errors > 0)
        return CaseResult(
            label,
            CaseStatus.PASS if agrees else CaseStatus.FAIL,
            group,
            ""
            if agrees
            else ("telehub finds errors the java validator does not" if actual else "telehub misses errors"),
            expectation.errors,
            actual,
            _messages(issues),
            elapsed,
        )

    def _expectation(self, spec: Any) -> Expectation | str:
        """The expectation a manifest gives (a file under outcomes/, or inline); a str says why none."""
        if isinstance(spec, str):
            expected_path = self.root / "outcomes" / spec
            if not expected_path.is_file():
                return f"expected outcome {spec} is missing"
            return load_expectation(expected_path)
        if isinstance(spec, dict) and isinstance(spec.get("outcome"), dict):
            return outcome_expectation(spec["outcome"])
        if isinstance(spec, dict) and isinstance(spec.get("errorCount"), int):
            fatal = spec.get("fatalCount")
            return Expectation(spec["errorCount"] + (fatal if isinstance(fatal, int) else 0), False)
        return f"no {self.validator_name} expectation"

    # -- preparation -------------------------------------------------------------
    def _check_runnable(self, case: dict[str, Any]) -> None:
        if case.get("use-test") is False:
            raise CaseSkipped("disabled in the manifest (use-test: false)")
        if str(case.get("version", "4.0")) not in R4_VERSIONS:
            raise CaseSkipped("not an R4 case")
        module = str(case.get("module", ""))
        if module in LOGICAL_MODULES or "logical" in case:
            raise CaseSkipped(f"{LOGICAL_MODULES.get(module, 'logical model')} is not validated by telehub")
        file = str(case.get("file", ""))
        if not file.endswith((".json", ".xml")):
            raise CaseSkipped("input is not FHIR JSON or XML")

    def _packages(self, specs: Any) -> list[Path]:
        paths = []
        for spec in specs:
            candidate = self.root / str(spec)
            if str(spec).endswith(".tgz") and candidate.is_file():
                paths.append(candidate)
            else:
                raise CaseSkipped(f"needs package {spec}, not available offline")
        return paths

    def _read_resource(self, relative: str) -> dict[str, Any]:
        path = self.root / relative
        if not path.is_file():
            raise CaseSkipped(f"supporting file {relative} is missing")
        data = path.read_bytes()
        if relative.endswith(".xml"):
            try:
                from profiles.fhir_xml import FhirXmlCodec
            except ImportError as exc:
                raise CaseSkipped("FHIR XML support (profiles.fhir_xml) is not available") from exc
            # a definition only needs its data: the reader's own complaints (element order) do not matter
            parsed: Any = FhirXmlCodec(self.definitions).read(data).resource
        else:
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                raise CaseSkipped(f"supporting file {relative} is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise CaseSkipped(f"supporting file {relative} is not a resource")
        return parsed


def _messages(issues: list[Issue]) -> tuple[str, ...]:
    return tuple(
        f"{i.severity.value}: {', '.join(i.expression)}: {i.diagnostics}" for i in issues if i.is_error
    )[:10]
