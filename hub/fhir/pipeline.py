"""The write/read pipeline seams: authorise → consent → validate → persist + index → audit.

Each stage is a Protocol with a Null implementation that is explicit in
configuration (Warehouse's "Null services are first-class").  ``hub.app`` wires
the real implementations from ``security`` and ``profiles``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import ErrorCategory
from hub.core.issues import Issue
from hub.fhir.context import RequestContext
from hub.storage import ConsentBlock


class Action(enum.Enum):
    READ = "read"
    VREAD = "vread"
    SEARCH = "search"
    HISTORY = "history"
    CREATE = "create"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"
    VALIDATE = "validate"
    TRANSACTION = "transaction"
    BATCH = "batch"
    CAPABILITIES = "capabilities"
    CONSENT_DENIAL = "consent-denial"  # audit only: data withheld by negative consent


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """What the policy allows; ``consent`` is the filter pushed into queries (None: nothing to filter)."""

    reason: str
    consent: ConsentBlock | None = None
    patient_key: str | None = None  # a citizen may only see this patient compartment
    override: bool = False


class AccessPolicy(Protocol):
    def check(
        self,
        ctx: RequestContext,
        action: Action,
        resource_type: str | None,
        resource: dict[str, Any] | None = None,
    ) -> AccessDecision:
        """Decide or raise AuthenticationError / ForbiddenError."""


class WriteValidator(Protocol):
    def validate_for_write(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues of a resource about to be stored (per-type level off/base/profiles)."""

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Issue]:
        """Issues for ``$validate``."""

    def checks_structure(self, resource_type: str) -> bool:
        """Whether :meth:`validate_for_write` walks the type's whole base definition (``hl7.fhir.r4.core``
        loaded, level not ``off``): every property, JSON type and primitive format the hub's own structure
        check (``hub.fhir.structure``) looks at."""

    def conformance_resource_changed(self, resource: dict[str, Any], deleted: bool) -> None:
        """A StructureDefinition/ValueSet/CodeSystem/SearchParameter was written through the API."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: Action
    outcome: str  # "0" success, "4" minor failure, "8" serious failure (AuditEvent.outcome)
    resource_type: str | None
    resource_ids: tuple[str, ...]
    patient_keys: tuple[str, ...]
    detail: str = ""


class AuditTrail(Protocol):
    async def record_txn(
        self, conn: AsyncConnection, ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None
    ) -> None:
        """Append in the caller's transaction (a change and its audit commit together)."""

    async def record(self, ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None) -> None:
        """Append for a read or a refusal (may be batched off the response path)."""

    def record_failure(
        self,
        ctx: RequestContext,
        action: Action,
        resource_type: str | None,
        category: ErrorCategory,
        message: str,
    ) -> None:
        """A request that failed or was refused (batched: it changed nothing)."""

    async def close(self) -> None:
        """Flush whatever is batched (at shutdown)."""


class AllowAllPolicy:
    """Explicit ``open`` security mode: every request allowed, nothing filtered."""

    def check(
        self,
        ctx: RequestContext,
        action: Action,
        resource_type: str | None,
        resource: dict[str, Any] | None = None,
    ) -> AccessDecision:
        return AccessDecision(reason="security mode open: no authorisation configured")


class NullWriteValidator:
    """Validation level ``off``."""

    def validate_for_write(self, resource: dict[str, Any]) -> list[Issue]:
        return []

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Issue]:
        return []

    def checks_structure(self, resource_type: str) -> bool:
        return False

    def conformance_resource_changed(self, resource: dict[str, Any], deleted: bool) -> None:
        return None


class NullAuditTrail:
    """Audit disabled (tests of other concerns only; never the default of `serve`)."""

    async def record_txn(
        self, conn: AsyncConnection, ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None
    ) -> None:
        return None

    async def record(self, ctx: RequestContext, entry: AuditEntry, decision: AccessDecision | None) -> None:
        return None

    def record_failure(
        self,
        ctx: RequestContext,
        action: Action,
        resource_type: str | None,
        category: ErrorCategory,
        message: str,
    ) -> None:
        return None

    async def close(self) -> None:
        return None
