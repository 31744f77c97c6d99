"""The custom-check registry the profile validator calls for the built-in Danish profiles."""

from __future__ import annotations

from typing import Any

import profiles.danish as danish
from hub.core.issues import Issue, IssueSeverity
from profiles.builtin import BuiltinProfile
from profiles.danish import (
    CustomCheck,
    CustomCheckRegistry,
    DanishIdentifierSystem,
    check_danish_identifier,
    danish_checks,
)


def test_registry_is_keyed_by_profile_and_element() -> None:
    registry = danish_checks()
    checks = registry.checks_for(BuiltinProfile.PATIENT.value, "Patient.identifier")
    assert len(checks) == 1
    cpr = {"system": DanishIdentifierSystem.CPR.value, "value": "3102001234"}
    assert [(i.message_id, i.expression) for i in checks[0](cpr, "Patient.identifier[0]")] == [
        ("DK-CPR-DATE", ("Patient.identifier[0].value",))
    ]
    # the 10-digit and modulus-11 rules are the profile invariants dk-tm-cpr-1/3; not repeated here
    assert checks[0]({"system": DanishIdentifierSystem.CPR.value, "value": "12"}, "x") == []
    assert checks[0]({"system": DanishIdentifierSystem.CPR.value, "value": "2512489996"}, "x") == []
    assert checks[0]({"system": DanishIdentifierSystem.SOR.value, "value": "3102001234"}, "x") == []
    assert checks[0]("not an identifier", "x") == []
    assert registry.checks_for(BuiltinProfile.PATIENT.value + "|0.1.0", "Patient.identifier") == checks
    assert registry[(BuiltinProfile.PATIENT.value, "Patient.identifier")] == checks
    assert registry.get((BuiltinProfile.PATIENT.value, "Patient.name"), ()) == ()
    assert registry.checks_for(BuiltinProfile.PATIENT.value, "Patient.name") == ()
    assert registry.checks_for("http://example.org/other", "Patient.identifier") == ()
    assert set(registry.elements(BuiltinProfile.CONSENT.value)) == {
        "Consent.patient.identifier",
        "Consent.provision.actor.reference.identifier",
    }
    assert len(registry) == len(list(registry)) == 8


def test_identifier_check_dispatches_on_system() -> None:
    cpr = {"system": DanishIdentifierSystem.CPR.value, "value": "3102001234"}
    sor = {"system": DanishIdentifierSystem.SOR.value, "value": "123"}
    auth = {"system": DanishIdentifierSystem.AUTHORISATION_ID.value, "value": "AAAAA"}
    other = {"system": "http://example.org", "value": "anything"}
    # outside the profiles' slices every CPR rule applies: date (error) and modulus 11 (warning)
    assert [i.message_id for i in check_danish_identifier(cpr, "Observation.subject.identifier")] == [
        "DK-CPR-DATE",
        "DK-CPR-MOD11",
    ]
    assert check_danish_identifier(cpr, "Observation.subject.identifier")[0].expression == (
        "Observation.subject.identifier.value",
    )
    assert [i.message_id for i in check_danish_identifier(sor, "p")] == ["DK-SOR-FORMAT"]
    assert [i.message_id for i in check_danish_identifier(auth, "p")] == ["DK-AUTH-FORMAT"]
    assert check_danish_identifier(other, "p") == []
    assert check_danish_identifier({"system": DanishIdentifierSystem.CPR.value}, "p") == []
    assert check_danish_identifier("not an identifier", "p") == []
    warning = check_danish_identifier(
        {"system": DanishIdentifierSystem.CPR.value, "value": "2512489996"}, "p"
    )
    assert [i.severity for i in warning] == [IssueSeverity.WARNING]


def test_custom_registration_accepts_any_callable_with_the_protocol() -> None:
    seen: list[tuple[Any, str]] = []

    def check(value: Any, path: str) -> list[Issue]:
        seen.append((value, path))
        return []

    typed: CustomCheck = check
    registry = CustomCheckRegistry()
    registry.register("http://x/p", "Patient.id", typed)
    registry.register("http://x/p", "Patient.id", typed)
    assert len(registry.checks_for("http://x/p", "Patient.id")) == 2
    registry.checks_for("http://x/p", "Patient.id")[0]("a", "Patient.id")
    assert seen == [("a", "Patient.id")]


def test_public_api_is_exactly_all() -> None:
    assert len(set(danish.__all__)) == len(danish.__all__)
    public = {
        n for n in vars(danish) if not n.startswith("_") and not isinstance(getattr(danish, n), type(danish))
    }
    assert public == set(danish.__all__)
