"""Audit records (IHE BALP shape), their canonical bytes, and the tamper-evident hash chain.

Every interaction — including failed and denied ones — yields one :class:`AuditRecord`: who
(agent, with organisation SOR and IT system), what (:class:`AuditAction`: FHIR interactions,
ITI-18/41/42/43/57/62 and MHD ITI-65/67/68, login failure, consent denial, emergency override, and the
operator actions of the command line),
which patient, which resources or documents, the outcome, the purpose of use and — for
værdispring — the override reason, plus the authorisation decision's reason.  The shape follows
IHE Basic Audit Log Patterns (BALP, https://profiles.ihe.net/ITI/BALP/); its FHIR R4 rendering is
:func:`security.audit_event.to_audit_event`.

Storage (hub.storage) appends rows ``(seq, prev_hash, row_hash, record_bytes)`` in the same
transaction as the change: ``record_bytes = canonical_bytes(record)`` (sorted-key compact UTF-8
JSON, version 1), ``row_hash = chain_hash(prev_hash, record_bytes)`` = SHA-256 over the previous
row's hash and these bytes, the first row chaining from :data:`GENESIS_HASH`.  :func:`verify_chain`
walks the rows in ``seq`` order and returns the first broken one: an edited row no longer matches
its hash; a deleted, inserted or reordered row breaks the next row's ``prev_hash`` or the ``seq``
sequence.  Truncating the newest rows is only visible against an externally kept head hash.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from security.principal import Principal, PurposeOfUse

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class AuditAction(enum.Enum):
    READ = "read"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VALIDATE = "validate"
    TRANSACTION = "transaction"
    INSTALL_PACKAGE = "install-package"
    INSTALL_PACK = "install-pack"  # a CDA schema or schematron pack (``telehub packs install``)
    MIGRATE = "migrate"  # operator actions of the command line (``hub.cli.operator_audit``)
    REINDEX = "reindex"
    COLLECT_BLOBS = "collect-blobs"
    VERIFY_AUDIT = "verify-audit"
    ITI_18 = "ITI-18"
    ITI_41 = "ITI-41"
    ITI_42 = "ITI-42"
    ITI_43 = "ITI-43"
    ITI_57 = "ITI-57"
    ITI_62 = "ITI-62"
    ITI_65 = "ITI-65"
    ITI_67 = "ITI-67"
    ITI_68 = "ITI-68"
    LOGIN_FAILURE = "login-failure"
    CONSENT_DENIAL = "consent-denial"
    EMERGENCY_OVERRIDE = "emergency-override"


class AuditOutcome(enum.Enum):
    """http://hl7.org/fhir/audit-event-outcome"""

    SUCCESS = "0"
    MINOR_FAILURE = "4"  # refused: authentication, authorisation or consent
    SERIOUS_FAILURE = "8"  # the request failed
    MAJOR_FAILURE = "12"  # the service failed


class EntityKind(enum.Enum):
    RESOURCE = "resource"  # "Observation/123/_history/2"
    DOCUMENT = "document"  # an XDS DocumentEntry uniqueId
    SUBMISSION_SET = "submission-set"  # an XDS SubmissionSet uniqueId
    QUERY = "query"  # search parameters or a stored-query id with its parameters
    CONFIGURATION = "configuration"  # an installed package or pack: "hl7.fhir.r4.core#4.0.1"
    DATA_STORE = "data-store"  # the database, the blob store or the audit log an operator acted on


@dataclass(frozen=True, slots=True)
class AuditAgent:
    """Who acted, from which organisation and IT system."""

    subject: str | None
    roles: tuple[str, ...] = ()
    name: str | None = None
    cpr: str | None = None
    authorisation_id: str | None = None
    organisation_sor: str | None = None
    it_system: str | None = None
    network_address: str | None = None

    @classmethod
    def from_principal(cls, principal: Principal, *, network_address: str | None = None) -> AuditAgent:
        return cls(
            subject=principal.subject,
            roles=tuple(sorted(r.value for r in principal.roles)),
            name=principal.name,
            cpr=principal.cpr,
            authorisation_id=principal.authorisation_id,
            organisation_sor=principal.organisation_sor,
            it_system=principal.it_system,
            network_address=network_address,
        )


@dataclass(frozen=True, slots=True)
class AuditEntity:
    kind: EntityKind
    identifier: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    record_id: str
    recorded: datetime  # timezone-aware; serialised in UTC with microseconds
    action: AuditAction
    outcome: AuditOutcome
    agent: AuditAgent
    patient_cpr: str | None = None
    patient_id: str | None = None
    entities: tuple[AuditEntity, ...] = ()
    purpose_of_use: PurposeOfUse | None = None
    override: bool = False
    override_reason: str | None = None
    decision_reason: str | None = None
    outcome_description: str | None = None

    @classmethod
    def new(cls, action: AuditAction, outcome: AuditOutcome, agent: AuditAgent, **fields: Any) -> AuditRecord:
        """A record with a fresh UUID and the current time."""
        now = datetime.now(UTC)
        return cls(str(uuid.uuid4()), now, action, outcome, agent, **fields)


