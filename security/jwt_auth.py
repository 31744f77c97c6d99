"""OAuth2 JWT bearer token verification (RFC 6750, RFC 7519, RFC 8725 JWT best practices).

Only RS256 and ES256 are accepted.  ``alg=none`` and every HS* algorithm are refused before
any key is touched: an HS256 token "signed" with the issuer's RSA public key as HMAC secret
(key confusion, RFC 8725 §2.1) never reaches a verifier.  The key is chosen by ``kid`` from
JWKS sources (a file, a URL, the dev key) — never from the token (``jku``/``jwk``/``x5u``
headers are ignored) — and its type must match the algorithm.

Required claims: ``iss`` (must equal the configured issuer), ``aud`` (must contain the
configured audience), ``exp`` and ``sub``; ``nbf`` is honoured when present.  ``exp``/``nbf``
get the configured clock skew.  Claims become a Principal in :mod:`security.jwt_claims`.

Verified tokens are remembered (bounded LRU, ``cache_size``) until their ``exp``: a client sends
the same token with every request, and the same bytes verify the same way until they expire,
so repeat requests skip the RSA/ECDSA work.  (A key removed from the JWKS therefore stops
new tokens at once, but tokens already seen until they expire.)

A JWKS URL is fetched with httpx and cached (``jwks_cache_seconds``); an unknown ``kid``
triggers at most one refetch per ``min_refetch_seconds`` (key rotation without letting a
stream of junk kids hammer the issuer).  Plain ``http`` is allowed only for loopback hosts.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub.core.errors import AuthenticationError, ConfigurationError
from security.jwt_claims import principal_from_claims
from security.principal import Principal

ACCEPTED_ALGORITHMS = ("RS256", "ES256")
MIN_RSA_BITS = 2048
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class JwksSource(Protocol):
    """Where verification keys come from; ``find`` returns None for an unknown kid."""

    def find(self, kid: str | None) -> jwt.PyJWK | None: ...

    def describe(self) -> str: ...


def parse_jwks(document: Any, *, origin: str) -> dict[str | None, jwt.PyJWK]:
    """Signature keys of a JWKS document by kid; unusable keys (enc, HMAC, short RSA) are left out."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ConfigurationError(f"JWKS from {origin} is not an object with a 'keys' array")
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC"):
            continue  # "oct" keys would be HMAC secrets: never a trust anchor here
        try:
            key = jwt.PyJWK(dict(entry))
        except jwt.PyJWTError as exc:
            raise ConfigurationError(f"JWKS from {origin} holds an unusable key: {exc}") from exc
        if isinstance(key.key, rsa.RSAPublicKey) and key.key.key_size < MIN_RSA_BITS:
            continue
        kid = entry.get("kid")
        keys[kid if isinstance(kid, str) else None] = key
    return keys


class StaticJwks:
    """Keys fixed at start-up: a JWKS file, or the dev issuer's public key."""

    def __init__(self, document: Mapping[str, Any], *, origin: str) -> None:
        self._origin = origin
        self._keys = parse_jwks(document, origin=origin)

    @classmethod
    def from_file(cls, path: Path) -> StaticJwks:
        try:
            document = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read JWKS file {path}: {exc}") from exc
        return cls(document, origin=str(path))

    def find(self, kid: str | None) -> jwt.PyJWK | None:
        return _lookup(self._keys, kid)

    def describe(self) -> str:
        return f"JWKS file {self._origin}"


