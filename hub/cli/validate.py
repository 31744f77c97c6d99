"""``telehub validate FILE...``: validate FHIR JSON/XML resources and CDA documents from the command line.

Issue 3 ("The CLI for conformance testers").  Definitions come from the built-in Danish package,
the packages installed with ``telehub packages install`` (``Settings.packages_dir``), the
configured ``validation.packages`` and any ``--package``.  CDA documents (root
``ClinicalDocument``) go to ``profiles.cda.CdaValidator`` with the installed packs; FHIR XML is read
with ``profiles.fhir_xml``.  Exit codes: 0 clean, 1 issues at the ``--fail-on`` level, 2 usage
or load errors.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from hub.cli.configuration import load_settings
from hub.core.errors import HubError
from hub.core.issues import Issue, IssueSeverity
from hub.core.settings import Settings
from profiles import PackageLoader, load_hub_packages
from profiles.validator import ProfileValidator

app = typer.Typer(
    name="validate",
    help="Validate FHIR resources (JSON/XML) and CDA documents.",
    # a single-command group: options may follow the FILE arguments
    context_settings={"allow_interspersed_args": True},
)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False)
PROGRESS_THRESHOLD = 10


class OutputFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


class FailOn(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(slots=True)
class FileResult:
    path: Path
    kind: str
    issues: list[Issue] = field(default_factory=list)


def settings_of(ctx: typer.Context) -> Settings:
    settings = getattr(ctx.obj, "settings", None) if ctx.obj is not None else None
    return settings if isinstance(settings, Settings) else load_settings()


def build_loader(settings: Settings, extra: list[Path] | None = None) -> PackageLoader:
    """Built-in package + installed packages + configured and extra package sources."""
    sources: list[str | Path] = [*settings.validation.packages, *(extra or [])]
    return load_hub_packages(settings.packages_dir, sources, cache_dir=settings.validation.fhir_package_cache)


def build_validator(loader: PackageLoader) -> ProfileValidator:
    try:
        from profiles.danish import danish_checks
    except ImportError:  # the Danish rules are optional package data
        return ProfileValidator(loader.registry)
    return ProfileValidator(loader.registry, custom_checks=danish_checks())


_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def xml_head(data: bytes) -> str | None:
    """The start of ``data`` as text when it is XML (first character ``<`` after an optional byte-order
    mark and whitespace), else None: how a file's kind is told by its content, whatever its name."""
    codec = _UTF16_BOMS.get(data[:2])
    if codec is not None:
        head = data[2:4098].decode(codec, errors="ignore")
    else:
        head = data[:4096].removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")
    head = head.lstrip()
    return head if head.startswith("<") else None


def _is_cda(head: str) -> bool:
    return "<ClinicalDocument" in head or ":ClinicalDocument" in head


def validate_file(
    path: Path, data: bytes, validator: ProfileValidator, settings: Settings, profiles: list[str]
) -> FileResult:
    """Issues of one file (never raises for bad content: problems become issues)."""
    head = xml_head(data)
    try:
        if head is not None and _is_cda(head):
            from profiles.cda import CdaValidator

            report = CdaValidator(settings.packs_dir).validate(data)
            return FileResult(path, "cda", list(report.issues))
        if head is not None:
            from profiles.fhir_xml import FhirXmlCodec

            result = FhirXmlCodec(validator.registry).read(data)
            issues = list(result.issues)
            if result.resource is not None:
                issues.extend(validator.validate(result.resource, profiles))
            return FileResult(path, "fhir-xml", issues)
    except HubError as exc:
        return FileResult(path, "xml", list(exc.issues))
    return FileResult(path, "fhir-json", validator.validate_bytes(data, profiles))


def _fails(issue: Issue, fail_on: FailOn) -> bool:
    return issue.is_error or (fail_on is FailOn.WARNING and issue.severity is IssueSeverity.WARNING)


