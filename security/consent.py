"""Danish negative consent (MinSpærring-style blocks) as FHIR Consent, and who it blocks.

The ONE Consent shape telehub understands (issue 6; FHIR R4 https://hl7.org/fhir/R4/consent.html):

* ``status`` = ``active``; ``scope`` = consentscope#patient-privacy;
* a ``category`` coding http://telehub.dk/fhir/CodeSystem/dk-consent-category#negative-consent;
* ``patient`` = ``{"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": CPR}}`` and/or
  ``{"reference": "Patient/<id>"}``;
* ``provision.type`` = ``deny``, optional ``provision.period``, and either no ``provision.actor``
  (block everyone) or actors whose ``reference.identifier`` has system ``https://autregweb.sst.dk``
  (a named professional's authorisation id) or ``urn:oid:1.2.208.176.1.1`` (an organisation's SOR).

Anything else that changes meaning — nested provisions, data/class/code/action/purpose/
securityLabel/dataPeriod restrictions, modifierExtension, literal actor references, other
identifier systems — is rejected with ValidationFailedError (422) listing every problem:
a Consent telehub cannot enforce is never stored silently.

Enforcement INSIDE queries (for storage; keeps ``Bundle.total``, paging and XDS results exact).
Each directive is stored as rows ``consent_block(patient_key, consent_id, actor_kind, actor_id,
valid_from, valid_until)`` from :func:`block_rows` (``actor_kind`` ``everyone`` has ``actor_id``
``*``; ``valid_until`` is exclusive, NULL = open).  A query run for principal P adds, when
:func:`consent_filter_applies` (P) is true::

    AND NOT EXISTS (SELECT 1 FROM consent_block b
                    WHERE b.patient_key = r.patient_key
                      AND (b.actor_kind, b.actor_id) IN (:actor_keys)      -- actor_keys(P)
                      AND (b.valid_from IS NULL OR b.valid_from <= :now)
                      AND (b.valid_until IS NULL OR b.valid_until > :now))

It does not apply to a citizen reading their own data (the query is already limited to their
CPR) nor to an emergency override (purpose emergency + reason; the access is audited as an
override).  Withheld rows are simply absent; the response carries a generic warning only.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.core.errors import ValidationFailedError
from hub.core.issues import Issue, IssueSeverity, IssueType
from security.principal import (
    AUTHORISATION_SYSTEM,
    CPR_SYSTEM,
    SOR_SYSTEM,
    Principal,
    is_valid_authorisation_id,
    is_valid_cpr,
    is_valid_sor,
)

CATEGORY_SYSTEM = "http://telehub.dk/fhir/CodeSystem/dk-consent-category"
CATEGORY_CODE = "negative-consent"
SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
SCOPE_CODE = "patient-privacy"
EVERYONE_ID = "*"

_PATIENT_REFERENCE = re.compile(r"^Patient/([A-Za-z0-9\-.]{1,64})$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_Problem = Callable[[str, str], None]
_UNENFORCEABLE = ("provision", "data", "class", "code", "action", "purpose", "securityLabel", "dataPeriod")


class ActorKind(enum.Enum):
    EVERYONE = "everyone"
    AUTHORISATION_ID = "authorisation-id"
    ORGANISATION_SOR = "organisation-sor"


class ConsentOutcome(enum.Enum):
    NOT_BLOCKED = "not-blocked"
    BLOCKED = "blocked"
    OVERRIDDEN = "overridden"  # a block applied but værdispring lifted it: audit as an override


@dataclass(frozen=True, slots=True)
class BlockedActor:
    kind: ActorKind
    identifier: str  # "*" for everyone


@dataclass(frozen=True, slots=True)
class ConsentDirective:
    """One enforceable block: whose data, blocked from whom, when."""

    consent_id: str | None
    patient_cpr: str | None
    patient_id: str | None
    actors: tuple[BlockedActor, ...]  # (EVERYONE, "*") alone when everyone is blocked
    valid_from: datetime | None
    valid_until: datetime | None  # exclusive

    def in_force(self, now: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and (
            self.valid_until is None or now < self.valid_until
        )


@dataclass(frozen=True, slots=True)
class ConsentBlockRow:
    """A storage row; see the module docstring for the query semantics."""

    consent_id: str | None
    patient_cpr: str | None
    patient_id: str | None
    actor_kind: str
    actor_id: str
    valid_from: datetime | None
    valid_until: datetime | None


def parse_consent(resource: Mapping[str, Any]) -> ConsentDirective:
    """The directive of a negative-consent Consent; ValidationFailedError (422) listing every problem."""
    issues: list[Issue] = []

    def problem(expression: str, message: str) -> None:
        issues.append(Issue(IssueSeverity.ERROR, IssueType.BUSINESS_RULE, message, expression=(expression,)))

    if resource.get("resourceType") != "Consent":
        problem("resourceType", "not a Consent resource")
    if "modifierExtension" in resource:
        problem("Consent.modifierExtension", "modifier extensions cannot be enforced")
    if resource.get("status") != "active":
        problem("Consent.status", "status must be 'active' (withdraw a block by deleting its Consent)")
    if not _has_coding(resource.get("scope"), SCOPE_SYSTEM, SCOPE_CODE):
        problem("Consent.scope", f"scope must be {SCOPE_SYSTEM}#{SCOPE_CODE}")
    categories = resource.get("category")
    if not isinstance(categories, list) or not any(
        _has_coding(c, CATEGORY_SYSTEM, CATEGORY_CODE) for c in categories
    ):
        problem("Consent.category", f"category must include {CATEGORY_SYSTEM}#{CATEGORY_CODE}")
    patient_cpr, patient_id = _patient(resource.get("patient"), problem)
    provision = resource.get("provision")
    actors: tuple[BlockedActor, ...] = ()
    valid_from = valid_until = None
    if not isinstance(provision, Mapping):
        problem("Consent.provision", "provision with type 'deny' is required")
    else:
        if provision.get("type") != "deny":
            problem("Consent.provision.type", "provision.type must be 'deny' (negative consent)")
        for key in _UNENFORCEABLE:
            if key in provision:
                message = f"provision.{key} cannot be enforced; only whole records are blocked"
                problem(f"Consent.provision.{key}", message)
        if "modifierExtension" in provision:
            problem("Consent.provision.modifierExtension", "modifier extensions cannot be enforced")
        actors = _actors(provision.get("actor"), problem)
        valid_from, valid_until = _period(provision.get("period"), problem)
    if issues:
        raise ValidationFailedError(
            "Consent refused: telehub can only enforce Danish negative consent in the documented shape",
            issues=issues,
        )
    consent_id = resource.get("id")
    return ConsentDirective(
        consent_id=consent_id if isinstance(consent_id, str) else None,
        patient_cpr=patient_cpr,
        patient_id=patient_id,
        actors=actors,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _has_coding(concept: Any, system: str, code: str) -> bool:
    if not isinstance(concept, Mapping) or not isinstance(concept.get("coding"), list):
        return False
    codings = [c for c in concept["coding"] if isinstance(c, Mapping)]
    return any(c.get("system") == system and c.get("code") == code for c in codings)


def _patient(patient: Any, problem: _Problem) -> tuple[str | None, str | None]:
    if not isinstance(patient, Mapping):
        problem("Consent.patient", "patient is required (CPR identifier or Patient/<id> reference)")
        return None, None
    cpr = patient_id = None
    if "reference" in patient:
        match = _PATIENT_REFERENCE.match(str(patient["reference"]))
        if match is None:
            problem("Consent.patient.reference", "patient.reference must be 'Patient/<id>'")
        else:
            patient_id = match.group(1)
    identifier = patient.get("identifier")
    if identifier is not None:
        if not isinstance(identifier, Mapping) or identifier.get("system") != CPR_SYSTEM:
            problem("Consent.patient.identifier", f"patient.identifier must have system {CPR_SYSTEM}")
        elif not is_valid_cpr(str(identifier.get("value", ""))):
            problem("Consent.patient.identifier.value", "patient CPR must be 10 digits starting with DDMMYY")
        else:
            cpr = str(identifier["value"])
    if cpr is None and patient_id is None and "reference" not in patient and identifier is None:
        problem("Consent.patient", "patient must give a CPR identifier or a Patient/<id> reference")
    return cpr, patient_id


def _actors(actors: Any, problem: _Problem) -> tuple[BlockedActor, ...]:
    if actors is None:
        return (BlockedActor(ActorKind.EVERYONE, EVERYONE_ID),)
    if not isinstance(actors, list) or not actors:
        problem("Consent.provision.actor", "provision.actor must be a non-empty list, or absent (everyone)")
        return ()
    found: list[BlockedActor] = []
    for index, actor in enumerate(actors):
        where = f"Consent.provision.actor[{index}].reference"
        reference = actor.get("reference") if isinstance(actor, Mapping) else None
        identifier = reference.get("identifier") if isinstance(reference, Mapping) else None
        if not isinstance(reference, Mapping) or set(reference) - {"identifier", "display", "type"}:
            problem(where, "actor must be given as reference.identifier only (no literal references)")
            continue
        if not isinstance(identifier, Mapping):
            problem(where + ".identifier", "actor reference.identifier is required")
            continue
        system, value = identifier.get("system"), str(identifier.get("value", "")).strip()
        if system == AUTHORISATION_SYSTEM and is_valid_authorisation_id(value.upper()):
            found.append(BlockedActor(ActorKind.AUTHORISATION_ID, value.upper()))
        elif system == SOR_SYSTEM and is_valid_sor(value):
            found.append(BlockedActor(ActorKind.ORGANISATION_SOR, value))
        elif system in (AUTHORISATION_SYSTEM, SOR_SYSTEM):
            problem(where + ".identifier.value", f"{value!r} is not a valid identifier for {system}")
        else:
            problem(
                where + ".identifier.system",
                f"actor identifier system must be {AUTHORISATION_SYSTEM} or {SOR_SYSTEM}",
            )
    return tuple(found)


def _period(period: Any, problem: _Problem) -> tuple[datetime | None, datetime | None]:
    if period is None:
        return None, None
    if not isinstance(period, Mapping):
        problem("Consent.provision.period", "period must be an object")
        return None, None
    where = "Consent.provision.period"
    start = _instant(period.get("start"), end=False, expression=f"{where}.start", problem=problem)
    end = _instant(period.get("end"), end=True, expression=f"{where}.end", problem=problem)
    if start and end and end <= start:
        problem("Consent.provision.period", "period.end must be after period.start")
    return start, end


def _instant(value: Any, *, end: bool, expression: str, problem: _Problem) -> datetime | None:
    """A FHIR date/dateTime as an instant; a partial date covers its whole span (UTC)."""
    if value is None:
        return None
    text = str(value)
    if _DATE.match(text):
        parts = [int(p) for p in text.split("-")]
        year, month, day = parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
        try:
            start = datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            problem(expression, f"{text!r} is not a valid date")
            return None
        if not end:
            return start
        if len(parts) == 3:
            return start + timedelta(days=1)
        if len(parts) == 2:
            return datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        problem(expression, f"{text!r} is not a FHIR date or dateTime")
        return None
    if parsed.tzinfo is None:
        problem(expression, f"{text!r} has a time but no time zone")
        return None
    return parsed.astimezone(UTC)


def block_rows(directive: ConsentDirective) -> tuple[ConsentBlockRow, ...]:
    """The storage rows of one directive (one per blocked actor)."""
    return tuple(
        ConsentBlockRow(
            consent_id=directive.consent_id,
            patient_cpr=directive.patient_cpr,
            patient_id=directive.patient_id,
            actor_kind=actor.kind.value,
            actor_id=actor.identifier,
            valid_from=directive.valid_from,
            valid_until=directive.valid_until,
        )
        for actor in directive.actors
    )


def actor_keys(principal: Principal) -> tuple[tuple[str, str], ...]:
    """The (actor_kind, actor_id) pairs a block row must match to block ``principal``."""
    keys = [(ActorKind.EVERYONE.value, EVERYONE_ID)]
    if principal.authorisation_id:
        keys.append((ActorKind.AUTHORISATION_ID.value, principal.authorisation_id.upper()))
    if principal.organisation_sor:
        keys.append((ActorKind.ORGANISATION_SOR.value, principal.organisation_sor))
    return tuple(keys)


def consent_filter_applies(principal: Principal) -> bool:
    """False for citizens (limited to their own data anyway) and for an emergency override."""
    return not principal.is_citizen and not principal.emergency_override


def consent_outcome(
    directives: Iterable[ConsentDirective], principal: Principal, *, now: datetime | None = None
) -> ConsentOutcome:
    """For one patient's directives: is ``principal`` blocked, not blocked, or let through by override?"""
    if principal.is_citizen:
        return ConsentOutcome.NOT_BLOCKED
    moment = now or datetime.now(UTC)
    keys = set(actor_keys(principal))
    blocked = any(
        d.in_force(moment) and any((a.kind.value, a.identifier) in keys for a in d.actors) for d in directives
    )
    if not blocked:
        return ConsentOutcome.NOT_BLOCKED
    return ConsentOutcome.OVERRIDDEN if principal.emergency_override else ConsentOutcome.BLOCKED


def is_blocked(
    directives: Iterable[ConsentDirective], principal: Principal, *, now: datetime | None = None
) -> bool:
    """True when a directive in force blocks ``principal`` and no emergency override lifts it."""
    return consent_outcome(directives, principal, now=now) is ConsentOutcome.BLOCKED
