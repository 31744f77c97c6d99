"""security.authentication: modes, start-up refusal, headers (purpose, override reason, injection, size)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from hub.core.errors import AuthenticationError, ConfigurationError, ForbiddenError
from hub.core.settings import SecurityMode
from security import (
    OPEN_MODE_WARNING,
    Authenticator,
    DevCredentialRequest,
    DevIssuer,
    Door,
    PurposeOfUse,
    Role,
)
from security.principal import AuthenticationMethod
from tests.unit.security.conftest import make_settings


@pytest.fixture(scope="module")
def dev_auth(dev_dir: Path) -> Authenticator:
    return Authenticator(make_settings(dev_dir, mode=SecurityMode.DEV))


def bearer(issuer: DevIssuer, **fields: object) -> dict[str, str]:
    token = issuer.issue_token(DevCredentialRequest(**{"role": Role.PHYSICIAN, **fields}))  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------------------------------------ modes


def test_dev_mode_accepts_dev_tokens_and_cards(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    assert dev_auth.dev_issuer is not None and dev_auth.dev_issuer.kid == issuer.kid
    p = dev_auth.authenticate_bearer(bearer(issuer, purpose=PurposeOfUse.TREATMENT))
    assert p.method is AuthenticationMethod.JWT and p.purpose_of_use is PurposeOfUse.TREATMENT
    card = issuer.issue_id_card(DevCredentialRequest(role=Role.SYSTEM))
    assert dev_auth.authenticate_id_card(card, door=Door.XDS).roles == frozenset({Role.SYSTEM})


def test_dev_mode_refuses_a_foreign_key(dev_auth: Authenticator, rogue_issuer: DevIssuer) -> None:
    with pytest.raises(AuthenticationError, match="unknown signing key id"):
        dev_auth.authenticate_bearer(bearer(rogue_issuer))


def test_production_refuses_to_start_without_trust(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="requires configured trust"):
        Authenticator(make_settings(tmp_path, mode=SecurityMode.PRODUCTION))


def test_production_refuses_the_dev_default_issuer(tmp_path: Path, issuer: DevIssuer) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    with pytest.raises(ConfigurationError, match="jwt_issuer"):
        Authenticator(make_settings(tmp_path, mode=SecurityMode.PRODUCTION, jwks_file=jwks))


def test_production_with_pinned_trust_only(tmp_path: Path, issuer: DevIssuer) -> None:
    """Production trusts exactly what is configured: here the dev JWKS published as a file, nothing else."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    auth = Authenticator(
        make_settings(
            tmp_path, mode=SecurityMode.PRODUCTION, jwks_file=jwks, jwt_issuer="https://idp.example"
        )
    )
    assert auth.dev_issuer is None
    with pytest.raises(AuthenticationError, match="issuer"):
        auth.authenticate_bearer(bearer(issuer))  # right key, but the dev issuer name is not trusted
    with pytest.raises(AuthenticationError, match="no trusted issuer certificate"):
        auth.authenticate_id_card(issuer.issue_id_card(DevCredentialRequest(role=Role.SYSTEM)))


def test_production_with_saml_trust(tmp_path: Path, issuer: DevIssuer) -> None:
    cert = tmp_path / "sts.pem"
    cert.write_bytes(issuer.certificate.public_bytes(Encoding.PEM))
    auth = Authenticator(make_settings(tmp_path, mode=SecurityMode.PRODUCTION, saml_trusted_certs=[cert]))
    card = issuer.issue_id_card(DevCredentialRequest(role=Role.SYSTEM, authentication_level=3))
    assert auth.authenticate_id_card(card).roles == frozenset({Role.SYSTEM})
    with pytest.raises(AuthenticationError, match="no JWKS"):
        auth.authenticate_bearer(bearer(issuer))


def test_bad_trusted_certificate_file(tmp_path: Path) -> None:
    bad = tmp_path / "sts.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="trusted SAML issuer certificate"):
        Authenticator(make_settings(tmp_path, mode=SecurityMode.PRODUCTION, saml_trusted_certs=[bad]))


def test_open_mode_warns_on_every_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, mode=SecurityMode.OPEN)
    with caplog.at_level(logging.WARNING, logger="telehub.security"):
        Authenticator(settings)
        auth = Authenticator(settings)
    assert [r.getMessage() for r in caplog.records].count(OPEN_MODE_WARNING) == 2
    p = auth.authenticate_bearer({})
    assert p.method is AuthenticationMethod.OPEN and Role.ADMIN in p.roles
    assert auth.authenticate_id_card(b"<not-even-parsed/>").method is AuthenticationMethod.OPEN
    assert not (tmp_path / "dev-keys").exists()


