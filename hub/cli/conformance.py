"""``telehub conformance run``: the HL7 validator and FHIRPath suites, in-process or against a hub.

Issue 3 ("Measured against the HL7 reference validator").  ``--target URL`` posts every case to
``URL/$validate`` of a running hub instead of validating in this process.  Reports are text,
JSON or JUnit XML (``--format``), to stdout or ``--output``.  Exit 0 when every runnable case
agrees, 1 when some disagree, 2 on usage or load errors.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from conformance import (
    FhirPathSuite,
    Hl7ValidatorSuite,
    HttpTarget,
    InProcessTarget,
    ReportFormat,
    SuiteReport,
    Target,
    TargetRefusedError,
    render,
)
from conformance.suites import run_nist
from hub.cli.validate import build_loader, settings_of
from hub.cli.xds import in_process_hub
from hub.core.errors import HubError

app = typer.Typer(name="conformance", help="Run conformance test suites.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False)


@app.callback()
def conformance() -> None:
    """Run conformance test suites (a group, so that ``run`` stays a sub-command)."""


class Suite(enum.Enum):
    HL7_VALIDATOR = "hl7-validator"
    FHIRPATH = "fhirpath"
    NIST_XDS = "nist-xds"  # the NIST XDS testkit (the same runner as ``telehub xds nist``)


@app.command("run")
def run(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Suite folder (validator/ with manifest.json, or fhirpath/).")],
    suite: Annotated[Suite, typer.Option("--suite", help="Which suite.")] = Suite.HL7_VALIDATOR,
    target: Annotated[
        str | None, typer.Option("--target", help="Base URL of a running hub (FHIR base).")
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="Report format.")
    ] = ReportFormat.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the report here instead of stdout.")
    ] = None,
    package: Annotated[
        list[Path] | None, typer.Option("--package", help="Extra package (e.g. hl7.fhir.r4.core .tgz).")
    ] = None,
    only: Annotated[
        str | None, typer.Option("--only", help="Run only cases whose name contains this.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TELEHUB_TOKEN",
            help="Bearer token for --target (a hub in dev or production mode), "
            "e.g. $(telehub dev token --role system).",
        ),
    ] = None,
) -> None:
    """Run a suite and report agreement with the expected outcomes."""
    if not path.exists():
        _err.print(f"[red]No such suite folder:[/red] {path}")
        raise typer.Exit(2)
    if suite is Suite.NIST_XDS:
        _finish(
            run_nist(path, target, tests=(only,) if only else (), hub=in_process_hub), output_format, output
        )
    settings = settings_of(ctx)
    try:
        loader = build_loader(settings, package)
    except HubError as exc:
        _err.print(f"[red]Cannot load packages:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    with Progress(console=_err, transient=True, disable=not _err.is_terminal) as progress:
        task = progress.add_task(suite.value, total=None)

        def advance(name: str) -> None:
            progress.update(task, advance=1, description=f"{suite.value}: {name[:40]}")

        report: SuiteReport
        if suite is Suite.FHIRPATH:
            report = FhirPathSuite(path, definitions=loader.registry).run(only=only, progress=advance)
        else:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            chosen: Target = (
                HttpTarget(target, headers=headers) if target else InProcessTarget(loader.registry)
            )
            try:
                report = Hl7ValidatorSuite(path, definitions=loader.registry).run(
                    chosen, only=only, progress=advance
                )
            except TargetRefusedError as exc:
                _err.print(
                    f"[red]The target refused the runner:[/red] {exc} - pass a bearer token with --token "
                    "(for example $(telehub dev token --role system) against a hub in dev mode)"
                )
                raise typer.Exit(2) from exc
    _finish(report, output_format, output)


def _finish(report: SuiteReport, output_format: ReportFormat, output: Path | None) -> None:
    text = render(report, output_format)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        _out.print(f"report written to {output}")
    else:
        _out.print(text, markup=False)
    raise typer.Exit(1 if report.has_failures() else 0)
