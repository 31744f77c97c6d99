"""The settings every command reads: one place that turns a bad configuration into exit code 2."""

from __future__ import annotations

import typer
from rich.console import Console

from hub.core.settings import Settings


def load_settings() -> Settings:
    """The effective settings, or exit 2 naming the problem (a TOML file that is missing or malformed, a
    value of the wrong type) instead of a traceback."""
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError, TOML errors, ConfigurationError: report, exit 2
        Console(stderr=True).print(f"[red]invalid configuration:[/red] {exc}")
        raise typer.Exit(2) from exc


__all__ = ["load_settings"]
