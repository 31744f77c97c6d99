"""``TELEHUB_SECURITY__READ_AUDIT=durable``: the record of a read is committed before its data leaves (FHIR
and XDS doors, each engine); concurrent reads share commits; when the record cannot be written the read fails
and releases nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from conformance.suites.xds_client import XdsClient
from hub.fhir.audit_trail import AuditWriter
from hub.storage import AuditRow, Database, audit_rows_txn
from tests import xds_builders as b
from tests.integration.conftest import make_settings
from tests.integration.phmr.conftest import running_hub
from tests.xds_calls import APPROVED, patient_param
from xds import DocumentRequest
from xds.stored_queries import ReturnType, StoredQueryId, adhoc_query_request_element

FHIR = {"content-type": "application/fhir+json"}
OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
    "subject": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "2512484916"}},
    "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
}


async def _actions(db: Database) -> list[str]:
    return [r.action for r in await db.run("t", audit_rows_txn, 0, 10_000)]


async def _outcomes(db: Database) -> list[tuple[str, str]]:
    return [(r.action, r.outcome) for r in await db.run("t", audit_rows_txn, 0, 10_000)]


async def _break_audit_log(db: Database) -> None:
    async with db.sa_engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))


async def _mend_audit_log(db: Database) -> None:
    async with db.sa_engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))


@pytest.fixture
async def durable(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = make_settings(
        database_url, tmp_path / "var", security={"mode": "open", "read_audit": "durable"}
    )
    async with running_hub(settings) as running:
        yield running


async def test_fhir_reads_are_on_disk_before_the_response(durable: tuple[httpx.AsyncClient, Any]) -> None:
    client, services = durable
    db = services.fhir.db
    created = await client.post("/fhir/Observation", json=OBSERVATION, headers=FHIR)
    assert created.status_code == 201
    rid = created.json()["id"]
    assert (await client.get(f"/fhir/Observation/{rid}")).status_code == 200
    assert (await _actions(db))[-1] == "read"  # no flush awaited: it was committed before the answer
    assert (await client.get("/fhir/Observation", params={"code": "8867-4"})).json()["total"] == 1
    assert (await _actions(db))[-1] == "search"

    await _break_audit_log(db)
    try:
        refused = await client.get(f"/fhir/Observation/{rid}")
        assert refused.status_code == 503
        body = refused.json()
        assert body["resourceType"] == "OperationOutcome" and "8867-4" not in refused.text
    finally:
        await _mend_audit_log(db)
    assert (await client.get(f"/fhir/Observation/{rid}")).status_code == 200
    await services.fhir.audit.close()
    outcomes = await _outcomes(db)
    assert outcomes.count(("read", "0")) == 2  # the refused read left no record of a release...
    assert ("read", "12") in outcomes or ("read", "8") in outcomes  # ...but one of its failure (queued)


async def test_xds_query_and_retrieve_are_on_disk_before_the_response(
    durable: tuple[httpx.AsyncClient, Any],
) -> None:
    client, services = durable
    xds = XdsClient(client)
    content = b.cda_document()
    request = b.submission()
    assert (
        await xds.provide_and_register(request, {"Document01": (content, "text/xml")})
    ).status == "Success"
    uid = request.objects.document_entries[0].unique_id or ""
    query = adhoc_query_request_element(
        StoredQueryId.FIND_DOCUMENTS,
        {
            "$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)],
            "$XDSDocumentEntryStatus": [APPROVED],
        },
        return_type=ReturnType.OBJECT_REF,
    )
    assert (await xds.query(query)).status == "Success"
    db = services.fhir.db
    assert (await _actions(db))[-1] == "ITI-18"
    assert (await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])).documents() == {uid: content}
    assert (await _actions(db))[-1] == "ITI-43"
    await _break_audit_log(db)
    try:
        reply = await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])
        assert reply.fault and reply.status_code >= 500 and not reply.attachments
    finally:
        await _mend_audit_log(db)


async def test_concurrent_durable_reads_share_commits(database: Database) -> None:
    writer = AuditWriter(database, durable=True)
    rows = [[_row(n)] for n in range(40)]
    await asyncio.gather(*(writer.release(r) for r in rows))
    assert len(await _actions(database)) == 40
    commits = database.metrics.by_name["audit_append"].count
    assert commits < 40  # group commit: reads that arrived during a flush went into the next one
    await writer.close()


async def test_batched_mode_returns_at_once_and_flushes_later(database: Database) -> None:
    writer = AuditWriter(database, durable=False, flush_interval=0.01)
    await writer.release([_row(1)])
    assert await _actions(database) == []
    await writer.close()
    assert await _actions(database) == ["read"]


async def test_queued_records_survive_a_failing_database(database: Database) -> None:
    writer = AuditWriter(database, flush_interval=0.01)
    await _break_audit_log(database)
    writer.submit([_row(1), _row(2)])
    await asyncio.sleep(0.1)  # a few attempts fail meanwhile; the writer keeps the records and backs off
    await _mend_audit_log(database)
    for _ in range(200):  # the next attempt (at most 5 s after the last) writes them, with no new submission
        if await _actions(database):
            break
        await asyncio.sleep(0.05)
    assert await _actions(database) == ["read", "read"]
    await writer.close()


def _row(n: int) -> AuditRow:
    return AuditRow(
        recorded_us=n,
        action="read",
        outcome="0",
        patient_key="2512484916",
        actor="t",
        organisation=None,
        purpose=None,
        override=False,
        record=b'{"n":%d}' % n,
    )
