"""security.authorization: the one role × action × resource table and its decisions."""

from __future__ import annotations

import pytest

from hub.core.errors import ForbiddenError
from security import (
    Action,
    AuthenticationMethod,
    Principal,
    PurposeOfUse,
    ResourceClass,
    Role,
    decide,
    parse_scopes,
)
from security.authorization import RULES, resource_class

CPR = "0101011234"
OTHER_CPR = "0202021234"


def person(role: Role, **fields: object) -> Principal:
    base: dict[str, object] = {
        "subject": role.value,
        "roles": frozenset({role}),
        "method": AuthenticationMethod.SAML,
        "cpr": CPR if role is Role.CITIZEN else None,
        "authorisation_id": "ZXCVB" if role in (Role.PHYSICIAN, Role.NURSE) else None,
        "organisation_sor": "123456789012345" if role.is_professional else None,
    }
    base.update(fields)
    return Principal(**base)  # type: ignore[arg-type]


def test_resource_classes() -> None:
    assert resource_class("Observation") is ResourceClass.CLINICAL
    assert resource_class("DocumentReference") is ResourceClass.CLINICAL
    assert resource_class("StructureDefinition") is ResourceClass.CONFORMANCE
    assert resource_class("Organization") is ResourceClass.DIRECTORY
    assert resource_class("Consent") is ResourceClass.CONSENT
    assert resource_class("AuditEvent") is ResourceClass.AUDIT


def test_citizen_reads_own_data_and_the_query_is_scoped() -> None:
    decision = decide(person(Role.CITIZEN), Action.READ, "Observation", patient_cpr=CPR)
    assert decision.allowed and decision.patient_scope == CPR and not decision.override
    search = decide(person(Role.CITIZEN), Action.SEARCH, "Observation")
    assert search.allowed and search.patient_scope == CPR, "a search without a patient is limited to own CPR"


def test_citizen_token_for_one_cpr_asking_for_another() -> None:
    decision = decide(person(Role.CITIZEN), Action.SEARCH, "Observation", patient_cpr=OTHER_CPR)
    assert not decision.allowed and "only access their own data" in decision.reason
    with pytest.raises(ForbiddenError, match="own data"):
        decision.enforce()


def test_citizen_documents_consents_and_access_log() -> None:
    citizen = person(Role.CITIZEN)
    assert decide(citizen, Action.QUERY_DOCUMENTS, "DocumentReference", patient_cpr=CPR).allowed
    assert decide(citizen, Action.CREATE, "Consent", patient_cpr=CPR).allowed
    assert decide(citizen, Action.SEARCH, "AuditEvent").patient_scope == CPR
    assert not decide(citizen, Action.CREATE, "Observation").allowed
    assert not decide(citizen, Action.INSTALL_PACKAGE, "package").allowed


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.NURSE, Role.OTHER_PROFESSIONAL])
def test_professionals_need_a_purpose(role: Role) -> None:
    no_purpose = decide(person(role), Action.READ, "Observation", patient_cpr=CPR)
    assert not no_purpose.allowed and "needs a purpose of use" in no_purpose.reason
    treatment = decide(person(role, purpose_of_use=PurposeOfUse.TREATMENT), Action.SEARCH, "Observation")
    assert treatment.allowed and treatment.patient_scope is None and "treatment" in treatment.reason


def test_emergency_needs_a_reason_and_is_an_override() -> None:
    bare = decide(person(Role.PHYSICIAN, purpose_of_use=PurposeOfUse.EMERGENCY), Action.READ, "Observation")
    assert not bare.allowed and "override reason" in bare.reason
    override = decide(
        person(Role.PHYSICIAN, purpose_of_use=PurposeOfUse.EMERGENCY, override_reason="bevidstløs"),
        Action.RETRIEVE_DOCUMENT,
        "DocumentReference",
    )
    assert override.allowed and override.override and "værdispring" in override.reason


def test_professionals_cannot_read_consents_or_the_audit_log() -> None:
    physician = person(Role.PHYSICIAN, purpose_of_use=PurposeOfUse.TREATMENT)
    assert not decide(physician, Action.READ, "Consent").allowed
    assert not decide(physician, Action.SEARCH, "AuditEvent").allowed


