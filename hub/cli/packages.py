"""``telehub packages``: install and list FHIR packages (issue 3, "Packages and canonical resources").

``telehub packages install PATH|ID#VERSION`` copies a package (and its dependencies, found in
the same local sources) to ``Settings.packages_dir``; ``ID#VERSION`` is looked up in the FHIR
package cache (``validation.fhir_package_cache``, default ``~/.fhir/packages``) and the configured
``validation.packages`` folders - there is no network registry, so download the ``.tgz`` first when
it is not there.  ``telehub packages list`` shows the built-in and the installed packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.operator_audit import audited
from hub.cli.validate import settings_of
from hub.core.errors import HubError
from profiles import BUILTIN_PACKAGE_DIR, PackageLoader, install, installed_packages
from security import AuditAction, EntityKind

app = typer.Typer(name="packages", help="Install and list FHIR packages.", no_args_is_help=True)
_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


@app.command("install")
def install_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A .tgz file, a package folder, or ID#VERSION.")],
    packages_dir: Annotated[
        Path | None, typer.Option("--packages-dir", help="Target (default Settings.packages_dir).")
    ] = None,
) -> None:
    """Install a package and the dependencies it names; a missing dependency installs nothing (exit 2).
    The installation is audited (``hub.cli.operator_audit``)."""
    settings = settings_of(ctx)
    target = packages_dir or settings.packages_dir
    search = [Path(p) for p in settings.validation.packages if Path(p).is_dir()]
    search += [Path(p).parent for p in settings.validation.packages if Path(p).is_file()]
    with audited(settings, AuditAction.INSTALL_PACKAGE) as op:
        op.about(EntityKind.CONFIGURATION, source, f"requested, into {target}")
        try:
            done = install(
                source, target, cache_dir=settings.validation.fhir_package_cache, search_dirs=search
            )
        except HubError as exc:
            _err.print(f"[red]Not installed:[/red] {exc.message}")
            raise typer.Exit(2) from exc
        for item in done:
            op.about(EntityKind.CONFIGURATION, item.manifest.spec, f"installed in {item.directory}")
            _out.print(f"installed {item.manifest.spec} in {item.directory}")
        loader = PackageLoader(search_dirs=[target])
        try:
            loaded = loader.load(done[-1].directory, strict=True)
        except HubError as exc:
            _err.print(f"[red]Installed, but it does not load:[/red] {exc.message}")
            raise typer.Exit(2) from exc
        _out.print(f"{loaded.manifest.spec}: {loaded.resource_count} conformance resources")
        for failure in loaded.failures:
            _err.print(f"[yellow]{failure.file} not loaded: {failure.reason}[/yellow]")


@app.command("list")
def list_command(
    ctx: typer.Context,
    packages_dir: Annotated[
        Path | None, typer.Option("--packages-dir", help="Folder (default Settings.packages_dir).")
    ] = None,
) -> None:
    """The built-in package and every installed package, with resource counts and load failures."""
    settings = settings_of(ctx)
    target = packages_dir or settings.packages_dir
    table = Table("package", "source", "resources", "failed files", "dependencies")
    loader = PackageLoader(search_dirs=[target], cache_dir=settings.validation.fhir_package_cache)
    sources: list[tuple[str, Path]] = []
    if (BUILTIN_PACKAGE_DIR / "package.json").is_file():
        sources.append(("built-in", BUILTIN_PACKAGE_DIR))
    sources.extend(("installed", p.directory) for p in installed_packages(target))
    for label, path in sources:
        try:
            loaded = loader.load(path, strict=False)
        except HubError as exc:
            table.add_row(path.name, label, "-", exc.message, "")
            continue
        deps = ", ".join(f"{n}#{v}" for n, v in loaded.manifest.dependencies)
        if loaded.missing_dependencies:
            deps += f" (missing: {', '.join(loaded.missing_dependencies)})"
        table.add_row(
            loaded.manifest.spec, label, str(loaded.resource_count), str(len(loaded.failures)), deps
        )
    _out.print(table)