class RemoteJwks:
    """A JWKS URL, fetched lazily with httpx and cached."""

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = 300.0,
        min_refetch_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ConfigurationError(f"JWKS URL must use https (http only for loopback): {url}")
        self._url = url
        self._cache_seconds = cache_seconds
        self._min_refetch = min_refetch_seconds
        self._timeout = timeout_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self.fetch_count = 0

    def find(self, kid: str | None) -> jwt.PyJWK | None:
        with self._lock:
            now = self._monotonic()
            if self._fetched_at is None or now - self._fetched_at >= self._cache_seconds:
                self._fetch(now)
            key = _lookup(self._keys, kid)
            if key is None and self._fetched_at is not None and now - self._fetched_at >= self._min_refetch:
                self._fetch(now)  # the issuer may have rotated its keys
                key = _lookup(self._keys, kid)
            return key

    def _fetch(self, now: float) -> None:
        try:
            response = httpx.get(self._url, timeout=self._timeout, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            message = f"token signing keys unavailable: cannot fetch JWKS {self._url}"
            raise AuthenticationError(message) from exc
        try:
            self._keys = parse_jwks(document, origin=self._url)
        except ConfigurationError as exc:
            raise AuthenticationError(f"token signing keys unavailable: {exc.message}") from exc
        self._fetched_at = now
        self.fetch_count += 1

    def describe(self) -> str:
        return f"JWKS URL {self._url}"


def _lookup(keys: Mapping[str | None, jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    # A token without kid is accepted only when the source has exactly one key: no guessing.
    return next(iter(keys.values())) if len(keys) == 1 else None


def _key_matches(alg: str, key: jwt.PyJWK) -> bool:
    if alg == "RS256":
        return isinstance(key.key, rsa.RSAPublicKey)
    return isinstance(key.key, ec.EllipticCurvePublicKey) and isinstance(key.key.curve, ec.SECP256R1)


class JwtVerifier:
    """Verifies bearer tokens against pinned issuer, audience and JWKS sources."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        sources: Sequence[JwksSource],
        clock_skew: timedelta,
        max_token_bytes: int = 16 * 1024,
        cache_size: int = 10_000,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._sources = tuple(sources)
        self._skew = clock_skew
        self._max_bytes = max_token_bytes
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def sources(self) -> tuple[JwksSource, ...]:
        return self._sources

    def verify(self, token: str) -> Principal:
        """The Principal of a valid token; AuthenticationError with the precise reason otherwise."""
        if not self._sources:
            raise AuthenticationError("bearer tokens are not accepted: no JWKS is configured")
        if len(token) > self._max_bytes:
            raise AuthenticationError(f"bearer token larger than {self._max_bytes} bytes")
        cached = self._cached(token)
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"malformed bearer token: {exc}") from exc
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGORITHMS:
            raise AuthenticationError(
                f"token algorithm {alg!r} refused: only {', '.join(ACCEPTED_ALGORITHMS)} are accepted"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError("token 'kid' header must be a string")
        key = self._find_key(kid)
        if not _key_matches(alg, key):
            raise AuthenticationError(f"token algorithm {alg} does not match the type of key {kid!r}")
        principal = principal_from_claims(self._decode(token, key, alg))
        self._remember(token, principal)
        return principal

    def _cached(self, token: str) -> Principal | None:
        with self._lock:
            principal = self._cache.get(token)
            if principal is None:
                return None
            expires = principal.expires_at
            if expires is None or expires + self._skew <= datetime.now(UTC):
                del self._cache[token]
                return None  # verify again: the precise "expired" refusal comes from there
            self._cache.move_to_end(token)
            return principal

    def _remember(self, token: str, principal: Principal) -> None:
        if self._cache_size <= 0:
            return
        with self._lock:
            self._cache[token] = principal
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _find_key(self, kid: str | None) -> jwt.PyJWK:
        for source in self._sources:
            key = source.find(kid)
            if key is not None:
                return key
        known = ", ".join(s.describe() for s in self._sources)
        if kid is None:
            raise AuthenticationError(f"token has no 'kid' and no single key is configured ({known})")
        raise AuthenticationError(f"unknown signing key id (kid) {kid!r}: not in {known}")

    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._skew,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("bearer token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthenticationError("bearer token is not yet valid (nbf/iat in the future)") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthenticationError(f"bearer token is not meant for audience {self._audience!r}") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthenticationError(f"bearer token issuer is not {self._issuer!r}") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthenticationError("bearer token signature is invalid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"bearer token lacks a required claim: {exc.claim}") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"bearer token refused: {exc}") from exc