def test_systems_submit_but_do_not_read() -> None:
    system = person(Role.SYSTEM)
    for action in (Action.CREATE, Action.UPDATE, Action.SUBMIT_DOCUMENTS, Action.UPDATE_DOCUMENTS):
        assert decide(system, action, "Observation").allowed
    assert not decide(system, Action.READ, "Observation").allowed
    assert not decide(system, Action.DELETE_DOCUMENTS, "DocumentReference").allowed


def test_only_admins_install_packages() -> None:
    assert decide(person(Role.ADMIN), Action.INSTALL_PACKAGE, "package").allowed
    for role in (Role.CITIZEN, Role.PHYSICIAN, Role.NURSE, Role.OTHER_PROFESSIONAL, Role.SYSTEM):
        decision = decide(person(role), Action.INSTALL_PACKAGE, "package")
        assert not decision.allowed and "may not install-package package" in decision.reason


def test_admin_manages_but_does_not_read_clinical_data() -> None:
    admin = person(Role.ADMIN)
    assert decide(admin, Action.UPDATE, "StructureDefinition").allowed
    assert decide(admin, Action.CREATE, "Consent", patient_cpr=OTHER_CPR).allowed
    assert decide(admin, Action.SEARCH, "AuditEvent").allowed
    assert decide(admin, Action.DELETE_DOCUMENTS, "DocumentReference").allowed
    assert not decide(admin, Action.READ, "Observation").allowed


def test_everyone_validates_and_reads_conformance() -> None:
    for role in Role:
        assert decide(person(role), Action.VALIDATE, "Observation").allowed
        assert decide(person(role), Action.READ, "StructureDefinition").allowed


def test_scopes_narrow_what_the_role_allows() -> None:
    limited = person(
        Role.PHYSICIAN, purpose_of_use=PurposeOfUse.TREATMENT, scopes=parse_scopes("user/Observation.rs")
    )
    assert decide(limited, Action.SEARCH, "Observation").allowed
    denied = decide(limited, Action.READ, "Patient")
    assert not denied.allowed and "user/Patient.r" in denied.reason


def test_patient_scopes_only_count_for_citizens() -> None:
    scopes = parse_scopes("patient/*.rs")
    assert decide(person(Role.CITIZEN, scopes=scopes), Action.READ, "Observation", patient_cpr=CPR).allowed
    physician = person(Role.PHYSICIAN, purpose_of_use=PurposeOfUse.TREATMENT, scopes=scopes)
    assert not decide(physician, Action.READ, "Observation").allowed


def test_system_scope_context() -> None:
    system = person(Role.SYSTEM, scopes=parse_scopes("user/*.cruds"))
    assert not decide(system, Action.CREATE, "Observation").allowed
    assert decide(
        person(Role.SYSTEM, scopes=parse_scopes("system/Observation.c")), Action.CREATE, "Observation"
    ).allowed


def test_no_role_is_denied() -> None:
    nobody = Principal(subject="x", roles=frozenset(), method=AuthenticationMethod.JWT)
    decision = decide(nobody, Action.READ, "Observation")
    assert not decision.allowed and "no role" in decision.reason


def test_every_rule_is_reachable() -> None:
    """Each row of the table grants something to some role (no dead rules)."""
    for rule in RULES:
        role = sorted(rule.roles, key=lambda r: r.value)[0]
        action = sorted(rule.actions, key=lambda a: a.value)[0]
        resource = {
            ResourceClass.CLINICAL: "Observation",
            ResourceClass.CONSENT: "Consent",
            ResourceClass.AUDIT: "AuditEvent",
            ResourceClass.CONFORMANCE: "ValueSet",
            ResourceClass.DIRECTORY: "Organization",
            ResourceClass.PACKAGE: "package",
        }[rule.resource_class]
        principal = person(role, purpose_of_use=PurposeOfUse.TREATMENT)
        assert decide(principal, action, resource, patient_cpr=principal.cpr).allowed, rule
