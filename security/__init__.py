"""Security: Principal, OAuth2 JWT and DGWS/SAML authentication, authorisation, Danish consent, audit.

Layer L1 (imports only hub.core).  See issue 6 and DANISH-STANDARDS.md §3.  Entry points:
:class:`Authenticator` (credentials -> :class:`Principal`), :func:`decide` (one role table),
:func:`parse_consent` / :func:`consent_outcome` (negative consent), :class:`AuditRecord`,
:func:`to_audit_event` and :func:`verify_chain` (hash-chained audit).
"""

from security.access_log import DATA_ACCESS_ACTIONS, AccessLogEntry, citizen_access_log
from security.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditAgent,
    AuditChainRow,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    ChainBreak,
    ChainRow,
    EntityKind,
    canonical_bytes,
    chain_hash,
    chain_rows,
    record_from_bytes,
    verify_chain,
)
from security.audit_event import to_audit_event
from security.authentication import (
    OPEN_MODE_WARNING,
    PURPOSE_HEADER,
    REASON_HEADER,
    Authenticator,
    Door,
)
from security.authorization import Action, Decision, ResourceClass, decide, resource_class
from security.consent import (
    ActorKind,
    BlockedActor,
    ConsentBlockRow,
    ConsentDirective,
    ConsentOutcome,
    actor_keys,
    block_rows,
    consent_filter_applies,
    consent_outcome,
    is_blocked,
    parse_consent,
)
from security.dev_issuer import DevCredentialRequest, DevIssuer
from security.jwt_auth import JwtVerifier, RemoteJwks, StaticJwks
from security.principal import (
    AuthenticationMethod,
    Principal,
    PurposeOfUse,
    Role,
    parse_purpose,
)
from security.saml import (
    IdCardVerifier,
    InMemoryReplayCache,
    ReplayCache,
    ReplayClaim,
    read_id_card_untrusted,
)
from security.scopes import Permission, ScopeContext, SmartScope, parse_scopes, scopes_permit

__all__ = [
    "DATA_ACCESS_ACTIONS",
    "GENESIS_HASH",
    "OPEN_MODE_WARNING",
    "PURPOSE_HEADER",
    "REASON_HEADER",
    "AccessLogEntry",
    "Action",
    "ActorKind",
    "AuditAction",
    "AuditAgent",
    "AuditChainRow",
    "AuditEntity",
    "AuditOutcome",
    "AuditRecord",
    "AuthenticationMethod",
    "Authenticator",
    "BlockedActor",
    "ChainBreak",
    "ChainRow",
    "ConsentBlockRow",
    "ConsentDirective",
    "ConsentOutcome",
    "Decision",
    "DevCredentialRequest",
    "DevIssuer",
    "Door",
    "EntityKind",
    "IdCardVerifier",
    "InMemoryReplayCache",
    "JwtVerifier",
    "Permission",
    "Principal",
    "PurposeOfUse",
    "RemoteJwks",
    "ReplayCache",
    "ReplayClaim",
    "ResourceClass",
    "Role",
    "ScopeContext",
    "SmartScope",
    "StaticJwks",
    "actor_keys",
    "block_rows",
    "canonical_bytes",
    "chain_hash",
    "chain_rows",
    "citizen_access_log",
    "consent_filter_applies",
    "consent_outcome",
    "decide",
    "is_blocked",
    "parse_consent",
    "parse_purpose",
    "parse_scopes",
    "read_id_card_untrusted",
    "record_from_bytes",
    "resource_class",
    "scopes_permit",
    "to_audit_event",
    "verify_chain",
]
