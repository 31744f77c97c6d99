"""security.scopes: SMART v2/v1 scope grammar and matching."""

from __future__ import annotations

import pytest

from security.scopes import Permission, ScopeContext, SmartScope, parse_scope, parse_scopes, scopes_permit


def test_v2_scope() -> None:
    scope = parse_scope("patient/Observation.rs")
    assert scope == SmartScope(
        ScopeContext.PATIENT, "Observation", frozenset({Permission.READ, Permission.SEARCH})
    )
    assert str(scope) == "patient/Observation.rs"


@pytest.mark.parametrize(
    ("text", "letters"),
    [("user/*.read", "rs"), ("user/*.write", "cud"), ("system/*.*", "cruds"), ("system/*.cruds", "cruds")],
)
def test_v1_and_wildcards(text: str, letters: str) -> None:
    scope = parse_scope(text)
    assert scope is not None
    assert scope.permissions == frozenset(Permission(c) for c in letters)


@pytest.mark.parametrize(
    "text",
    [
        "patient/Observation.sr",  # wrong order
        "patient/Observation.rr",  # repeated
        "patient/Observation.x",
        "patient/Observation.rs?category=vital-signs",  # constraint telehub cannot enforce
        "clinic/Observation.rs",
        "patient/observation.rs",
        "openid",
        "launch/patient",
        "",
    ],
)
def test_unusable_scopes_grant_nothing(text: str) -> None:
    assert parse_scope(text) is None


def test_parse_scopes_from_string_and_list() -> None:
    text = "openid fhirUser patient/Observation.rs user/Patient.r offline_access"
    assert {str(s) for s in parse_scopes(text)} == {"patient/Observation.rs", "user/Patient.r"}
    assert parse_scopes(["patient/Observation.rs", "user/*.cruds"]) == parse_scopes(
        "patient/Observation.rs user/*.cruds"
    )


def test_scopes_permit_respects_type_permission_and_context() -> None:
    scopes = parse_scopes("patient/Observation.rs user/*.r")
    assert scopes_permit(scopes, "Observation", Permission.SEARCH, [ScopeContext.PATIENT])
    assert not scopes_permit(scopes, "Patient", Permission.SEARCH, [ScopeContext.PATIENT])
    assert scopes_permit(scopes, "Patient", Permission.READ, [ScopeContext.USER])
    assert not scopes_permit(scopes, "Patient", Permission.READ, [ScopeContext.SYSTEM])
    assert not scopes_permit(
        scopes, "Observation", Permission.CREATE, [ScopeContext.PATIENT, ScopeContext.USER]
    )
