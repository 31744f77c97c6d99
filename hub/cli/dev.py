"""``telehub dev token | idcard``: dev-mode test credentials (issue 6, "Modes").

Each command prints ONLY the credential on stdout (a JWT, or a DGWS ID card as XML), so scripts
can capture it: ``curl -H "Authorization: Bearer $(telehub dev token --role physician
--purpose treatment)" …``.  Both are signed with the local dev key under ``<data_dir>/dev-keys``
(see ``security.dev_issuer``), which only a dev-mode hub trusts; both are refused in production mode.
"""

from __future__ import annotations

import enum
from datetime import timedelta

import typer
from rich.console import Console

from hub.cli.configuration import load_settings
from hub.core.errors import HubError
from security import DevCredentialRequest, DevIssuer, PurposeOfUse, Role

app = typer.Typer(
    name="dev", help="Dev-mode test credentials (refused in production mode).", no_args_is_help=True
)
err = Console(stderr=True)


class RoleOption(enum.Enum):
    CITIZEN = "citizen"
    PHYSICIAN = "physician"
    NURSE = "nurse"
    OTHER_PROFESSIONAL = "other_professional"
    SYSTEM = "system"
    ADMIN = "admin"


class PurposeOption(enum.Enum):
    TREATMENT = "treatment"
    EMERGENCY = "emergency"


ROLE = typer.Option(..., "--role", help="Who the credential is for.")
CPR = typer.Option(None, "--cpr", help="Citizen CPR (default for citizens: 0101011234).")
AUTH_ID = typer.Option(None, "--auth-id", help="Authorisation id (default for physician/nurse: ZXCVB).")
SOR = typer.Option(None, "--sor", help="Organisation SOR id (default for professionals: 123456789012345).")
PURPOSE = typer.Option(None, "--purpose", help="Purpose of use.")
REASON = typer.Option(None, "--reason", help="Override reason (værdispring; needs --purpose emergency).")
SCOPE = typer.Option([], "--scope", help="SMART scope, repeatable (default by role, e.g. user/*.rs).")
LIFETIME = typer.Option(3600, "--lifetime", help="Validity in seconds.")
IT_SYSTEM = typer.Option("telehub-dev", "--it-system", help="Calling IT system name.")
SUBJECT = typer.Option(None, "--subject", help="Subject (default derived from role and identifiers).")
LEVEL = typer.Option(
    4,
    "--level",
    help="Authentication level 1-5 (the token's authentication_level claim; the ID card's DGWS level).",
)


def _request(
    role: RoleOption,
    cpr: str | None,
    auth_id: str | None,
    sor: str | None,
    purpose: PurposeOption | None,
    reason: str | None,
    scope: list[str],
    lifetime: int,
    it_system: str,
    subject: str | None,
    level: int,
) -> DevCredentialRequest:
    request = DevCredentialRequest(
        role=Role(role.value),
        cpr=cpr,
        authorisation_id=auth_id.upper() if auth_id else None,
        sor=sor,
        purpose=PurposeOfUse(purpose.value) if purpose else None,
        reason=reason,
        scopes=tuple(scope),
        lifetime=timedelta(seconds=lifetime),
        subject=subject,
        it_system=it_system,
        authentication_level=level,
    )
    problems = request.problems()
    if problems:
        for problem in problems:
            err.print(f"[red]error:[/red] {problem}")
        raise typer.Exit(2)
    return request


def _issuer() -> DevIssuer:
    try:
        return DevIssuer(load_settings())
    except HubError as exc:
        err.print(f"[red]refused:[/red] {exc.message}")
        raise typer.Exit(1) from exc


@app.command()
def token(
    role: RoleOption = ROLE,
    cpr: str | None = CPR,
    auth_id: str | None = AUTH_ID,
    sor: str | None = SOR,
    purpose: PurposeOption | None = PURPOSE,
    reason: str | None = REASON,
    scope: list[str] = SCOPE,
    lifetime: int = LIFETIME,
    it_system: str = IT_SYSTEM,
    subject: str | None = SUBJECT,
    level: int = LEVEL,
) -> None:
    """Print a signed dev JWT bearer token (RS256) and nothing else."""
    request = _request(role, cpr, auth_id, sor, purpose, reason, scope, lifetime, it_system, subject, level)
    typer.echo(_issuer().issue_token(request))


@app.command()
def idcard(
    role: RoleOption = ROLE,
    cpr: str | None = CPR,
    auth_id: str | None = AUTH_ID,
    sor: str | None = SOR,
    purpose: PurposeOption | None = PURPOSE,
    reason: str | None = REASON,
    scope: list[str] = SCOPE,
    lifetime: int = LIFETIME,
    it_system: str = IT_SYSTEM,
    subject: str | None = SUBJECT,
    level: int = LEVEL,
) -> None:
    """Print a signed DGWS-shaped ID card (saml:Assertion XML) and nothing else."""
    request = _request(role, cpr, auth_id, sor, purpose, reason, scope, lifetime, it_system, subject, level)
    typer.echo(_issuer().issue_id_card(request).decode("utf-8"))
