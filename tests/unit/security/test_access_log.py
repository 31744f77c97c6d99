"""security.access_log: what a citizen sees of the audit records about them (MinLog-like)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from security import AuditAction, AuditAgent, AuditOutcome, AuditRecord, citizen_access_log

CPR = "0101011234"
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
DOCTOR = AuditAgent(
    subject="dr",
    roles=("physician",),
    name="Dr. Hansen",
    authorisation_id="ZXCVB",
    organisation_sor="123456789012345",
    it_system="EPJ",
    network_address="10.0.0.7",
)
SELF = AuditAgent(subject="citizen", roles=("citizen",), cpr=CPR)


def record(n: int, action: AuditAction, agent: AuditAgent = DOCTOR, **fields: object) -> AuditRecord:
    base: dict[str, object] = {
        "record_id": f"r{n}",
        "recorded": T0 + timedelta(minutes=n),
        "action": action,
        "outcome": AuditOutcome.SUCCESS,
        "agent": agent,
        "patient_cpr": CPR,
    }
    base.update(fields)
    return AuditRecord(**base)  # type: ignore[arg-type]


def test_lookups_by_others_newest_first() -> None:
    records = [
        record(1, AuditAction.SEARCH),
        record(2, AuditAction.ITI_43, override=True, override_reason="bevidstløs"),
        record(3, AuditAction.READ, agent=SELF),  # the citizen's own access
        record(4, AuditAction.READ, outcome=AuditOutcome.MINOR_FAILURE),  # refused: nothing disclosed
        record(5, AuditAction.CREATE),  # a write, not a lookup
        record(6, AuditAction.READ, patient_cpr="0202021234"),  # somebody else's data
    ]
    log = citizen_access_log(records, CPR)
    assert [(e.action, e.emergency_override) for e in log] == [
        (AuditAction.ITI_43, True),
        (AuditAction.SEARCH, False),
    ]
    first = log[0]
    assert (
        first.who,
        first.authorisation_id,
        first.organisation_sor,
        first.it_system,
        first.override_reason,
    ) == ("Dr. Hansen", "ZXCVB", "123456789012345", "EPJ", "bevidstløs")
    assert not hasattr(first, "network_address")


def test_emergency_override_record_is_shown() -> None:
    (entry,) = citizen_access_log([record(1, AuditAction.EMERGENCY_OVERRIDE)], CPR)
    assert entry.emergency_override


def test_empty() -> None:
    assert citizen_access_log([], CPR) == []


def test_a_system_acting_for_a_professional_is_shown_as_the_professional_via_the_system() -> None:
    # HSUID: the card is the EHR system's; the header names the professional (CPR not shown to citizens)
    hsuid = AuditAgent(
        subject="CVR:19343634-FID:Hospital EHR",
        roles=("other_professional", "system"),
        name="Region Syd EPJ",
        cpr="0707614285",
        authorisation_id="BCD12",
        organisation_sor="123456789012345",
        it_system="Hospital EHR",
    )
    plain_system = AuditAgent(subject="CVR:19343634", roles=("system",), name="Region Syd EPJ")
    log = citizen_access_log(
        [record(1, AuditAction.ITI_18, hsuid), record(2, AuditAction.READ, plain_system)], CPR
    )
    assert [e.who for e in log] == ["Region Syd EPJ", "sundhedsperson via Hospital EHR"]
    assert log[1].authorisation_id == "BCD12" and "0707614285" not in log[1].who