def _where(issue: Issue) -> str:
    if issue.line is not None:
        return f"line {issue.line}" + (f":{issue.column}" if issue.column else "")
    return ", ".join(issue.expression or issue.location) or "-"


def _render(results: list[FileResult], fmt: OutputFormat, fail_on: FailOn) -> str:
    if fmt is OutputFormat.JSON:
        return json.dumps(
            [
                {
                    "file": str(r.path),
                    "kind": r.kind,
                    "valid": not any(_fails(i, fail_on) for i in r.issues),
                    "issues": [i.to_fhir() for i in r.issues],
                }
                for r in results
            ],
            indent=2,
        )
    if fmt is OutputFormat.JUNIT:
        from xml.etree import ElementTree as ET

        suite = ET.Element("testsuite", name="telehub-validate", tests=str(len(results)))
        failures = 0
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=r.kind, name=str(r.path))
            failing = [i for i in r.issues if _fails(i, fail_on)]
            if failing:
                failures += 1
                node = ET.SubElement(case, "failure", message=f"{len(failing)} issue(s)")
                node.text = "\n".join(f"{i.severity.value} {_where(i)}: {i.diagnostics}" for i in failing)
        suite.set("failures", str(failures))
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)
    lines: list[str] = []
    for r in results:
        errors = sum(1 for i in r.issues if i.is_error)
        warnings = sum(1 for i in r.issues if i.severity is IssueSeverity.WARNING)
        verdict = "INVALID" if any(_fails(i, fail_on) for i in r.issues) else "valid"
        lines.append(f"{r.path}: {verdict} ({r.kind}; {errors} error(s), {warnings} warning(s))")
        for issue in r.issues:
            rule = f" [{issue.message_id}]" if issue.message_id else ""
            lines.append(f"  {issue.severity.value:<11} {_where(issue)}: {issue.diagnostics}{rule}")
    return "\n".join(lines)


@app.callback(invoke_without_command=True)
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Files to validate (FHIR JSON/XML, CDA XML).")],
    profile: Annotated[
        list[str] | None, typer.Option("--profile", help="Profile URL to validate against; repeatable.")
    ] = None,
    package: Annotated[
        list[Path] | None, typer.Option("--package", help="Extra package (.tgz or folder); repeatable.")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TEXT,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that fails the run.")
    ] = FailOn.ERROR,
) -> None:
    """Validate FILES; exit 0 when clean, 1 when an issue reaches --fail-on, 2 on usage or load errors."""
    settings = settings_of(ctx)
    missing = [f for f in files if not f.is_file()]
    if missing:
        _err.print(f"[red]No such file:[/red] {', '.join(str(m) for m in missing)}")
        raise typer.Exit(2)
    try:
        loader = build_loader(settings, package)
    except HubError as exc:
        _err.print(f"[red]Cannot load packages:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    for spec, failure in loader.failures:
        _err.print(f"[yellow]package {spec}: {failure.file} not loaded: {failure.reason}[/yellow]")
    validator = build_validator(loader)
    urls = list(profile or [])
    unknown = [u for u in urls if validator.compiled(u) is None]
    if unknown:
        _err.print(f"[red]Unknown profile(s):[/red] {', '.join(unknown)}")
        raise typer.Exit(2)
    results = _run(files, validator, settings, urls)
    _out.print(_render(results, output, fail_on), markup=False)
    raise typer.Exit(1 if any(_fails(i, fail_on) for r in results for i in r.issues) else 0)


def _run(
    files: list[Path], validator: ProfileValidator, settings: Settings, urls: list[str]
) -> list[FileResult]:
    results: list[FileResult] = []
    show_progress = len(files) > PROGRESS_THRESHOLD and _err.is_terminal
    with Progress(console=_err, transient=True, disable=not show_progress) as progress:
        task = progress.add_task("validating", total=len(files))
        for path in files:
            results.append(validate_file(path, path.read_bytes(), validator, settings, urls))
            progress.advance(task)
    return results
