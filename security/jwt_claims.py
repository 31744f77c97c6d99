"""Mapping verified JWT claims to a Principal.

Claims read (first match wins; the flat telehub claims are what ``telehub dev token`` issues):

| Principal field    | telehub claim        | IHE IUA (ITI-72 JWT, ``extensions.ihe_iua``) / others       |
|--------------------|----------------------|-------------------------------------------------------------|
| roles              | ``roles``            | ``subject_role`` Coding code; ``realm_access.roles`` (FUT)  |
| cpr                | ``cpr``              | ``person_id`` (CX ``cpr^^^&1.2.208.176.1.2&ISO``)            |
| authorisation_id   | ``authorisation_id`` | ``national_provider_identifier``                            |
| organisation_sor   | ``sor``              | ``subject_organization_id`` (digits, maybe SOR-OID prefixed) |
| it_system          | ``it_system``        | ``client_id``, ``azp``                                      |
| purpose_of_use     | ``purpose_of_use``   | ``purpose_of_use`` Coding (v3 ActReason TREAT / ETREAT)     |
| override_reason    | ``override_reason``  | ``override_reason``                                         |
| name               | ``name``             | ``subject_name``                                            |
| authentication_level | ``authentication_level`` | ``acr`` when it is a digit                           |
| scopes             | ``scope`` (space-separated) | ``scp`` (list)                                       |
| token_id           | ``jti``              |                                                             |

Role names are telehub's (``citizen``, ``physician``, ``nurse``, ``other_professional``,
``system``, ``admin``); unknown role strings are ignored.  A token whose claims fail
:func:`security.principal.principal_problems` is refused as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.core.errors import AuthenticationError
from security.principal import (
    CPR_SYSTEM,
    SOR_SYSTEM,
    AuthenticationMethod,
    Principal,
    PurposeOfUse,
    Role,
    override_reason_problem,
    parse_purpose,
    principal_problems,
)
from security.scopes import parse_scopes

_ROLE_NAMES = {r.value: r for r in Role}
_MAX_CLAIM_CHARS = 256


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The Principal for verified ``claims``; AuthenticationError listing every problem otherwise."""
    iua = _iua(claims)
    problems: list[str] = []
    purpose, reason = _purpose(claims, iua, problems)
    scope_claim = claims.get("scope", claims.get("scp"))
    expires = claims.get("exp")
    principal = Principal(
        subject=_text(claims.get("sub"), "sub", problems) or "",
        roles=_roles(claims, iua),
        method=AuthenticationMethod.JWT,
        issuer=_text(claims.get("iss"), "iss", problems),
        name=_text(claims.get("name", iua.get("subject_name")), "name", problems),
        cpr=_cpr(claims.get("cpr", iua.get("person_id")), problems),
        authorisation_id=_upper(
            _text(
                claims.get("authorisation_id", iua.get("national_provider_identifier")),
                "authorisation_id",
                problems,
            )
        ),
        organisation_sor=_sor(claims.get("sor", iua.get("subject_organization_id")), problems),
        it_system=_text(
            claims.get("it_system", claims.get("client_id", claims.get("azp"))), "it_system", problems
        ),
        scopes=parse_scopes(scope_claim) if isinstance(scope_claim, (str, list)) else None,
        purpose_of_use=purpose,
        override_reason=reason,
        authentication_level=_level(claims.get("authentication_level", claims.get("acr"))),
        token_id=_text(claims.get("jti"), "jti", problems),
        expires_at=datetime.fromtimestamp(expires, UTC) if isinstance(expires, (int, float)) else None,
    )
    problems.extend(principal_problems(principal))
    if problems:
        raise AuthenticationError("bearer token refused: " + "; ".join(problems))
    return principal


def _iua(claims: Mapping[str, Any]) -> Mapping[str, Any]:
    extensions = claims.get("extensions")
    if isinstance(extensions, Mapping):
        iua = extensions.get("ihe_iua")
        if isinstance(iua, Mapping):
            return iua
    return {}


def _text(value: Any, claim: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isprintable() or len(value) > _MAX_CLAIM_CHARS:
        problems.append(f"claim {claim!r} must be printable text of at most {_MAX_CLAIM_CHARS} characters")
        return None
    return value.strip() or None


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None


def _roles(claims: Mapping[str, Any], iua: Mapping[str, Any]) -> frozenset[Role]:
    names: list[str] = []
    raw = claims.get("roles")
    if isinstance(raw, str):
        names.extend(raw.split())
    elif isinstance(raw, list):
        names.extend(r for r in raw if isinstance(r, str))
    realm = claims.get("realm_access")
    if isinstance(realm, Mapping) and isinstance(realm.get("roles"), list):
        names.extend(r for r in realm["roles"] if isinstance(r, str))
    for coding in _codings(iua.get("subject_role")):
        names.append(coding)
    return frozenset(_ROLE_NAMES[n] for n in names if n in _ROLE_NAMES)


def _codings(value: Any) -> list[str]:
    """Codes of a Coding, a list of Codings, or a plain code string (IUA allows either shape)."""
    items = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("code"), str):
            codes.append(item["code"])
        elif isinstance(item, str):
            codes.append(item)
    return codes


def _cpr(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append("claim 'cpr' must be a string")
        return None
    # IUA person_id is an HL7 CX: ``0101011234^^^&1.2.208.176.1.2&ISO``; only a CPR-assigned CX is a CPR.
    text: str = value
    if "^" in text:
        text, _, authority = text.partition("^^^")
        if CPR_SYSTEM.removeprefix("urn:oid:") not in authority:
            return None
    return text.strip()


def _sor(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append("claim 'sor' must be a string")
        return None
    text: str = value.strip()
    for prefix in (SOR_SYSTEM + "|", SOR_SYSTEM + ".", SOR_SYSTEM + ":"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 2:
        return int(value)
    return None


def _purpose(
    claims: Mapping[str, Any], iua: Mapping[str, Any], problems: list[str]
) -> tuple[PurposeOfUse | None, str | None]:
    raw = claims.get("purpose_of_use", iua.get("purpose_of_use"))
    purpose: PurposeOfUse | None = None
    if raw is not None:
        codes = _codings(raw)
        parsed = {parse_purpose(c) for c in codes}
        if len(codes) == 0 or None in parsed or len(parsed) != 1:
            problems.append("claim 'purpose_of_use' must be one of treatment/TREAT or emergency/ETREAT")
        else:
            purpose = parsed.pop()
    reason_raw = claims.get("override_reason", iua.get("override_reason"))
    reason: str | None = None
    if reason_raw is not None:
        problem = override_reason_problem(reason_raw) if isinstance(reason_raw, str) else "it is not a string"
        if problem:
            problems.append(f"claim 'override_reason' refused: {problem}")
        else:
            reason = reason_raw.strip()
    return purpose, reason
