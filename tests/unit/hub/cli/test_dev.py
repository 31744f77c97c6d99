"""hub.cli.dev: ``telehub dev token | idcard`` print only the credential, which the hub then accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.dev import app
from hub.core.settings import SecurityMode, SecuritySettings, Settings
from security import Authenticator, Door, PurposeOfUse, Role


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TELEHUB_DATA_DIR": str(tmp_path),
        "TELEHUB_SECURITY__MODE": "dev",
        "TELEHUB_CONFIG": "",
    }


def authenticator(tmp_path: Path) -> Authenticator:
    return Authenticator(Settings(data_dir=tmp_path, security=SecuritySettings(mode=SecurityMode.DEV)))


def test_token_prints_only_the_token(tmp_path: Path, env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["token", "--role", "physician", "--purpose", "emergency", "--reason", "Bevidstløs"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].count(".") == 2
    principal = authenticator(tmp_path).authenticate_bearer({"Authorization": f"Bearer {lines[0]}"})
    assert principal.roles == frozenset({Role.PHYSICIAN})
    assert principal.purpose_of_use is PurposeOfUse.EMERGENCY and principal.override_reason == "Bevidstløs"


def test_token_options(tmp_path: Path, env: dict[str, str]) -> None:
    args = [
        "token",
        "--role",
        "citizen",
        "--cpr",
        "0202021234",
        "--scope",
        "patient/Observation.rs",
        "--lifetime",
        "60",
    ]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    principal = authenticator(tmp_path).authenticate_bearer(
        {"Authorization": f"Bearer {result.stdout.strip()}"}
    )
    assert principal.cpr == "0202021234"
    assert principal.scopes is not None and {str(s) for s in principal.scopes} == {"patient/Observation.rs"}


def test_idcard_prints_only_the_assertion(tmp_path: Path, env: dict[str, str]) -> None:
    args = [
        "idcard",
        "--role",
        "nurse",
        "--auth-id",
        "bcdfg",
        "--sor",
        "555555555555",
        "--purpose",
        "treatment",
    ]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<saml:Assertion") and result.stdout.rstrip().endswith(
        "</saml:Assertion>"
    )
    principal = authenticator(tmp_path).authenticate_id_card(result.stdout.encode(), door=Door.XDS)
    assert (principal.authorisation_id, principal.organisation_sor) == ("BCDFG", "555555555555")
    assert principal.purpose_of_use is PurposeOfUse.TREATMENT


@pytest.mark.parametrize("command", ["token", "idcard"])
def test_refused_in_production_mode(tmp_path: Path, env: dict[str, str], command: str) -> None:
    result = CliRunner().invoke(
        app, [command, "--role", "system"], env={**env, "TELEHUB_SECURITY__MODE": "production"}
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "refused" in result.stderr and "production" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--role", "citizen", "--cpr", "123"], "--cpr"),
        (["--role", "physician", "--reason", "akut"], "--purpose emergency"),
        (["--role", "physician", "--auth-id", "AEIOU"], "--auth-id"),
    ],
)
def test_invalid_options(env: dict[str, str], args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(app, ["token", *args], env=env)
    assert result.exit_code == 2 and result.stdout == "" and fragment in result.stderr


def test_unknown_role(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["token", "--role", "superuser"], env=env)
    assert result.exit_code != 0 and result.stdout == ""
