"""``telehub packs``: install and list the operator-provided CDA validation packs (issue 4).

* ``telehub packs install cda-r2 PATH`` - a folder or zip with ``CDA.xsd`` or ``CDA_SDTC.xsd`` below it;
* ``telehub packs install schematron NAME PATH [--applies-to phmr]`` - an ISO schematron file (its
  ``.ent``/included files next to it are copied too) pre-compiled to XSLT;
* ``telehub packs list``.

Packs live under ``Settings.packs_dir`` (``<data_dir>/packs``) unless ``--packs-dir`` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hub.cli.operator_audit import audited
from hub.cli.validate import settings_of
from hub.core.errors import HubError
from profiles.cda import DocumentFamily, InstalledPack, install_pack, list_packs
from security import AuditAction, EntityKind

app = typer.Typer(
    name="packs", help="Install and list CDA schema and schematron packs.", no_args_is_help=True
)
_console = Console()
_errors = Console(stderr=True)

PacksDirOption = Annotated[
    Path | None,
    typer.Option("--packs-dir", help="Pack folder (default: Settings.packs_dir, i.e. <data_dir>/packs)."),
]


def _packs_dir(ctx: typer.Context, option: Path | None) -> Path:
    return option if option is not None else settings_of(ctx).packs_dir


def _describe(pack: InstalledPack) -> str:
    scope = ", ".join(f.value for f in pack.applies_to) or "all CDA documents"
    where = f"{pack.directory} (entry {pack.entry}; applies to {scope})"
    named = "" if pack.name == pack.kind.value else f" {pack.name!r}"
    return f"{pack.kind.value} pack{named} installed in {where}"


@app.command("install")
def install(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="cda-r2 or schematron")],
    arguments: Annotated[
        list[str], typer.Argument(metavar="[NAME] PATH", help="NAME (schematron only) and PATH")
    ],
    applies_to: Annotated[
        list[str] | None,
        typer.Option(
            "--applies-to",
            help="Document families a schematron applies to (phmr, qrd, qfdd, apd, cda): repeat the "
            "option or separate them with commas (--applies-to phmr,cda).",
        ),
    ] = None,
    packs_dir: PacksDirOption = None,
) -> None:
    """Install a CDA R2 schema pack or a named ISO schematron pack (audited: ``hub.cli.operator_audit``)."""
    if len(arguments) not in (1, 2):
        shown = " ".join(arguments)
        _errors.print(
            f"expected [NAME] PATH, got {len(arguments)} arguments ({shown}); several document families are "
            "given as --applies-to phmr,cda or by repeating --applies-to",
            style="red",
            markup=False,
        )
        raise typer.Exit(2)
    name, path = (None, arguments[0]) if len(arguments) == 1 else (arguments[0], arguments[1])
    try:
        values = [v.strip() for option in applies_to or () for v in option.split(",") if v.strip()]
        families = tuple(DocumentFamily(value) for value in values)
    except ValueError as exc:
        _errors.print(f"--applies-to: {exc}", style="red", markup=False)
        raise typer.Exit(2) from exc
    with audited(settings_of(ctx), AuditAction.INSTALL_PACK) as op:
        op.about(EntityKind.CONFIGURATION, f"{kind} {name or ''}".strip(), f"from {path}")
        try:
            pack = install_pack(kind, Path(path), _packs_dir(ctx, packs_dir), name, applies_to=families)
        except HubError as exc:
            _errors.print(f"install failed: {exc.message}", style="red", markup=False)
            raise typer.Exit(1) from exc
        op.about(EntityKind.CONFIGURATION, f"{pack.kind.value} {pack.name}", f"installed in {pack.directory}")
    # markup=False: paths and compiler messages may contain "[...]", which rich would read as markup
    _console.print(_describe(pack), style="green", markup=False)
    for note in pack.notes:
        _console.print(f"note: {note}", style="yellow", markup=False)


@app.command("list")
def list_command(ctx: typer.Context, packs_dir: PacksDirOption = None) -> None:
    """List installed packs."""
    try:
        packs = list_packs(_packs_dir(ctx, packs_dir))
    except HubError as exc:
        _errors.print(exc.message, style="red", markup=False)
        raise typer.Exit(1) from exc
    if not packs:
        _console.print("no packs installed (CDA schema validation will be reported as not performed)")
        return
    table = Table()
    for column in ("kind", "name"):
        table.add_column(column, no_wrap=True)
    for column in ("entry", "applies to", "installed", "source"):
        table.add_column(column, overflow="fold")  # wrap long paths instead of cutting them off
    for pack in packs:
        scope = ", ".join(f.value for f in pack.applies_to) or "all"
        cells = (pack.kind.value, pack.name, pack.entry, scope, pack.installed_at, pack.source)
        table.add_row(*(Text(cell) for cell in cells))  # Text: no markup parsing of paths
    _console.print(table)


__all__ = ["app"]
