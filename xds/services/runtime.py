"""What every XDS transaction needs: database, blob store, settings, processors, audit - and the one
authorisation step (issue 6: ``security.decide`` with the transaction's action, refusals audited).

``XdsRuntime`` is built once by :class:`xds.services.service.XdsService`; the transaction modules
(``provide_and_register``, ``register``, ``update``, ``delete``, ``retrieve``, ``stored_query``) are
functions of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.core.errors import ForbiddenError
from hub.core.instants import now_us
from hub.core.settings import Settings
from hub.fhir import AuditWriter
from hub.storage import BlobStore, ConsentBlock, Database
from security import (
    Action,
    AuditAction,
    AuditOutcome,
    Decision,
    Principal,
    actor_keys,
    consent_filter_applies,
    decide,
)
from xds.registry_rules import RuleOptions
from xds.services.audit_records import AuditFacts, audit_rows
from xds.services.processing import ProcessorRegistry, SubmissionContext

# The FHIR face of XDS documents: authorisation treats every registry object as clinical document data.
DOCUMENT_RESOURCE = "DocumentReference"
# Documents larger than this are stored and registered but never read into memory for processors.
MAX_PROCESSED_BYTES = 20 * 1024 * 1024
_CPR_LENGTH = 10


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, from where (for decisions and audit)."""

    principal: Principal
    client_address: str = ""


@dataclass(slots=True)
class XdsRuntime:
    db: Database
    blobs: BlobStore
    settings: Settings
    processors: ProcessorRegistry
    audit: AuditWriter

    @property
    def options(self) -> RuleOptions:
        return RuleOptions.from_settings(self.settings.xds)

    def context(self, caller: Caller, transaction: str) -> SubmissionContext:
        return SubmissionContext(
            engine=self.db.engine,
            principal=caller.principal,
            transaction=transaction,
            now_us=now_us(),
        )

    def authorize(
        self,
        caller: Caller,
        action: Action,
        audit_action: AuditAction,
        patient_keys: Iterable[str | None] = (),
    ) -> Decision:
        """The decision for ``action`` on every patient given (or role-level when none is known).

        A refusal is audited (minor failure) and raised as :class:`ForbiddenError`.
        """
        keys: list[str | None] = [*sorted({k for k in patient_keys if k})] or [None]
        decision: Decision | None = None
        for key in keys:
            cpr = key if key is not None and key.isdigit() and len(key) == _CPR_LENGTH else None
            decision = decide(caller.principal, action, DOCUMENT_RESOURCE, patient_cpr=cpr)
            if not decision.allowed:
                refusal = AuditFacts(
                    audit_action,
                    AuditOutcome.MINOR_FAILURE,
                    patient_keys=tuple(k for k in keys if k),
                    decision_reason=decision.reason,
                    detail=decision.reason,
                )
                self.record(caller, refusal)
                raise ForbiddenError(decision.reason, message_id="TH-XDS-FORBIDDEN")
        assert decision is not None
        return decision

    def consent(self, caller: Caller) -> ConsentBlock | None:
        """The consent filter pushed into registry/repository queries (None: nothing to filter)."""
        if not consent_filter_applies(caller.principal):
            return None
        return ConsentBlock(actor_keys=actor_keys(caller.principal), now_us=now_us())

    def record(self, caller: Caller, facts: AuditFacts) -> None:
        """Queue the records of a refusal or a failure (batched, off the response path)."""
        self.audit.submit(audit_rows(caller.principal, facts, client_address=caller.client_address))

    async def release(self, caller: Caller, facts: AuditFacts) -> None:
        """Record a read that releases data: queued, or committed first (``security.read_audit=durable``)."""
        await self.audit.release(audit_rows(caller.principal, facts, client_address=caller.client_address))
