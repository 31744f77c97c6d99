"""The NIST XDS toolkit's ``testplan.xml`` read into plain values.

A test is ``tests/<id>/`` with ``index.idx`` naming its sections in order (or one ``testplan.xml`` at its
root); each section's ``testplan.xml`` holds ``TestStep`` elements with an ``ExpectedStatus``, optional
``ExpectedErrorCode`` elements and one transaction element (``RegisterTransaction``,
``ProvideAndRegisterTransaction``, ``StoredQueryTransaction``, ``RetrieveTransaction``, ``MuTransaction``,
``RemoveMetadataTransaction`` …) whose children configure the request: ``MetadataFile``, ``Document``,
``UseId`` / ``UseReport`` (values from earlier steps), ``AssignUuids``, ``NoAssignUids``, ``NoPatientId``,
``Report`` (XPath values to remember), ``ExpectedContents`` and ``ReferenceDocument``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from hub.core.xml_safety import parse_xml


class Transaction(enum.Enum):
    REGISTER = "RegisterTransaction"
    PROVIDE_AND_REGISTER = "ProvideAndRegisterTransaction"
    STORED_QUERY = "StoredQueryTransaction"
    RETRIEVE = "RetrieveTransaction"
    UPDATE = "MuTransaction"
    REMOVE = "RemoveMetadataTransaction"
    RESTRICTED_UPDATE = "RmuTransaction"
    PATIENT_FEED = "PatientIdentityFeedTransaction"
    NULL = "NullTransaction"
    NONE = "none"  # a step without a transaction (e.g. <NewPatientId/> alone)
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class UseId:
    testdir: str | None
    id: str
    symbol: str
    step: str
    section: str


@dataclass(frozen=True, slots=True)
class UseReport:
    test: str | None
    section: str
    step: str
    report_name: str
    use_as: str


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    section: str  # InputMetadata | Result
    xpath: str


@dataclass(frozen=True, slots=True)
class PlanStep:
    section_dir: Path
    step_id: str
    expected_status: str
    expected_errors: tuple[str, ...]
    transaction: Transaction
    transaction_tag: str
    xdsb: bool = False
    xdsa: bool = False
    metadata_file: str | None = None
    use_ids: tuple[UseId, ...] = ()
    use_reports: tuple[UseReport, ...] = ()
    assign_uuids: bool = False
    no_assign_uids: frozenset[str] | None = None  # None: assign all; empty set: assign none
    no_patient_id: bool = False
    documents: tuple[tuple[str, str], ...] = ()
    reports: tuple[Report, ...] = ()
    expected_contents: tuple[tuple[str, dict[str, str]], ...] = ()
    reference_documents: tuple[tuple[str, str], ...] = ()
    other_flags: tuple[str, ...] = field(default=())
    patient_flag: str | None = None  # AltPatientId | NewPatientId (TestStep level)

    @property
    def name(self) -> str:
        return f"{self.section_dir.parent.name}/{self.section_dir.name}/{self.step_id}"


def _text(element: object) -> str:
    return (getattr(element, "text", None) or "").strip()


def read_testplan(section_dir: Path) -> list[PlanStep]:
    root = parse_xml((section_dir / "testplan.xml").read_bytes())
    steps: list[PlanStep] = []
    for step in root.iter("TestStep"):
        expected = _text(step.find("ExpectedStatus"))
        # ExpectedErrorMessage is free text; when it is an XDS error code it is graded like one
        errors = tuple(_text(e) for e in step.iter("ExpectedErrorCode") if _text(e))
        errors += tuple(_text(e) for e in step.iter("ExpectedErrorMessage") if _text(e).startswith("XDS"))
        patient_flag = next((c.tag for c in step if c.tag in ("AltPatientId", "NewPatientId")), None)
        tx = next(
            (
                c
                for c in step
                if isinstance(c.tag, str) and c.tag.endswith("Transaction") and c.tag != "Transaction"
            ),
            None,
        )
        if tx is None:
            steps.append(
                PlanStep(
                    section_dir=section_dir,
                    step_id=step.get("id", ""),
                    expected_status=expected,
                    expected_errors=errors,
                    transaction=Transaction.NONE,
                    transaction_tag="",
                    patient_flag=patient_flag,
                )
            )
            continue
        try:
            kind = Transaction(tx.tag)
        except ValueError:
            kind = Transaction.OTHER
        no_assign = None
        use_ids: list[UseId] = []
        use_reports: list[UseReport] = []
        reports: list[Report] = []
        contents: list[tuple[str, dict[str, str]]] = []
        docs: list[tuple[str, str]] = []
        refs: list[tuple[str, str]] = []
        flags: list[str] = []
        metadata = None
        for c in tx:
            if not isinstance(c.tag, str):
                continue
            match c.tag:
                case "MetadataFile":
                    metadata = _text(c)
                case "UseId":
                    use_ids.append(
                        UseId(
                            c.get("testdir"),
                            c.get("id", ""),
                            c.get("symbol", ""),
                            c.get("step", ""),
                            c.get("section", ""),
                        )
                    )
                case "UseReport":
                    use_reports.append(
                        UseReport(
                            c.get("test"),
                            c.get("section", ""),
                            c.get("step", ""),
                            c.get("reportName", ""),
                            c.get("useAs", ""),
                        )
                    )
                case "Report":
                    reports.append(Report(c.get("name", ""), c.get("section", ""), _text(c)))
                case "NoAssignUids":
                    ident = c.get("id")
                    no_assign = (no_assign or frozenset()) | ({ident} if ident else {"*"})
                case "Document":
                    docs.append((c.get("id", ""), _text(c)))
                case "ExpectedContents":
                    contents.extend(
                        (e.tag, {str(k): str(v) for k, v in e.attrib.items()})
                        for e in c
                        if isinstance(e.tag, str)
                    )
                case "ReferenceDocument":
                    refs.append((c.get("uid", ""), _text(c)))
                case _:
                    flags.append(c.tag)
        steps.append(
            PlanStep(
                section_dir=section_dir,
                step_id=step.get("id", ""),
                expected_status=expected,
                expected_errors=errors,
                transaction=kind,
                transaction_tag=tx.tag,
                xdsb="XDSb" in flags,
                xdsa="XDSa" in flags,
                metadata_file=metadata,
                use_ids=tuple(use_ids),
                use_reports=tuple(use_reports),
                assign_uuids="AssignUuids" in flags,
                no_assign_uids=no_assign,
                no_patient_id="NoPatientId" in flags,
                documents=tuple(docs),
                reports=tuple(reports),
                expected_contents=tuple(contents),
                reference_documents=tuple(refs),
                other_flags=tuple(
                    f for f in flags if f not in ("XDSb", "XDSa", "AssignUuids", "NoPatientId")
                ),
                patient_flag=patient_flag,
            )
        )
    return steps


def sections(test_dir: Path) -> list[Path]:
    """The section directories of a test, in ``index.idx`` order (the test dir itself when it has none)."""
    index = test_dir / "index.idx"
    if index.is_file():
        names = [line.strip() for line in index.read_text(errors="replace").splitlines() if line.strip()]
        found = [test_dir / n for n in names if (test_dir / n / "testplan.xml").is_file()]
        if found:
            return found
    if (test_dir / "testplan.xml").is_file():
        return [test_dir]
    return sorted(p.parent for p in test_dir.glob("*/testplan.xml"))


def collections(test_dir: Path) -> tuple[str, ...]:
    path = test_dir / "collections.txt"
    if not path.is_file():
        return ()
    return tuple(line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip())


def readme_title(test_dir: Path) -> str:
    path = test_dir / "readme.txt"
    if not path.is_file():
        return ""
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[0] if lines else ""
