"""FhirService: the dependencies every FHIR interaction needs, wired once by ``hub.app``.

Interactions live one per module in ``hub.fhir.interactions`` (Blaze style) and
take the service as their first argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.instants import MonotonicClock
from hub.core.settings import Settings
from hub.fhir.indexing import ResourceIndexer
from hub.fhir.pipeline import AccessPolicy, AuditTrail, WriteValidator
from hub.fhir.resource_types import SUPPORTED_TYPES
from hub.storage import Database


class WriteHook(Protocol):
    """Keeps rows derived from a resource (e.g. consent blocks) in step, inside the write transaction."""

    resource_type: str

    def check(self, body: dict[str, Any]) -> None:
        """Before the transaction: raise (e.g. 422) when the resource cannot be honoured."""

    async def on_write_txn(self, conn: AsyncConnection, rid: int, body: dict[str, Any] | None) -> None:
        """``body`` is None when the resource was deleted."""


@dataclass(slots=True)
class FhirService:
    settings: Settings
    db: Database
    indexer: ResourceIndexer
    policy: AccessPolicy
    validator: WriteValidator
    audit: AuditTrail
    hooks: tuple[WriteHook, ...] = ()
    supported_types: frozenset[str] = SUPPORTED_TYPES
    clock: MonotonicClock = field(default_factory=MonotonicClock)

    def run_checks(self, resource_type: str, body: dict[str, Any]) -> None:
        for hook in self.hooks:
            if hook.resource_type == resource_type:
                hook.check(body)

    async def run_hooks_txn(
        self, conn: AsyncConnection, resource_type: str, rid: int, body: dict[str, Any] | None
    ) -> None:
        for hook in self.hooks:
            if hook.resource_type == resource_type:
                await hook.on_write_txn(conn, rid, body)
