"""One NIST test's context: runs its sections' steps in order, resolving ``UseId`` / ``UseReport`` against the
logs of earlier steps (running referenced preload sections on demand), and grades each step.

Logs per (section directory, step id): the sections ``AssignedUids``, ``AssignedUuids`` and
``AssignedPatientId`` (object id -> value) and the named reports (``<id>_uid`` / ``<id>_uuid`` are added
for every assignment, as the toolkit does).  Each test directory gets its own patient id; a Patient
Identity Feed section reports the patient id of the test that refers to it (``$patientid$``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from conformance.report import CaseResult, CaseStatus
from conformance.suites.ebrim21 import to_v30
from conformance.suites.nist_checks import contents_problems, status_problems
from conformance.suites.nist_metadata import Prepared, prepare_submission, substitute, xpath_value
from conformance.suites.nist_plan import PlanStep, Transaction, read_testplan, readme_title, sections
from conformance.suites.xds_client import SoapReply, XdsClient
from hub.core.xml_safety import parse_xml
from xds import Action, Attachment, new_content_id

_XDSB = "urn:ihe:iti:xds-b:2007"
_XOP = "http://www.w3.org/2004/08/xop/include"
_SKIPS = {
    Transaction.NULL: "NullTransaction: an assertion-only step over toolkit reports (not interpreted)",
    Transaction.RESTRICTED_UPDATE: "RmuTransaction: ITI-92 Restricted Metadata Update is not implemented",
    Transaction.PATIENT_FEED: "Patient Identity Feed: emulated by creating a FHIR Patient (not an XDS step)",
    Transaction.OTHER: "transaction not served by an XDS.b registry/repository",
}
_ACTIONS = {
    Transaction.REGISTER: Action.ITI_42,
    Transaction.UPDATE: Action.ITI_57,
    Transaction.STORED_QUERY: Action.ITI_18,
    Transaction.REMOVE: Action.ITI_62,
    Transaction.RETRIEVE: Action.ITI_43,
}


class DependencyError(Exception):
    """A referenced value was not produced by the step it names."""


@dataclass(slots=True)
class StepLog:
    assigned: dict[str, dict[str, str]] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)


class StepRunner:
    def __init__(
        self, testkit: Path, client: XdsClient, new_patient: Callable[[], str], *, group: str
    ) -> None:
        self.testkit = testkit.resolve()
        self.client = client
        self.new_patient = new_patient
        self.group = group
        self.logs: dict[tuple[Path, str], StepLog] = {}
        self.done: set[Path] = set()
        self.patients: dict[Path, str] = {}
        self.results: list[CaseResult] = []

    async def patient_for(self, section_dir: Path) -> str:
        """The current (fed) patient id of the test holding ``section_dir``."""
        test_dir = section_dir.resolve().parent
        if test_dir not in self.patients:
            self.patients[test_dir] = await self.fed_patient()
        return self.patients[test_dir]

    async def fed_patient(self) -> str:
        """A fresh patient id made known to the hub (the Patient Identity Feed, emulated in FHIR)."""
        patient = self.new_patient()
        await self.feed(patient)
        return patient

    async def feed(self, patient: str) -> None:
        cpr, _, authority = patient.partition("^^^&")
        resource = {
            "resourceType": "Patient",
            "identifier": [{"system": f"urn:oid:{authority.split('&')[0]}", "value": cpr}],
        }
        answer = await self.client.http.post(
            "/fhir/Patient", json=resource, headers={"content-type": "application/fhir+json"}
        )
        if answer.status_code >= 300:
            raise DependencyError(f"patient feed (FHIR create Patient) failed: HTTP {answer.status_code}")

    async def run_section(self, section_dir: Path, *, record: bool) -> None:
        section_dir = section_dir.resolve()
        if section_dir in self.done:
            return
        self.done.add(section_dir)
        for step in read_testplan(section_dir):
            result = await self.run_step(step)
            if record:
                self.results.append(result)

    # ------------------------------------------------------------------ references

    async def _log(self, section_dir: Path, step: str) -> StepLog:
        section_dir = section_dir.resolve()
        if section_dir not in self.done:
            if not (section_dir / "testplan.xml").is_file():
                raise DependencyError(f"no testplan in {section_dir.relative_to(self.testkit)}")
            # preload data is a whole test (e.g. 12346 loads six documents over five sections): run all of it
            for section in sections(section_dir.parent):
                await self.run_section(section, record=False)
            await self.run_section(section_dir, record=False)
        log = self.logs.get((section_dir, step))
        if log is None:
            raise DependencyError(f"step {step} of {section_dir.relative_to(self.testkit)} produced nothing")
        return log

    async def values(self, step: PlanStep) -> dict[str, str]:
        found = builtin_symbols()
        for use in step.use_ids:
            target = _relative(step.section_dir, use.testdir) if use.testdir else step.section_dir
            log = await self._log(target, use.step)
            value = log.assigned.get(use.section, {}).get(use.id)
            if value is None:
                raise DependencyError(f"{use.section}[{use.id}] missing in {target.name}/{use.step}")
            found[use.symbol] = value
        for report in step.use_reports:
            if report.test:
                target = self.testkit / "tests" / report.test / report.section
            elif report.section == "THIS":
                target = step.section_dir
            else:
                target = step.section_dir.parent / report.section
            if _is_patient_feed(target):
                found[report.use_as] = await self._feed_report(step, target)
                continue
            log = await self._log(target, report.step)
            value = log.reports.get(report.report_name)
            if value is None:
                raise DependencyError(f"report {report.report_name} missing in {target.name}/{report.step}")
            found[report.use_as] = value
        return found

    async def _feed_report(self, step: PlanStep, feed_dir: Path) -> str:
        """``$patientid$`` of a Patient Identity Feed test: the referring test's patient, or - for the
        "alternate ID" feeds (15817b) - a second fed patient of that test."""
        if "alternate" not in readme_title(feed_dir.parent).lower():
            return await self.patient_for(step.section_dir)
        key = step.section_dir.resolve().parent / "#alternate"
        if key not in self.patients:
            self.patients[key] = await self.fed_patient()
        return self.patients[key]

    # ------------------------------------------------------------------ one step

    def _result(
        self, step: PlanStep, status: CaseStatus, reason: str = "", reply: SoapReply | None = None
    ) -> CaseResult:
        expected = len(step.expected_errors) or (1 if step.expected_status == "Failure" else 0)
        actual = reply.error_count if reply is not None else None  # errors only: warnings are no verdict
        return CaseResult(
            name=step.name,
            status=status,
            group=self.group,
            reason=reason,
            expected_errors=expected,
            actual_errors=actual,
        )

    async def run_step(self, step: PlanStep) -> CaseResult:
        log = self.logs.setdefault((step.section_dir.resolve(), step.step_id), StepLog())
        if step.xdsa and not step.xdsb:
            return self._result(step, CaseStatus.SKIP, "XDS.a transaction (XDS.b only)")
        if step.patient_flag == "NewPatientId":
            self.patients[step.section_dir.resolve().parent] = await self.fed_patient()
        if step.transaction is Transaction.NONE:
            return self._result(
                step, CaseStatus.SKIP, f"no transaction ({step.patient_flag or 'empty step'})"
            )
        if step.transaction in _SKIPS:
            return self._result(step, CaseStatus.SKIP, _SKIPS[step.transaction])
        try:
            values = await self.values(step)
            reply, prepared = await self.send(step, values)
        except DependencyError as exc:
            return self._result(step, CaseStatus.ERROR, f"dependency: {exc}")
        if prepared is not None:
            log.assigned["AssignedUids"] = dict(prepared.uids)
            log.assigned["AssignedUuids"] = dict(prepared.uuids)
            log.assigned["AssignedPatientId"] = dict(prepared.patients)
            log.reports.update({f"{k}_uid": v for k, v in prepared.uids.items()})
            log.reports.update({f"{k}_uuid": v for k, v in prepared.uuids.items()})
        for report in step.reports:
            source = prepared.element if report.section == "InputMetadata" and prepared else reply.payload
            value = xpath_value(source, report.xpath)
            if value is not None:
                log.reports[report.name] = value
        problems = status_problems(step.expected_status, step.expected_errors, reply)
        if not problems and reply.status == "Success":
            problems += contents_problems(step.expected_contents, reply)
            problems += self._reference_documents(step, values, reply)
        return self._result(
            step, CaseStatus.FAIL if problems else CaseStatus.PASS, "; ".join(problems), reply
        )

    def _reference_documents(self, step: PlanStep, values: dict[str, str], reply: SoapReply) -> list[str]:
        problems = []
        documents = reply.documents()
        for uid, path in step.reference_documents:
            wanted = _relative(step.section_dir, path).read_bytes()
            got = documents.get(substitute(uid, values))
            if got != wanted:
                problems.append(f"retrieved bytes of {uid} differ from {path}")
        return problems

    def _metadata(self, step: PlanStep, values: dict[str, str]) -> etree._Element:
        if step.metadata_file is None:
            raise DependencyError("step has no MetadataFile")
        path = _relative(step.section_dir, step.metadata_file)
        text = substitute(path.read_text(encoding="utf-8", errors="replace"), values, xml=True)
        return parse_xml(text.encode("utf-8"))

    async def send(self, step: PlanStep, values: dict[str, str]) -> tuple[SoapReply, Prepared | None]:
        root = self._metadata(step, values)
        if root.tag == f"{{{_XDSB}}}ProvideAndRegisterDocumentSetRequest":
            # some testkit files hold the whole ITI-41 body; the documents come from the testplan
            inner = root.find("{urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest")
            if inner is None:
                raise DependencyError("ProvideAndRegisterDocumentSetRequest without SubmitObjectsRequest")
            root = inner
        kind = step.transaction
        if kind in (Transaction.REGISTER, Transaction.UPDATE, Transaction.PROVIDE_AND_REGISTER):
            if step.patient_flag == "AltPatientId":
                patient: str | None = self.new_patient()  # never fed: unknown to the registry
            else:
                patient = None if step.no_patient_id else await self.patient_for(step.section_dir)
            prepared = prepare_submission(
                root,
                patient=patient,
                assign_uuids=step.assign_uuids,
                no_assign_uids=step.no_assign_uids,
            )
            if kind is Transaction.PROVIDE_AND_REGISTER:
                return await self._provide(step, prepared), prepared
            return await self.client.call(_ACTIONS[kind], prepared.element), prepared
        return await self.client.call(_ACTIONS[kind], to_v30(root), mtom=kind is Transaction.RETRIEVE), None

    async def _provide(self, step: PlanStep, prepared: Prepared) -> SoapReply:
        submit = prepared.element
        body = etree.Element(
            f"{{{_XDSB}}}ProvideAndRegisterDocumentSetRequest", nsmap={"xdsb": _XDSB, "xop": _XOP}
        )
        body.append(submit)
        mime_types = {
            e.get("id", ""): e.get("mimeType", "application/octet-stream")
            for e in submit.iter("{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}ExtrinsicObject")
        }
        attachments = []
        for doc_id, file_name in step.documents:
            final_id = prepared.uuids.get(doc_id, doc_id)
            content_id = new_content_id("doc")
            data = _relative(step.section_dir, file_name).read_bytes()
            attachments.append(
                Attachment.from_bytes(content_id, data, mime_types.get(final_id, "text/plain"))
            )
            document = etree.SubElement(body, f"{{{_XDSB}}}Document", id=final_id)
            etree.SubElement(document, f"{{{_XOP}}}Include", href=f"cid:{content_id}")
        return await self.client.call(Action.ITI_41, body, attachments=attachments, mtom=True)


def _relative(section_dir: Path, path: str) -> Path:
    """A testplan path: relative to the section, or (as some testkit files write it) to the test."""
    for base in (section_dir, section_dir.parent):
        candidate = (base / path).resolve()
        if candidate.exists():
            return candidate
    raise DependencyError(f"{path} not found next to {section_dir.name}")


def builtin_symbols() -> dict[str, str]:
    """The toolkit's time symbols (DTM, UTC): ``$now$``, ``$lastyear$``, ``$nextyear$``.  ``$now$`` is rounded
    up to the next second: as an exclusive upper bound it must include what this very second stored."""
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    fmt = "%Y%m%d%H%M%S"
    return {
        "$now$": now.strftime(fmt),
        "$lastyear$": now.replace(year=now.year - 1).strftime(fmt),
        "$nextyear$": now.replace(year=now.year + 1).strftime(fmt),
    }


def _is_patient_feed(section_dir: Path) -> bool:
    plan = section_dir / "testplan.xml"
    if not plan.is_file():
        return False
    steps = read_testplan(section_dir)
    return bool(steps) and all(s.transaction is Transaction.PATIENT_FEED for s in steps)
