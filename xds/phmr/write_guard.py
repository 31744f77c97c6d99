"""DocumentReference is a view of the XDS registry: generic FHIR writes of it are refused (405).

ARCHITECTURE.md ("one native registry; MHD is a view"): a DocumentReference never lives in the generic
resource store.  Documents enter through ``POST /fhir/$submit-document`` or ITI-41 Provide and Register,
and change through ITI-57 / ITI-62.  :class:`DocumentReferenceWriteGuard` is a ``hub.fhir`` WriteHook, so
the refusal also covers DocumentReference entries inside transaction and batch Bundles.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import MethodNotAllowedError

REFUSAL = (
    "DocumentReference is served from the XDS registry and cannot be written directly: submit the document "
    "with POST /fhir/$submit-document or ITI-41 (POST /xds/repository); change it with ITI-57 / ITI-62 "
    "(POST /xds/registry)"
)


def refusal() -> MethodNotAllowedError:
    return MethodNotAllowedError(REFUSAL, message_id="TH-DOCREF-READ-ONLY")


class DocumentReferenceWriteGuard:
    """WriteHook refusing every create/update/patch of DocumentReference through the FHIR store."""

    resource_type = "DocumentReference"

    def check(self, body: dict[str, Any]) -> None:
        raise refusal()

    async def on_write_txn(self, conn: AsyncConnection, rid: int, body: dict[str, Any] | None) -> None:
        return None  # never reached: check() refuses first


__all__ = ["REFUSAL", "DocumentReferenceWriteGuard", "refusal"]
