"""The Authenticator service: one place that turns a request's credentials into a Principal.

Mode comes from ``Settings.security.mode`` (``hub.core.settings.SecurityMode``):

* ``dev`` — trusts the local dev key (:mod:`security.dev_issuer`) plus any configured trust;
* ``production`` — trusts only configured JWKS (file/URL) and pinned SAML issuer certificates,
  and refuses to start (ConfigurationError) when none is configured or the JWT issuer is
  still the dev default;
* ``open`` — no authentication at all; a loud warning is logged every time an Authenticator is
  built (every start), and every request runs as the fixed :data:`OPEN_PRINCIPAL`.

REST requests carry ``Authorization: Bearer <JWT>`` (RFC 6750 §2.1); SOAP requests a DGWS ID
card in ``wsse:Security``.  Either may add the purpose of use and the værdispring reason in the
``X-Purpose-Of-Use`` (``treatment``/``emergency``, or v3 ``TREAT``/``ETREAT``) and
``X-Override-Reason`` headers.  Header rules: the whole header block is limited to
``security.max_header_bytes`` (401 before any parsing), these headers may appear once, the
reason must pass :func:`security.principal.override_reason_problem` (no CR/LF, no control
characters, at most 500 characters), and a header may not contradict a purpose the credential
itself states (403).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta

from lxml import etree

from hub.core.errors import AuthenticationError, ConfigurationError, ForbiddenError
from hub.core.settings import SecurityMode, SecuritySettings, Settings
from security.dev_issuer import DevIssuer
from security.jwt_auth import JwksSource, JwtVerifier, RemoteJwks, StaticJwks
from security.principal import (
    AuthenticationMethod,
    Principal,
    PurposeOfUse,
    Role,
    override_reason_problem,
    parse_purpose,
)
from security.saml.replay import InMemoryReplayCache, ReplayCache, ReplayClaim
from security.saml.verifier import IdCardVerifier, load_trusted_certificates

logger = logging.getLogger("telehub.security")

PURPOSE_HEADER = "x-purpose-of-use"
REASON_HEADER = "x-override-reason"
AUTHORIZATION_HEADER = "authorization"
_SINGLE_HEADERS = (AUTHORIZATION_HEADER, PURPOSE_HEADER, REASON_HEADER)
_MAX_PURPOSE_CHARS = 32
DEV_DEFAULT_ISSUER = SecuritySettings.model_fields["jwt_issuer"].default

OPEN_MODE_WARNING = (
    "SECURITY DISABLED: telehub runs in 'open' security mode. Every request is served WITHOUT "
    "authentication as an anonymous operator; consent blocks for named professionals and organisations "
    "cannot apply. Never expose this instance to real patient data."
)

OPEN_PRINCIPAL = Principal(
    subject="anonymous (open security mode)",
    roles=frozenset({Role.OTHER_PROFESSIONAL, Role.SYSTEM, Role.ADMIN}),
    method=AuthenticationMethod.OPEN,
    purpose_of_use=PurposeOfUse.TREATMENT,
)


class Door(enum.Enum):
    """Where a request came in; each door may demand its own minimum ID-card authentication level."""

    FHIR = "fhir"
    XDS = "xds"
    MHD = "mhd"
    ADMIN = "admin"


class Authenticator:
    """Builds every verifier from Settings once; thread-safe; one instance per process."""

    def __init__(self, settings: Settings, *, replay_cache: ReplayCache | None = None) -> None:
        security = settings.security
        self.mode = security.mode
        self._max_header_bytes = security.max_header_bytes
        self._levels = _door_levels(security)
        sources: list[JwksSource] = []
        if security.jwks_file is not None:
            sources.append(StaticJwks.from_file(security.jwks_file))
        if security.jwks_url is not None:
            sources.append(RemoteJwks(security.jwks_url, cache_seconds=security.jwks_cache_seconds))
        trusted = list(load_trusted_certificates(security.saml_trusted_certs))
        self.dev_issuer: DevIssuer | None = None
        if self.mode is SecurityMode.DEV:
            self.dev_issuer = DevIssuer(settings)
            sources.append(StaticJwks(self.dev_issuer.jwks(), origin="dev key"))
            trusted.append(self.dev_issuer.certificate)
        elif self.mode is SecurityMode.PRODUCTION:
            _check_production(security, has_jwks=bool(sources), has_saml=bool(trusted))
        else:
            logger.warning(OPEN_MODE_WARNING)
        skew = _skew(security)
        self._jwt = JwtVerifier(
            issuer=security.jwt_issuer,
            audience=security.jwt_audience,
            sources=sources,
            clock_skew=skew,
            max_token_bytes=security.max_header_bytes,
        )
        self._saml = IdCardVerifier(
            trusted,
            replay_cache=replay_cache or InMemoryReplayCache(max_entries=security.replay_cache_size),
            clock_skew=skew,
            audience=security.saml_audience,
            allow_sha1=security.saml_allow_sha1,
            replay_scope=security.saml_replay_scope,
            verified_card_cache_size=security.saml_verified_card_cache_size,
            hsuid_trusted_providers=security.hsuid_trusted_providers,
        )

    def min_auth_level(self, door: Door) -> int:
        return self._levels[door]

    def authenticate_bearer(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Principal:
        """REST: the Principal of the request's bearer token, with purpose headers applied."""
        fields = self._headers(headers)
        if self.mode is SecurityMode.OPEN:
            return apply_purpose_headers(OPEN_PRINCIPAL, fields)
        value = fields.get(AUTHORIZATION_HEADER)
        if value is None:
            raise AuthenticationError("missing Authorization header: a Bearer token is required")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        return apply_purpose_headers(self._jwt.verify(token.strip()), fields)

    def authenticate_id_card(
        self,
        message: bytes | etree._Element,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        *,
        door: Door = Door.XDS,
    ) -> Principal:
        """SOAP: the Principal of the ID card in ``message`` (envelope, wsse:Security or assertion).

        Replay is checked in this process only; the doors use :meth:`authenticate_id_card_claim`.
        """
        return self.authenticate_id_card_claim(message, headers, door=door)[0]

    def authenticate_id_card_claim(
        self,
        message: bytes | etree._Element,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        *,
        door: Door = Door.XDS,
    ) -> tuple[Principal, ReplayClaim | None]:
        """As :meth:`authenticate_id_card`, with the replay key the door must claim in the shared store
        (``None`` in ``open`` mode, where no card is read)."""
        fields = self._headers(headers)
        if self.mode is SecurityMode.OPEN:
            return apply_purpose_headers(OPEN_PRINCIPAL, fields), None
        principal, claim = self._saml.verify_claim(message, min_auth_level=self.min_auth_level(door))
        return apply_purpose_headers(principal, fields), claim

    def _headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        return request_headers(headers, max_bytes=self._max_header_bytes)


