"""``patient_ids_of_key_txn``: the live Patients of a patient key (the CPR), at most two - how a PHMR's
Observations decide whether to point at THE Patient of their CPR (xds.phmr.measurement_writes)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import Database, insert_new_txn, patient_ids_of_key_txn

CPR = "2512484916"


async def _patient(conn: AsyncConnection, res_id: str, key: str, res_type: str = "Patient") -> None:
    await insert_new_txn(
        conn,
        res_type=res_type,
        res_id=res_id,
        last_updated=1,
        patient_key=key,
        data=b"{}",
        method="PUT",
        index=(),
    )


async def test_none_one_two_and_deleted(database: Database) -> None:
    assert await database.run("t", patient_ids_of_key_txn, CPR) == []
    await database.run_write("t", _patient, "p1", CPR)
    await database.run_write("t", _patient, "o1", CPR, "Observation")  # not a Patient
    await database.run_write("t", _patient, "p9", "0101701234")  # another patient
    assert await database.run("t", patient_ids_of_key_txn, CPR) == ["p1"]
    await database.run_write("t", _patient, "p2", CPR)
    await database.run_write("t", _patient, "p3", CPR)
    assert await database.run("t", patient_ids_of_key_txn, CPR) == ["p1", "p2"]  # two are enough to know

    async def delete(conn: AsyncConnection) -> None:
        await conn.execute(
            text("UPDATE resource SET deleted = :yes WHERE res_id IN ('p1', 'p2')"), {"yes": True}
        )

    await database.run_write("t", delete)
    assert await database.run("t", patient_ids_of_key_txn, CPR) == ["p3"]