def _time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(UTC).strftime(_TIME_FORMAT)


def canonical_bytes(record: AuditRecord) -> bytes:
    """The one byte form that is hashed: sorted keys, no whitespace, UTF-8, times in UTC."""
    agent = record.agent
    document = {
        "v": FORMAT_VERSION,
        "id": record.record_id,
        "recorded": _time(record.recorded),
        "action": record.action.value,
        "outcome": record.outcome.value,
        "agent": {
            "subject": agent.subject,
            "roles": list(agent.roles),
            "name": agent.name,
            "cpr": agent.cpr,
            "authorisation_id": agent.authorisation_id,
            "organisation_sor": agent.organisation_sor,
            "it_system": agent.it_system,
            "network_address": agent.network_address,
        },
        "patient_cpr": record.patient_cpr,
        "patient_id": record.patient_id,
        "entities": [[e.kind.value, e.identifier, e.description] for e in record.entities],
        "purpose_of_use": record.purpose_of_use.value if record.purpose_of_use else None,
        "override": record.override,
        "override_reason": record.override_reason,
        "decision_reason": record.decision_reason,
        "outcome_description": record.outcome_description,
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def record_from_bytes(data: bytes) -> AuditRecord:
    """Inverse of :func:`canonical_bytes`; ValueError for anything that is not a version-1 record."""
    try:
        d = orjson.loads(data)
        if d.get("v") != FORMAT_VERSION:
            raise ValueError(f"unknown audit record format version {d.get('v')!r}")
        a = d["agent"]
        return AuditRecord(
            record_id=d["id"],
            recorded=datetime.strptime(d["recorded"], _TIME_FORMAT).replace(tzinfo=UTC),
            action=AuditAction(d["action"]),
            outcome=AuditOutcome(d["outcome"]),
            agent=AuditAgent(
                subject=a["subject"],
                roles=tuple(a["roles"]),
                name=a["name"],
                cpr=a["cpr"],
                authorisation_id=a["authorisation_id"],
                organisation_sor=a["organisation_sor"],
                it_system=a["it_system"],
                network_address=a["network_address"],
            ),
            patient_cpr=d["patient_cpr"],
            patient_id=d["patient_id"],
            entities=tuple(AuditEntity(EntityKind(k), i, desc) for k, i, desc in d["entities"]),
            purpose_of_use=PurposeOfUse(d["purpose_of_use"]) if d["purpose_of_use"] else None,
            override=bool(d["override"]),
            override_reason=d["override_reason"],
            decision_reason=d["decision_reason"],
            outcome_description=d["outcome_description"],
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a canonical audit record: {exc}") from exc


def chain_hash(prev_hash: str, record_bytes: bytes) -> str:
    """SHA-256 (hex) over the previous row's hash and this row's canonical bytes."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(record_bytes)
    return digest.hexdigest()


class AuditChainRow(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def row_hash(self) -> str: ...

    @property
    def record_bytes(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ChainRow:
    seq: int
    prev_hash: str
    row_hash: str
    record_bytes: bytes


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def chain_rows(
    records: Iterable[AuditRecord], *, prev_hash: str = GENESIS_HASH, first_seq: int = 1
) -> list[ChainRow]:
    """Rows for ``records`` appended after a row whose hash is ``prev_hash``."""
    rows: list[ChainRow] = []
    for offset, record in enumerate(records):
        data = canonical_bytes(record)
        row_hash = chain_hash(prev_hash, data)
        rows.append(ChainRow(first_seq + offset, prev_hash, row_hash, data))
        prev_hash = row_hash
    return rows


def verify_chain(rows: Iterable[AuditChainRow], *, start_hash: str = GENESIS_HASH) -> ChainBreak | None:
    """The first broken row of ``rows`` (in seq order), or None when the whole chain holds."""
    expected_prev = start_hash
    expected_seq: int | None = None
    for row in rows:
        if expected_seq is not None and row.seq != expected_seq:
            return ChainBreak(row.seq, f"sequence gap: expected row {expected_seq} (rows deleted/reordered)")
        if row.prev_hash != expected_prev:
            return ChainBreak(row.seq, "prev_hash does not match the previous row (row deleted/inserted)")
        if chain_hash(row.prev_hash, row.record_bytes) != row.row_hash:
            return ChainBreak(row.seq, "row content does not match its hash (row edited)")
        expected_prev, expected_seq = row.row_hash, row.seq + 1
    return None
