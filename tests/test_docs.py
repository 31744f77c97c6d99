"""README is part of the code: every setting, command, FHIR operation and XDS transaction is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.main import get_command

from hub.cli import app
from hub.core.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _env_names(model: type[BaseModel], prefix: str) -> list[str]:
    names: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def _commands(group: object, prefix: str = "telehub") -> list[str]:
    found: list[str] = []
    commands = getattr(group, "commands", None)
    if isinstance(commands, dict):
        for name, command in commands.items():
            path = f"{prefix} {name}"
            found.append(path)
            found += _commands(command, path)
    return found


@pytest.mark.parametrize("variable", _env_names(Settings, "TELEHUB_"))
def test_every_setting_is_documented(variable: str) -> None:
    assert f"`{variable}`" in README, f"{variable} is not documented in README.md"


@pytest.mark.parametrize("command", _commands(get_command(app)))
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in README, f"`{command}` is not documented in README.md"


@pytest.mark.parametrize(
    "operation",
    [
        "GET /fhir/metadata",
        "POST /fhir/{type}",
        "PUT /fhir/{type}/{id}",
        "PATCH /fhir/{type}/{id}",
        "DELETE /fhir/{type}/{id}",
        "/_history",
        "POST /fhir/{type}/_search",
        "GET /minlog",
        "/fhir/AuditEvent",
        "/fhir/DocumentReference",
        "[base]/Binary/<id>",
    ],
)
def test_every_fhir_interaction_is_documented(operation: str) -> None:
    assert operation in README