def test_door_levels(tmp_path: Path, issuer: DevIssuer, dev_dir: Path) -> None:
    auth = Authenticator(
        make_settings(dev_dir, mode=SecurityMode.DEV, saml_door_min_auth_levels={"xds": 4, "mhd": 2})
    )
    assert (auth.min_auth_level(Door.XDS), auth.min_auth_level(Door.MHD), auth.min_auth_level(Door.FHIR)) == (
        4,
        2,
        3,
    )
    level3 = issuer.issue_id_card(DevCredentialRequest(role=Role.SYSTEM, authentication_level=3))
    with pytest.raises(AuthenticationError, match="below the minimum 4"):
        auth.authenticate_id_card(level3, door=Door.XDS)
    with pytest.raises(ConfigurationError, match="unknown door"):
        Authenticator(make_settings(tmp_path, mode=SecurityMode.OPEN, saml_door_min_auth_levels={"ftp": 1}))


def test_clock_skew_bounds(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="clock_skew"):
        Authenticator(make_settings(tmp_path, mode=SecurityMode.OPEN, clock_skew_seconds=3600))


# ---------------------------------------------------------------------------------------------- headers


def test_missing_authorization(dev_auth: Authenticator) -> None:
    with pytest.raises(AuthenticationError, match="missing Authorization header"):
        dev_auth.authenticate_bearer({"Accept": "application/fhir+json"})


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token-without-scheme"])
def test_malformed_authorization(dev_auth: Authenticator, value: str) -> None:
    with pytest.raises(AuthenticationError, match="Bearer <token>"):
        dev_auth.authenticate_bearer({"Authorization": value})


def test_headers_are_case_insensitive(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    headers = [(k.lower(), v) for k, v in bearer(issuer).items()] + [("X-PURPOSE-OF-USE", "TREAT")]
    assert dev_auth.authenticate_bearer(headers).purpose_of_use is PurposeOfUse.TREATMENT


def test_oversized_headers(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    headers = {**bearer(issuer), "X-Padding": "x" * 20_000}
    with pytest.raises(AuthenticationError, match="request headers exceed 16384 bytes"):
        dev_auth.authenticate_bearer(headers)


def test_repeated_authorization_header(
    dev_auth: Authenticator, issuer: DevIssuer, rogue_issuer: DevIssuer
) -> None:
    pairs = list(bearer(issuer).items()) + list(bearer(rogue_issuer).items())
    with pytest.raises(AuthenticationError, match="more than once"):
        dev_auth.authenticate_bearer(pairs)


def test_emergency_override_by_headers(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    headers = {**bearer(issuer), "X-Purpose-Of-Use": "emergency", "X-Override-Reason": "Bevidstløs, akut"}
    p = dev_auth.authenticate_bearer(headers)
    assert p.emergency_override and p.override_reason == "Bevidstløs, akut"


@pytest.mark.parametrize(
    ("reason", "fragment"),
    [
        ("akut\r\nX-Injected: evil", "CR/LF"),
        ("akut\nSet-Cookie: x=1", "CR/LF"),
        ("akut\x00", "control characters"),
        ("x" * 600, "longer than 500"),
        ("  ", "empty"),
    ],
)
def test_override_reason_header_injection(
    dev_auth: Authenticator, issuer: DevIssuer, reason: str, fragment: str
) -> None:
    headers = {**bearer(issuer), "X-Purpose-Of-Use": "emergency", "X-Override-Reason": reason}
    with pytest.raises(ForbiddenError) as info:
        dev_auth.authenticate_bearer(headers)
    assert "X-Override-Reason refused" in info.value.message and fragment in info.value.message


@pytest.mark.parametrize("value", ["research", "treatment\r\n", "x" * 40])
def test_bad_purpose_header(dev_auth: Authenticator, issuer: DevIssuer, value: str) -> None:
    with pytest.raises(ForbiddenError, match="X-Purpose-Of-Use"):
        dev_auth.authenticate_bearer({**bearer(issuer), "X-Purpose-Of-Use": value})


def test_header_may_not_contradict_the_credential(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    headers = {**bearer(issuer, purpose=PurposeOfUse.TREATMENT), "X-Purpose-Of-Use": "emergency"}
    with pytest.raises(ForbiddenError, match="contradicts"):
        dev_auth.authenticate_bearer(headers)
    reasoned = bearer(issuer, purpose=PurposeOfUse.EMERGENCY, reason="one reason")
    with pytest.raises(ForbiddenError, match="contradicts"):
        dev_auth.authenticate_bearer({**reasoned, "X-Override-Reason": "another reason"})


def test_repeated_override_reason(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    pairs = [*bearer(issuer).items(), ("X-Override-Reason", "a"), ("x-override-reason", "b")]
    with pytest.raises(ForbiddenError, match="more than once"):
        dev_auth.authenticate_bearer(pairs)


def test_purpose_headers_apply_to_id_cards(dev_auth: Authenticator, issuer: DevIssuer) -> None:
    card = issuer.issue_id_card(DevCredentialRequest(role=Role.NURSE))
    p = dev_auth.authenticate_id_card(card, {"X-Purpose-Of-Use": "ETREAT", "X-Override-Reason": "hjertestop"})
    assert p.emergency_override
