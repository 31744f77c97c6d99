"""security.jwt_auth: bearer-token verification, with every hostile token of issue 6 (real signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub.core.errors import AuthenticationError, ConfigurationError
from security import DevCredentialRequest, DevIssuer, JwtVerifier, PurposeOfUse, RemoteJwks, Role, StaticJwks

ISSUER = "https://idp.example.dk"
AUDIENCE = "telehub"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    """An issuer's key pair (RSA or EC) published as a JWKS."""

    def __init__(self, kid: str, kind: str = "RSA") -> None:
        self.kid = kid
        if kind == "RSA":
            self.private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = "RS256"
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {**jwk, "kid": kid, "use": "sig"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm=header.pop("alg", self.alg), headers={"kid": self.kid, **header}
        )

    @property
    def public_pem(self) -> bytes:
        pem: bytes = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem


@pytest.fixture(scope="module")
def rsa_keys() -> Keys:
    return Keys("rsa-1")


@pytest.fixture(scope="module")
def ec_keys() -> Keys:
    return Keys("ec-1", "EC")


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "physician:ZXCVB",
        "iat": now,
        "exp": now + 600,
        "roles": ["physician"],
        "authorisation_id": "ZXCVB",
        "sor": "123456789012345",
        "scope": "user/*.rs",
        "jti": "t-1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def verifier(*keys: Keys, skew: int = 60) -> JwtVerifier:
    return JwtVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        sources=[StaticJwks({"keys": [k.jwk for k in keys]}, origin="test")],
        clock_skew=timedelta(seconds=skew),
    )


