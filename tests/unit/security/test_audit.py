"""security.audit: records, canonical bytes, and the hash chain (edits, deletions, reorders are found)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from security import (
    GENESIS_HASH,
    AuditAction,
    AuditAgent,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    AuthenticationMethod,
    ChainRow,
    EntityKind,
    Principal,
    PurposeOfUse,
    Role,
    canonical_bytes,
    chain_hash,
    chain_rows,
    record_from_bytes,
    verify_chain,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def record(n: int = 0, **fields: object) -> AuditRecord:
    agent = AuditAgent(
        subject="dr",
        roles=("physician",),
        authorisation_id="ZXCVB",
        organisation_sor="123456789012345",
        it_system="EPJ",
        network_address="10.0.0.7",
    )
    base: dict[str, object] = {
        "record_id": f"r{n}",
        "recorded": T0 + timedelta(seconds=n),
        "action": AuditAction.READ,
        "outcome": AuditOutcome.SUCCESS,
        "agent": agent,
        "patient_cpr": "0101011234",
        "entities": (AuditEntity(EntityKind.RESOURCE, f"Observation/{n}/_history/1"),),
        "purpose_of_use": PurposeOfUse.TREATMENT,
        "decision_reason": "allowed: physician read Observation with purpose of use treatment",
    }
    base.update(fields)
    return AuditRecord(**base)  # type: ignore[arg-type]


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    data = canonical_bytes(record(override_reason="bevidstløs"))
    assert b" " not in data.replace(b"allowed: physician read Observation with purpose of use treatment", b"")
    parsed = orjson.loads(data)
    assert list(parsed) == sorted(parsed)
    assert parsed["recorded"] == "2026-03-01T09:30:00.000000Z" and parsed["v"] == 1
    assert "bevidstløs".encode() in data


def test_canonical_bytes_ignore_the_time_zone_used_for_input() -> None:
    cet = timezone(timedelta(hours=1))
    assert canonical_bytes(record(recorded=T0.astimezone(cet))) == canonical_bytes(record())


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_bytes(record(recorded=datetime(2026, 1, 1)))


def test_round_trip() -> None:
    original = record(
        action=AuditAction.ITI_43,
        override=True,
        override_reason="hjertestop",
        purpose_of_use=PurposeOfUse.EMERGENCY,
        entities=(AuditEntity(EntityKind.DOCUMENT, "1.2.3.4", "PHMR"), AuditEntity(EntityKind.QUERY, "a=b")),
        outcome=AuditOutcome.MINOR_FAILURE,
        outcome_description="x",
    )
    assert record_from_bytes(canonical_bytes(original)) == original


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"v": 2}', b'{"v": 1}'])
def test_non_records_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        record_from_bytes(data)


def test_agent_from_principal() -> None:
    principal = Principal(
        subject="s",
        roles=frozenset({Role.NURSE, Role.ADMIN}),
        method=AuthenticationMethod.SAML,
        name="N N",
        authorisation_id="BCDFG",
        organisation_sor="123456",
        it_system="EPJ",
    )
    agent = AuditAgent.from_principal(principal, network_address="192.0.2.1")
    assert agent.roles == ("admin", "nurse") and agent.network_address == "192.0.2.1"
    assert (agent.authorisation_id, agent.organisation_sor, agent.it_system, agent.name) == (
        "BCDFG",
        "123456",
        "EPJ",
        "N N",
    )


def test_new_record_has_id_and_time() -> None:
    r = AuditRecord.new(AuditAction.LOGIN_FAILURE, AuditOutcome.MINOR_FAILURE, AuditAgent(subject=None))
    assert r.record_id and r.recorded.tzinfo is not None and r.patient_cpr is None


def test_chain_hash_depends_on_both_inputs() -> None:
    data = canonical_bytes(record())
    assert len(chain_hash(GENESIS_HASH, data)) == 64
    assert chain_hash(GENESIS_HASH, data) != chain_hash("1" * 64, data)
    assert chain_hash(GENESIS_HASH, data) != chain_hash(GENESIS_HASH, data + b" ")


def rows(n: int = 5) -> list[ChainRow]:
    return chain_rows(record(i) for i in range(n))


def test_intact_chain() -> None:
    chain = rows()
    assert chain[0].prev_hash == GENESIS_HASH and chain[1].prev_hash == chain[0].row_hash
    assert verify_chain(chain) is None
    more = chain_rows([record(9)], prev_hash=chain[-1].row_hash, first_seq=6)
    assert verify_chain(chain + more) is None


def test_edited_row_is_found() -> None:
    chain = rows()
    edited = record_from_bytes(chain[2].record_bytes)
    forged = dataclasses.replace(edited, patient_cpr="0202021234")
    chain[2] = dataclasses.replace(chain[2], record_bytes=canonical_bytes(forged))
    broken = verify_chain(chain)
    assert broken is not None and broken.seq == 3 and "edited" in broken.reason


def test_edited_row_with_recomputed_hash_breaks_the_next_row() -> None:
    chain = rows()
    data = chain[2].record_bytes.replace(b"ZXCVB", b"BCDFG")
    chain[2] = dataclasses.replace(chain[2], record_bytes=data, row_hash=chain_hash(chain[2].prev_hash, data))
    broken = verify_chain(chain)
    assert broken is not None and broken.seq == 4 and "prev_hash" in broken.reason


def test_deleted_row_is_found() -> None:
    chain = rows()
    del chain[1]
    broken = verify_chain(chain)
    assert broken is not None and broken.seq == 3 and "gap" in broken.reason


def test_deleted_and_renumbered_row_is_found() -> None:
    chain = rows()
    del chain[1]
    chain = [dataclasses.replace(r, seq=i + 1) for i, r in enumerate(chain)]
    broken = verify_chain(chain)
    assert broken is not None and broken.seq == 2 and "prev_hash" in broken.reason


def test_reordered_rows_are_found() -> None:
    chain = rows()
    chain[1], chain[2] = dataclasses.replace(chain[2], seq=2), dataclasses.replace(chain[1], seq=3)
    broken = verify_chain(chain)
    assert broken is not None and broken.seq == 2


def test_wrong_start_hash() -> None:
    broken = verify_chain(rows(), start_hash="f" * 64)
    assert broken is not None and broken.seq == 1


def test_empty_chain_holds() -> None:
    assert verify_chain([]) is None
