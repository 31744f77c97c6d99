"""SQL for the rows derived from negative-consent Consent resources (``consent_block``), kept in step with
the Consent in the same transaction; queries exclude blocked patients with ``search_sql.consent_clause``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.schema import consent_block


@dataclass(frozen=True, slots=True)
class BlockRow:
    patient_key: str
    actor_kind: str
    actor_id: str
    valid_from_us: int | None
    valid_until_us: int | None


async def replace_blocks_txn(conn: AsyncConnection, consent_rid: int, rows: Sequence[BlockRow]) -> None:
    """The block rows of one Consent become exactly ``rows`` (none when it was deleted)."""
    await conn.execute(delete(consent_block).where(consent_block.c.consent_rid == consent_rid))
    if rows:
        await conn.execute(
            insert(consent_block),
            [
                {
                    "consent_rid": consent_rid,
                    "patient_key": r.patient_key,
                    "actor_kind": r.actor_kind,
                    "actor_id": r.actor_id,
                    "valid_from_us": r.valid_from_us,
                    "valid_until_us": r.valid_until_us,
                }
                for r in rows
            ],
        )