def request_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], *, max_bytes: int
) -> dict[str, str]:
    """Lower-cased header fields; oversized header blocks (401) and repeated auth headers are refused.

    Pass every (name, value) pair as received (e.g. starlette's ``request.headers.items()``) so
    that a repeated header is seen.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    fields: dict[str, str] = {}
    total = 0
    for name, value in items:
        total += len(name) + len(value) + 4  # "name: value\r\n"
        if total > max_bytes:
            raise AuthenticationError(f"request headers exceed {max_bytes} bytes: refused unread")
        key = name.lower()
        if key in fields and key in _SINGLE_HEADERS:
            error = AuthenticationError if key == AUTHORIZATION_HEADER else ForbiddenError
            raise error(f"header {name} appears more than once")
        fields[key] = value
    return fields


def apply_purpose_headers(principal: Principal, fields: Mapping[str, str]) -> Principal:
    """``principal`` with the purpose and reason of the headers; ForbiddenError for a bad one."""
    raw_purpose, raw_reason = fields.get(PURPOSE_HEADER), fields.get(REASON_HEADER)
    if raw_purpose is None and raw_reason is None:
        return principal
    purpose, reason = principal.purpose_of_use, principal.override_reason
    if raw_purpose is not None:
        if len(raw_purpose) > _MAX_PURPOSE_CHARS or not raw_purpose.isprintable():
            raise ForbiddenError("X-Purpose-Of-Use refused: too long or contains control characters")
        parsed = parse_purpose(raw_purpose)
        if parsed is None:
            raise ForbiddenError("X-Purpose-Of-Use must be 'treatment' or 'emergency'")
        if purpose is not None and parsed is not purpose:
            raise ForbiddenError(
                f"X-Purpose-Of-Use {parsed.value!r} contradicts the credential's purpose {purpose.value!r}"
            )
        purpose = parsed
    if raw_reason is not None:
        problem = override_reason_problem(raw_reason)
        if problem:
            raise ForbiddenError(f"X-Override-Reason refused: {problem}")
        if reason is not None and reason != raw_reason.strip():
            raise ForbiddenError("X-Override-Reason contradicts the credential's override reason")
        reason = raw_reason.strip()
    return principal.with_purpose(purpose, reason)


def _door_levels(security: SecuritySettings) -> dict[Door, int]:
    levels = {door: security.saml_min_auth_level for door in Door}
    for name, level in security.saml_door_min_auth_levels.items():
        try:
            levels[Door(name)] = level
        except ValueError as exc:
            known = ", ".join(d.value for d in Door)
            message = f"unknown door {name!r} in security.saml_door_min_auth_levels (known: {known})"
            raise ConfigurationError(message) from exc
    return levels


def _skew(security: SecuritySettings) -> timedelta:
    if not 0 <= security.clock_skew_seconds <= 600:
        raise ConfigurationError("security.clock_skew_seconds must be between 0 and 600")
    return timedelta(seconds=security.clock_skew_seconds)


def _check_production(security: SecuritySettings, *, has_jwks: bool, has_saml: bool) -> None:
    if not has_jwks and not has_saml:
        raise ConfigurationError(
            "production security mode requires configured trust: set security.jwks_file or "
            "security.jwks_url (REST) and/or security.saml_trusted_certs (SOAP)"
        )
    if has_jwks and security.jwt_issuer == DEV_DEFAULT_ISSUER:
        raise ConfigurationError(
            "production security mode requires security.jwt_issuer to be set "
            f"(it is still the dev default {DEV_DEFAULT_ISSUER!r})"
        )