def refused(v: JwtVerifier, token: str, fragment: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        v.verify(token)
    assert fragment in info.value.message


def test_valid_rs256_token(rsa_keys: Keys) -> None:
    p = verifier(rsa_keys).verify(rsa_keys.sign(claims()))
    assert p.roles == frozenset({Role.PHYSICIAN})
    assert (p.authorisation_id, p.organisation_sor, p.token_id, p.issuer) == (
        "ZXCVB",
        "123456789012345",
        "t-1",
        ISSUER,
    )
    assert p.scopes is not None and {str(s) for s in p.scopes} == {"user/*.rs"}
    assert p.expires_at is not None and p.expires_at > datetime.now(UTC)


def test_valid_es256_token(ec_keys: Keys) -> None:
    assert verifier(ec_keys).verify(ec_keys.sign(claims())).subject == "physician:ZXCVB"


def test_dev_issuer_token_round_trip(issuer: DevIssuer, dev_settings: Any) -> None:
    v = JwtVerifier(
        issuer=dev_settings.security.jwt_issuer,
        audience=dev_settings.security.jwt_audience,
        sources=[StaticJwks(issuer.jwks(), origin="dev")],
        clock_skew=timedelta(seconds=60),
    )
    token = issuer.issue_token(
        DevCredentialRequest(role=Role.NURSE, purpose=PurposeOfUse.EMERGENCY, reason="bevidstløs")
    )
    p = v.verify(token)
    assert p.roles == frozenset({Role.NURSE}) and p.emergency_override and p.override_reason == "bevidstløs"


def test_missing_token_parts(rsa_keys: Keys) -> None:
    refused(verifier(rsa_keys), "not-a-jwt", "malformed bearer token")


def test_expired(rsa_keys: Keys) -> None:
    past = int(time.time()) - 3600
    refused(verifier(rsa_keys), rsa_keys.sign(claims(iat=past - 600, exp=past)), "expired")


def test_expiry_within_clock_skew_is_accepted(rsa_keys: Keys) -> None:
    token = rsa_keys.sign(claims(exp=int(time.time()) - 5))
    assert verifier(rsa_keys, skew=60).verify(token).subject == "physician:ZXCVB"
    refused(verifier(rsa_keys, skew=0), token, "expired")


def test_not_yet_valid(rsa_keys: Keys) -> None:
    future = int(time.time()) + 3600
    refused(verifier(rsa_keys), rsa_keys.sign(claims(nbf=future, exp=future + 600)), "not yet valid")


def test_wrong_audience(rsa_keys: Keys) -> None:
    refused(verifier(rsa_keys), rsa_keys.sign(claims(aud="another-service")), "audience")


def test_wrong_issuer(rsa_keys: Keys) -> None:
    refused(verifier(rsa_keys), rsa_keys.sign(claims(iss="https://evil.example")), "issuer")


@pytest.mark.parametrize("claim", ["exp", "sub", "aud", "iss"])
def test_required_claims(rsa_keys: Keys, claim: str) -> None:
    token = rsa_keys.sign(claims(**{claim: None}))
    with pytest.raises(AuthenticationError):
        verifier(rsa_keys).verify(token)


def test_tampered_payload_fails_signature(rsa_keys: Keys) -> None:
    header, _, signature = rsa_keys.sign(claims()).split(".")
    forged = b64url(json.dumps(claims(roles=["admin"])).encode())
    refused(verifier(rsa_keys), f"{header}.{forged}.{signature}", "signature is invalid")


def test_signed_by_another_key_under_the_trusted_kid(rsa_keys: Keys) -> None:
    impostor = Keys(rsa_keys.kid)
    refused(verifier(rsa_keys), impostor.sign(claims()), "signature is invalid")


def test_alg_none_is_refused(rsa_keys: Keys) -> None:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": rsa_keys.kid}).encode())
    payload = b64url(json.dumps(claims(roles=["admin"])).encode())
    refused(verifier(rsa_keys), f"{header}.{payload}.", "algorithm 'none' refused")


def test_hs256_signed_with_the_rsa_public_key_is_refused(rsa_keys: Keys) -> None:
    """Key confusion (RFC 8725 §2.1): the public key used as an HMAC secret must never verify."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": rsa_keys.kid}).encode())
    payload = b64url(json.dumps(claims(roles=["admin"])).encode())
    mac = hmac.new(rsa_keys.public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    refused(verifier(rsa_keys), f"{header}.{payload}.{b64url(mac)}", "algorithm 'HS256' refused")


def test_unknown_kid(rsa_keys: Keys) -> None:
    other = Keys("other-kid")
    refused(verifier(rsa_keys), other.sign(claims()), "unknown signing key id (kid) 'other-kid'")


def test_no_kid_accepted_only_with_a_single_key(rsa_keys: Keys, ec_keys: Keys) -> None:
    token = jwt.encode(claims(), rsa_keys.private, algorithm="RS256")
    assert verifier(rsa_keys).verify(token).subject == "physician:ZXCVB"
    refused(verifier(rsa_keys, ec_keys), token, "no 'kid'")


def test_algorithm_must_match_key_type(rsa_keys: Keys, ec_keys: Keys) -> None:
    token = jwt.encode(claims(), ec_keys.private, algorithm="ES256", headers={"kid": rsa_keys.kid})
    refused(verifier(rsa_keys), token, "does not match the type of key")


def test_oversized_token(rsa_keys: Keys) -> None:
    token = rsa_keys.sign(claims(padding="x" * 20_000))
    refused(verifier(rsa_keys), token, "larger than")


def test_no_sources_refuses_every_token(rsa_keys: Keys) -> None:
    v = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, sources=[], clock_skew=timedelta(0))
    refused(v, rsa_keys.sign(claims()), "no JWKS is configured")


def test_claims_problems_are_reported(rsa_keys: Keys) -> None:
    refused(verifier(rsa_keys), rsa_keys.sign(claims(sor=None, roles=["physician"])), "SOR")


# ------------------------------------------------------------------------------------------- JWKS sources


def test_jwks_file(tmp_path: Path, rsa_keys: Keys) -> None:
    path = tmp_path / "jwks.json"
    oct_key = {"kty": "oct", "k": b64url(b"secret"), "kid": "hmac"}
    small = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 1024).public_key()))
    path.write_text(json.dumps({"keys": [rsa_keys.jwk, oct_key, {**small, "kid": "small"}]}))
    source = StaticJwks.from_file(path)
    assert source.find("rsa-1") is not None
    assert source.find("hmac") is None, "symmetric keys are never trust anchors"
    assert source.find("small") is None, "RSA keys under 2048 bits are ignored"
    assert str(path) in source.describe()


@pytest.mark.parametrize(
    "content", ["not json", '{"no": "keys"}', '{"keys": [{"kty": "RSA", "n": "??", "e": "AQAB"}]}']
)
def test_bad_jwks_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError):
        StaticJwks.from_file(path)


def test_missing_jwks_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read JWKS file"):
        StaticJwks.from_file(tmp_path / "absent.json")


class JwksServer:
    """A real HTTP server on 127.0.0.1 serving a JWKS document that tests can change."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_remote_jwks_fetch_cache_and_rotation(jwks_server: JwksServer, rsa_keys: Keys) -> None:
    jwks_server.document = {"keys": [rsa_keys.jwk]}
    clock = Clock()
    source = RemoteJwks(f"{jwks_server.url}/jwks", cache_seconds=300, min_refetch_seconds=30, monotonic=clock)
    v = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, sources=[source], clock_skew=timedelta(seconds=60))
    for _ in range(3):
        assert v.verify(rsa_keys.sign(claims())).subject == "physician:ZXCVB"
    assert jwks_server.requests == 1, "keys are cached"

    rotated = Keys("rsa-2")
    jwks_server.document = {"keys": [rsa_keys.jwk, rotated.jwk]}
    refused(v, rotated.sign(claims()), "unknown signing key id")  # inside the refetch interval: no fetch
    assert jwks_server.requests == 1
    clock.now += 31
    assert v.verify(rotated.sign(claims())).subject == "physician:ZXCVB"
    assert jwks_server.requests == 2
    clock.now += 301
    v.verify(rsa_keys.sign(claims(jti="fresh")))  # a new token: not in the verified-token cache
    assert jwks_server.requests == 3, "the cache expires"


