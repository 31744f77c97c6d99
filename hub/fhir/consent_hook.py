"""Danish negative consent on the FHIR door: a Consent is accepted only in the one shape telehub can enforce
(security.consent; anything else is 422 and never stored), and its blocks are kept as ``consent_block`` rows,
keyed by the patient's CPR, in the same transaction as the Consent itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import BlockRow, patient_keys_txn, replace_blocks_txn
from security import block_rows, parse_consent


def _us(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1_000_000) if moment is not None else None


class ConsentHook:
    resource_type = "Consent"

    def check(self, body: dict[str, Any]) -> None:
        parse_consent(body)  # ValidationFailedError (422) listing every problem

    async def on_write_txn(self, conn: AsyncConnection, rid: int, body: dict[str, Any] | None) -> None:
        if body is None:
            await replace_blocks_txn(conn, rid, ())
            return
        directive = parse_consent(body)
        key = directive.patient_cpr
        if key is None and directive.patient_id is not None:
            key = (await patient_keys_txn(conn, [directive.patient_id])).get(
                directive.patient_id, directive.patient_id
            )
        assert key is not None  # parse_consent requires a patient
        rows = [
            BlockRow(key, r.actor_kind, r.actor_id, _us(r.valid_from), _us(r.valid_until))
            for r in block_rows(directive)
        ]
        await replace_blocks_txn(conn, rid, rows)
