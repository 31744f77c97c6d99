"""The citizen's access log (MinLog-like): who looked at my data, when, from where, and was it værdispring.

DANISH-STANDARDS.md §3.4: MinLog shows a citizen the lookups in their data — the professional,
the organisation, the IT system, the time — and whether a consent override (værdispring) was
used.  This module picks those entries out of the audit records of one patient (storage selects
the records by patient; the API renders them as FHIR AuditEvent search results or HTML).

Shown: successful data accesses by others (FHIR read/search, ITI-18/43, MHD ITI-67/68) and
emergency overrides.  Not shown: the citizen's own accesses, refused requests (a refused request
disclosed nothing), writes, and technical details such as network addresses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from security.audit import AuditAction, AuditAgent, AuditOutcome, AuditRecord
from security.principal import Role

DATA_ACCESS_ACTIONS = frozenset(
    {
        AuditAction.READ,
        AuditAction.SEARCH,
        AuditAction.ITI_18,
        AuditAction.ITI_43,
        AuditAction.ITI_67,
        AuditAction.ITI_68,
        AuditAction.EMERGENCY_OVERRIDE,
    }
)
"""The actions a citizen's access log can show (storage pre-selects the records by these)."""


@dataclass(frozen=True, slots=True)
class AccessLogEntry:
    when: datetime
    action: AuditAction
    who: str
    authorisation_id: str | None
    organisation_sor: str | None
    it_system: str | None
    emergency_override: bool
    override_reason: str | None


_PROFESSIONAL_ROLES = frozenset(role.value for role in Role if role.is_professional)


def _who(agent: AuditAgent) -> str:
    """The person the citizen is shown.

    A system card acting for a professional (HSUID) names the system, not the person at the keyboard: the
    header carries the professional's CPR, which is not shown to citizens, and their authorisation id.
    """
    professional = not _PROFESSIONAL_ROLES.isdisjoint(agent.roles)
    if professional and Role.SYSTEM.value in agent.roles:
        return "sundhedsperson via " + (agent.it_system or agent.subject or "ukendt system")
    return agent.name or agent.subject or "unknown"


def citizen_access_log(records: Iterable[AuditRecord], cpr: str) -> list[AccessLogEntry]:
    """The entries the citizen with ``cpr`` may see, newest first."""
    entries = [
        AccessLogEntry(
            when=r.recorded,
            action=r.action,
            who=_who(r.agent),
            authorisation_id=r.agent.authorisation_id,
            organisation_sor=r.agent.organisation_sor,
            it_system=r.agent.it_system,
            emergency_override=r.override or r.action is AuditAction.EMERGENCY_OVERRIDE,
            override_reason=r.override_reason,
        )
        for r in records
        if r.patient_cpr == cpr
        and r.action in DATA_ACCESS_ACTIONS
        and r.outcome is AuditOutcome.SUCCESS
        and not ("citizen" in r.agent.roles and r.agent.cpr == cpr)
    ]
    return sorted(entries, key=lambda e: e.when, reverse=True)
