"""The ``telehub`` command line (typer + rich).

Each command family lives in its own module exposing a ``typer.Typer``; this
module only assembles them.
"""

from __future__ import annotations

import typer

app = typer.Typer(name="telehub", help="telehub: Danish telemedicine data hub.", no_args_is_help=True)


def main() -> None:
    app()


__all__ = ["app", "main"]
