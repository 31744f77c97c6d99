"""security.jwt_claims: mapping verified claims (telehub flat claims, IHE IUA extension, FUT realm roles)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.errors import AuthenticationError
from security import PurposeOfUse, Role
from security.jwt_claims import principal_from_claims

BASE: dict[str, Any] = {"iss": "https://idp", "sub": "u1", "exp": 2_000_000_000}


def test_citizen_flat_claims() -> None:
    p = principal_from_claims({**BASE, "roles": "citizen", "cpr": "0101011234", "scope": "patient/*.rs"})
    assert p.roles == frozenset({Role.CITIZEN}) and p.cpr == "0101011234"
    assert p.expires_at is not None and p.expires_at.year == 2033


def test_iua_extension_claims() -> None:
    claims = {
        **BASE,
        "extensions": {
            "ihe_iua": {
                "subject_name": "Dr. Hansen",
                "subject_role": {"system": "urn:telehub:role", "code": "physician"},
                "person_id": "0101011234^^^&1.2.208.176.1.2&ISO",
                "national_provider_identifier": "zxcvb",
                "subject_organization_id": "urn:oid:1.2.208.176.1.1|123456789012345",
                "purpose_of_use": [{"system": "urn:oid:2.16.840.1.113883.5.8", "code": "ETREAT"}],
                "override_reason": "Bevidstløs ved ankomst",
            }
        },
        "client_id": "EPJ-X",
        "acr": "4",
    }
    p = principal_from_claims(claims)
    assert p.roles == frozenset({Role.PHYSICIAN})
    assert (p.name, p.cpr, p.authorisation_id, p.organisation_sor) == (
        "Dr. Hansen",
        "0101011234",
        "ZXCVB",
        "123456789012345",
    )
    assert (p.purpose_of_use, p.override_reason, p.it_system, p.authentication_level) == (
        PurposeOfUse.EMERGENCY,
        "Bevidstløs ved ankomst",
        "EPJ-X",
        4,
    )
    assert p.emergency_override
    assert p.scopes is None, "no scope claim: not scope-limited"


def test_person_id_of_another_assigning_authority_is_not_a_cpr() -> None:
    claims = {**BASE, "roles": ["citizen"], "extensions": {"ihe_iua": {"person_id": "123^^^&1.2.3&ISO"}}}
    with pytest.raises(AuthenticationError, match="CPR"):
        principal_from_claims(claims)


def test_realm_access_roles_and_unknown_roles_ignored() -> None:
    claims = {**BASE, "realm_access": {"roles": ["system", "$transform-to-PHMR"]}, "roles": ["superuser"]}
    assert principal_from_claims(claims).roles == frozenset({Role.SYSTEM})


def test_all_problems_are_reported_together() -> None:
    claims = {
        **BASE,
        "roles": ["physician"],
        "purpose_of_use": "research",
        "override_reason": "a\r\nX-Evil: 1",
        "name": "bad\x00name",
    }
    with pytest.raises(AuthenticationError) as info:
        principal_from_claims(claims)
    message = info.value.message
    for fragment in ("purpose_of_use", "CR/LF", "'name'", "SOR", "authorisation id"):
        assert fragment in message


def test_no_role_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="no telehub role"):
        principal_from_claims({**BASE, "roles": []})


@pytest.mark.parametrize("value", [["TREAT", "ETREAT"], [], 42])
def test_ambiguous_or_malformed_purpose(value: Any) -> None:
    with pytest.raises(AuthenticationError, match="purpose_of_use"):
        principal_from_claims({**BASE, "roles": ["system"], "purpose_of_use": value})


def test_non_string_identifiers_are_refused() -> None:
    with pytest.raises(AuthenticationError) as info:
        principal_from_claims({**BASE, "roles": ["system"], "cpr": 101011234, "sor": 5})
    assert "'cpr' must be a string" in info.value.message and "'sor' must be a string" in info.value.message
