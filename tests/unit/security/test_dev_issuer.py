"""security.dev_issuer: local dev key material, dev tokens and ID cards, refusal in production."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from hub.core.errors import ConfigurationError
from hub.core.settings import SecurityMode
from security import DevCredentialRequest, DevIssuer, PurposeOfUse, Role
from security.dev_issuer import CERT_FILE_NAME, KEY_DIR_NAME, KEY_FILE_NAME
from tests.unit.security.conftest import make_settings


def test_key_and_certificate_are_created_once_with_private_permissions(
    issuer: DevIssuer, dev_dir: Path
) -> None:
    key = dev_dir / KEY_DIR_NAME / KEY_FILE_NAME
    assert key.is_file() and (dev_dir / KEY_DIR_NAME / CERT_FILE_NAME).is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = DevIssuer(make_settings(dev_dir, mode=SecurityMode.DEV))
    assert again.kid == issuer.kid and again.certificate == issuer.certificate


def test_refused_in_production_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="production"):
        DevIssuer(make_settings(tmp_path, mode=SecurityMode.PRODUCTION))
    assert not (tmp_path / KEY_DIR_NAME).exists(), "no key material is written in production"


def test_explicit_encrypted_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "dev.pem"
    settings = make_settings(tmp_path, dev_key_file=key_file, dev_key_password=SecretStr("s3cret"))
    first = DevIssuer(settings)
    assert b"ENCRYPTED" in key_file.read_bytes()
    assert DevIssuer(settings).kid == first.kid
    with pytest.raises(ConfigurationError, match="cannot load the dev signing key"):
        DevIssuer(make_settings(tmp_path, dev_key_file=key_file, dev_key_password=SecretStr("wrong")))


def test_certificate_follows_a_replaced_key(tmp_path: Path) -> None:
    first = DevIssuer(make_settings(tmp_path))
    (tmp_path / KEY_DIR_NAME / KEY_FILE_NAME).unlink()
    second = DevIssuer(make_settings(tmp_path))
    assert second.kid != first.kid
    assert second.certificate.public_key().public_numbers() != first.certificate.public_key().public_numbers()  # type: ignore[union-attr]


def test_token_claims_and_defaults(issuer: DevIssuer, dev_settings: object) -> None:
    token = issuer.issue_token(DevCredentialRequest(role=Role.CITIZEN, lifetime=timedelta(minutes=5)))
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": issuer.kid, "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["roles"] == ["citizen"] and claims["cpr"] == "0101011234"
    assert claims["scope"] == "patient/*.rs" and claims["exp"] - claims["iat"] == 300
    assert "authorisation_id" not in claims and "override_reason" not in claims


def test_jwks_is_public_only(issuer: DevIssuer) -> None:
    (key,) = issuer.jwks()["keys"]
    assert key["kty"] == "RSA" and key["kid"] == issuer.kid and key["alg"] == "RS256"
    assert "d" not in key and "p" not in key


def test_request_defaults_by_role() -> None:
    physician = DevCredentialRequest(role=Role.PHYSICIAN).resolved()
    assert (physician.authorisation_id, physician.sor, physician.cpr) == ("ZXCVB", "123456789012345", None)
    other = DevCredentialRequest(role=Role.OTHER_PROFESSIONAL).resolved()
    assert other.authorisation_id is None and other.sor == "123456789012345"
    system = DevCredentialRequest(role=Role.SYSTEM).resolved()
    assert system.scopes == ("system/*.cruds",) and system.sor is None


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (DevCredentialRequest(role=Role.CITIZEN, cpr="12"), "--cpr"),
        (DevCredentialRequest(role=Role.PHYSICIAN, authorisation_id="AEIOU"), "--auth-id"),
        (DevCredentialRequest(role=Role.NURSE, sor="x"), "--sor"),
        (DevCredentialRequest(role=Role.NURSE, purpose=PurposeOfUse.EMERGENCY, reason="a\r\nb"), "CR/LF"),
        (DevCredentialRequest(role=Role.NURSE, reason="akut"), "--purpose emergency"),
        (DevCredentialRequest(role=Role.NURSE, lifetime=timedelta(0)), "--lifetime"),
    ],
)
def test_request_problems(request_: DevCredentialRequest, fragment: str) -> None:
    assert any(fragment in p for p in request_.problems())


def test_valid_request_has_no_problems() -> None:
    assert (
        DevCredentialRequest(role=Role.NURSE, purpose=PurposeOfUse.EMERGENCY, reason="akut").problems() == []
    )
