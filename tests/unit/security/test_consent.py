"""security.consent: the one Danish negative-consent shape, its refusals (422), and who it blocks."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.core.errors import ValidationFailedError
from security import (
    ActorKind,
    AuthenticationMethod,
    BlockedActor,
    ConsentOutcome,
    Principal,
    PurposeOfUse,
    Role,
    actor_keys,
    block_rows,
    consent_filter_applies,
    consent_outcome,
    is_blocked,
    parse_consent,
)

CPR = "0101011234"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def consent(**overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": "c1",
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://telehub.dk/fhir/CodeSystem/dk-consent-category",
                        "code": "negative-consent",
                    }
                ]
            }
        ],
        "patient": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": CPR}},
        "provision": {"type": "deny"},
    }
    resource.update(overrides)
    return resource


def actor(system: str, value: str) -> dict[str, Any]:
    return {
        "role": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}
            ]
        },
        "reference": {"identifier": {"system": system, "value": value}},
    }


def professional(auth: str | None = "ZXCVB", sor: str | None = "123456789012345") -> Principal:
    return Principal(
        subject="p",
        roles=frozenset({Role.PHYSICIAN}),
        method=AuthenticationMethod.SAML,
        authorisation_id=auth,
        organisation_sor=sor,
        purpose_of_use=PurposeOfUse.TREATMENT,
    )


def test_block_everyone() -> None:
    directive = parse_consent(consent())
    assert directive.patient_cpr == CPR and directive.consent_id == "c1"
    assert directive.actors == (BlockedActor(ActorKind.EVERYONE, "*"),)
    assert directive.valid_from is None and directive.valid_until is None


def test_named_professionals_and_organisations_by_patient_reference() -> None:
    resource = consent(
        patient={"reference": "Patient/p-17"},
        provision={
            "type": "deny",
            "actor": [
                actor("https://autregweb.sst.dk", "bcdfg"),
                actor("urn:oid:1.2.208.176.1.1", "123456789012345"),
            ],
        },
    )
    directive = parse_consent(resource)
    assert directive.patient_id == "p-17" and directive.patient_cpr is None
    assert directive.actors == (
        BlockedActor(ActorKind.AUTHORISATION_ID, "BCDFG"),
        BlockedActor(ActorKind.ORGANISATION_SOR, "123456789012345"),
    )
    rows = block_rows(directive)
    assert [(r.actor_kind, r.actor_id, r.patient_id) for r in rows] == [
        ("authorisation-id", "BCDFG", "p-17"),
        ("organisation-sor", "123456789012345", "p-17"),
    ]


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ({"start": "2026-01-01"}, datetime(2026, 1, 1, tzinfo=UTC), None),
        ({"end": "2026-12-31"}, None, datetime(2027, 1, 1, tzinfo=UTC)),
        (
            {"start": "2026-02", "end": "2026-02"},
            datetime(2026, 2, 1, tzinfo=UTC),
            datetime(2026, 3, 1, tzinfo=UTC),
        ),
        (
            {"start": "2025", "end": "2026-12"},
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
        ({"start": "2026-03-01T10:00:00+02:00"}, datetime(2026, 3, 1, 8, tzinfo=UTC), None),
    ],
)
def test_periods(period: dict[str, str], start: datetime | None, end: datetime | None) -> None:
    directive = parse_consent(consent(provision={"type": "deny", "period": period}))
    assert (directive.valid_from, directive.valid_until) == (start, end)


def refusal_expressions(resource: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationFailedError) as info:
        parse_consent(resource)
    return {e for issue in info.value.issues for e in issue.expression}


@pytest.mark.parametrize(
    ("overrides", "expression"),
    [
        ({"status": "inactive"}, "Consent.status"),
        (
            {
                "scope": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}
                    ]
                }
            },
            "Consent.scope",
        ),
        ({"category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}]}, "Consent.category"),
        ({"patient": None}, "Consent.patient"),
        ({"patient": {"reference": "http://other.example/Patient/1"}}, "Consent.patient.reference"),
        (
            {"patient": {"identifier": {"system": "urn:oid:1.2.3", "value": CPR}}},
            "Consent.patient.identifier",
        ),
        (
            {"patient": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "12"}}},
            "Consent.patient.identifier.value",
        ),
        ({"provision": {"type": "permit"}}, "Consent.provision.type"),
        ({"provision": None}, "Consent.provision"),
        ({"provision": {"type": "deny", "provision": [{"type": "permit"}]}}, "Consent.provision.provision"),
        ({"provision": {"type": "deny", "class": [{"code": "Observation"}]}}, "Consent.provision.class"),
        ({"provision": {"type": "deny", "action": [{"text": "access"}]}}, "Consent.provision.action"),
        ({"provision": {"type": "deny", "data": [{"meaning": "instance"}]}}, "Consent.provision.data"),
        ({"provision": {"type": "deny", "actor": []}}, "Consent.provision.actor"),
        (
            {
                "provision": {
                    "type": "deny",
                    "actor": [{"role": {}, "reference": {"reference": "Practitioner/1"}}],
                }
            },
            "Consent.provision.actor[0].reference",
        ),
        (
            {"provision": {"type": "deny", "actor": [actor("http://example.org/ids", "X")]}},
            "Consent.provision.actor[0].reference.identifier.system",
        ),
        (
            {"provision": {"type": "deny", "actor": [actor("https://autregweb.sst.dk", "AEIOU")]}},
            "Consent.provision.actor[0].reference.identifier.value",
        ),
        (
            {"provision": {"type": "deny", "period": {"start": "2026-01-01T10:00:00"}}},
            "Consent.provision.period.start",
        ),
        (
            {"provision": {"type": "deny", "period": {"start": "2026-02-30"}}},
            "Consent.provision.period.start",
        ),
        (
            {"provision": {"type": "deny", "period": {"start": "2026-05-01", "end": "2026-01-01"}}},
            "Consent.provision.period",
        ),
        ({"modifierExtension": [{"url": "urn:x", "valueBoolean": True}]}, "Consent.modifierExtension"),
        ({"resourceType": "Patient"}, "resourceType"),
    ],
)
def test_unenforceable_consents_are_refused(overrides: dict[str, Any], expression: str) -> None:
    assert expression in refusal_expressions(consent(**overrides))


def test_every_problem_is_reported_at_once() -> None:
    resource = consent(status="draft", provision={"type": "permit", "code": [{"text": "x"}]})
    del resource["category"]
    expressions = refusal_expressions(resource)
    assert {
        "Consent.status",
        "Consent.category",
        "Consent.provision.type",
        "Consent.provision.code",
    } <= expressions


def test_refusal_is_a_422_category() -> None:
    with pytest.raises(ValidationFailedError) as info:
        parse_consent(consent(status="proposed"))
    assert info.value.category.value == "processable"
    assert "documented shape" in info.value.message


# ------------------------------------------------------------------------------------------------ blocking


def test_everyone_block_blocks_every_professional() -> None:
    directives = [parse_consent(consent())]
    assert is_blocked(directives, professional(), now=NOW)
    assert is_blocked(directives, professional(auth=None, sor=None), now=NOW)


def test_named_professional_block() -> None:
    directives = [
        parse_consent(
            consent(provision={"type": "deny", "actor": [actor("https://autregweb.sst.dk", "ZXCVB")]})
        )
    ]
    assert is_blocked(directives, professional(auth="ZXCVB"), now=NOW)
    assert is_blocked(directives, professional(auth="zxcvb"), now=NOW)
    assert not is_blocked(directives, professional(auth="BCDFG"), now=NOW)


def test_organisation_block() -> None:
    directives = [
        parse_consent(
            consent(provision={"type": "deny", "actor": [actor("urn:oid:1.2.208.176.1.1", "999999")]})
        )
    ]
    assert is_blocked(directives, professional(sor="999999"), now=NOW)
    assert not is_blocked(directives, professional(sor="123456789012345"), now=NOW)


def test_period_limits_the_block() -> None:
    directives = [
        parse_consent(
            consent(provision={"type": "deny", "period": {"start": "2026-07-01", "end": "2026-07"}})
        )
    ]
    assert not is_blocked(directives, professional(), now=NOW)
    assert is_blocked(directives, professional(), now=datetime(2026, 7, 31, 23, 59, tzinfo=UTC))
    assert not is_blocked(directives, professional(), now=datetime(2026, 8, 1, tzinfo=UTC))


def test_emergency_override_lifts_the_block_only_with_a_reason() -> None:
    directives = [parse_consent(consent())]
    emergency = professional().with_purpose(PurposeOfUse.EMERGENCY, None)
    assert consent_outcome(directives, emergency, now=NOW) is ConsentOutcome.BLOCKED
    override = emergency.with_purpose(PurposeOfUse.EMERGENCY, "bevidstløs")
    assert consent_outcome(directives, override, now=NOW) is ConsentOutcome.OVERRIDDEN
    assert not is_blocked(directives, override, now=NOW)


def test_citizens_are_never_blocked_from_their_own_data() -> None:
    citizen = Principal(
        subject="c", roles=frozenset({Role.CITIZEN}), method=AuthenticationMethod.JWT, cpr=CPR
    )
    assert consent_outcome([parse_consent(consent())], citizen, now=NOW) is ConsentOutcome.NOT_BLOCKED
    assert not consent_filter_applies(citizen)


def test_query_layer_inputs() -> None:
    assert actor_keys(professional(auth="zxcvb", sor="123456")) == (
        ("everyone", "*"),
        ("authorisation-id", "ZXCVB"),
        ("organisation-sor", "123456"),
    )
    assert actor_keys(professional(auth=None, sor=None)) == (("everyone", "*"),)
    assert consent_filter_applies(professional())
    assert not consent_filter_applies(professional().with_purpose(PurposeOfUse.EMERGENCY, "akut"))


def test_input_is_not_modified() -> None:
    resource = consent(provision={"type": "deny", "actor": [actor("https://autregweb.sst.dk", "bcdfg")]})
    before = copy.deepcopy(resource)
    parse_consent(resource)
    assert resource == before
