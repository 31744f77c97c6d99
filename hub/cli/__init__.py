"""The ``telehub`` command line (typer + rich).

Each command family lives in its own module; this module only assembles them.
"""

from __future__ import annotations

import typer

from hub.cli import audit, conformance, dev, packages, packs, reindex, server, validate, xds

app = typer.Typer(
    name="telehub", help="telehub: Danish telemedicine data hub.", no_args_is_help=True, add_completion=False
)
app.command()(server.serve)
app.command()(server.migrate)
app.command()(server.config)
app.command()(server.version)
app.command("reindex")(reindex.reindex_command)
app.add_typer(dev.app, name="dev")
app.add_typer(audit.app, name="audit")
app.add_typer(packs.app, name="packs")
app.add_typer(validate.app, name="validate")
app.add_typer(packages.app, name="packages")
app.add_typer(conformance.app, name="conformance")
app.add_typer(xds.app, name="xds")


def main() -> None:
    app()


__all__ = ["app", "main"]