def test_remote_jwks_unreachable_is_an_authentication_error(jwks_server: JwksServer, rsa_keys: Keys) -> None:
    source = RemoteJwks(f"{jwks_server.url}/missing")
    v = JwtVerifier(issuer=ISSUER, audience=AUDIENCE, sources=[source], clock_skew=timedelta(seconds=60))
    refused(v, rsa_keys.sign(claims()), "signing keys unavailable")


@pytest.mark.parametrize("url", ["http://idp.example.dk/jwks", "ftp://127.0.0.1/jwks", "file:///etc/jwks"])
def test_remote_jwks_requires_https_except_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        RemoteJwks(url)


# ------------------------------------------------------------------------------------- verified-token cache


def test_repeated_token_is_served_from_the_cache(rsa_keys: Keys) -> None:
    v = verifier(rsa_keys)
    token = rsa_keys.sign(claims())
    assert v.verify(token) is v.verify(token)
    uncached = JwtVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        sources=[StaticJwks({"keys": [rsa_keys.jwk]}, origin="test")],
        clock_skew=timedelta(0),
        cache_size=0,
    )
    assert uncached.verify(token) is not uncached.verify(token)


def test_cached_token_still_expires(rsa_keys: Keys) -> None:
    v = verifier(rsa_keys, skew=0)
    expires = int(time.time()) + 2
    token = rsa_keys.sign(claims(exp=expires))
    assert v.verify(token).subject == "physician:ZXCVB"
    while time.time() <= expires + 0.05:
        time.sleep(0.1)
    refused(v, token, "expired")


def test_cache_is_bounded(rsa_keys: Keys) -> None:
    v = JwtVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        sources=[StaticJwks({"keys": [rsa_keys.jwk]}, origin="test")],
        clock_skew=timedelta(seconds=60),
        cache_size=2,
    )
    tokens = [rsa_keys.sign(claims(jti=f"t-{i}")) for i in range(3)]
    first = [v.verify(t) for t in tokens]
    assert v.verify(tokens[2]) is first[2]
    assert v.verify(tokens[0]) is not first[0], "the oldest entry was evicted"
