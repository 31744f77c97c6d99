"""Audit records of the XDS transactions (IHE BALP shapes of ITI-18/41/42/43/57/62; issue 6 "Audit").

One record per patient touched (one without a patient when none is known), carrying who (the Principal),
what (the transaction), which documents and submission sets (their uniqueIds) or the stored query, the
outcome and the authorisation decision's reason.  Changes are appended in the submission's own
transaction; reads and refusals go through the batching ``hub.fhir.audit_trail.AuditWriter``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hub.fhir import audit_row
from hub.storage import AuditRow
from security import (
    AuditAction,
    AuditAgent,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    EntityKind,
    Principal,
)

_CPR = re.compile(r"^\d{10}$")
_MAX_DETAIL = 1000


@dataclass(frozen=True, slots=True)
class AuditFacts:
    """What one XDS interaction did, for its audit records."""

    action: AuditAction
    outcome: AuditOutcome
    patient_keys: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    submission_sets: tuple[str, ...] = ()
    query: str | None = None
    decision_reason: str | None = None
    override: bool = False
    detail: str | None = None


def audit_rows(principal: Principal | None, facts: AuditFacts, *, client_address: str = "") -> list[AuditRow]:
    """The hash-chain rows of one interaction (one per patient)."""
    agent = (
        AuditAgent.from_principal(principal, network_address=client_address or None)
        if principal is not None
        else AuditAgent(subject=None, network_address=client_address or None)
    )
    entities: list[AuditEntity] = [AuditEntity(EntityKind.DOCUMENT, uid) for uid in _unique(facts.documents)]
    entities += [AuditEntity(EntityKind.SUBMISSION_SET, uid) for uid in _unique(facts.submission_sets)]
    if facts.query:
        entities.append(AuditEntity(EntityKind.QUERY, facts.query[:_MAX_DETAIL]))
    rows = []
    keys: list[str | None] = [*_unique(facts.patient_keys)] or [None]
    for key in keys:
        record = AuditRecord.new(
            facts.action,
            facts.outcome,
            agent,
            patient_cpr=key if key and _CPR.match(key) else None,
            patient_id=key if key and not _CPR.match(key) else None,
            entities=tuple(entities),
            purpose_of_use=principal.purpose_of_use if principal else None,
            override=facts.override,
            override_reason=principal.override_reason if principal and facts.override else None,
            decision_reason=facts.decision_reason,
            outcome_description=(facts.detail or "")[:500] or None,
        )
        rows.append(audit_row(record, key))
    return rows


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
