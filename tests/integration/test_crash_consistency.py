"""Crash consistency of the submission doors: ``kill -9`` a real ``telehub serve`` while PHMR documents are
being submitted (``$submit-document`` or ITI-41 over MTOM) or FHIR transaction Bundles are posted, start it
again on the same database and data directory, and check through its doors that

* every document the hub acknowledged is there, complete: its registry entry, its 20 Observations and
  its bytes in the repository (ITI-43 returns them unchanged) - nothing acknowledged is lost;
* every other document is either complete in the same way or entirely absent - nothing is half-stored, and no
  Observation points at a document that is not registered;
* a document that was lost in flight can simply be sent again;
* the audit chain still verifies (``telehub audit verify``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conformance.suites.xds_client import XdsClient
from hub.core.xml_safety import parse_xml
from tests import xds_builders as b
from tests.integration.phmr.conftest import CPR, CPR_SYSTEM, FHIR, XML, matches
from tests.real_server import TELEHUB, free_port, server_env, wait_for
from tests.unit.profiles.cda.phmr_builder import build_phmr
from xds import DocumentRequest, InternationalString, SubmitObjectsRequest
from xds.cda_metadata import derive_document_entry

REPOSITORY = "1.2.208.176.43210.8.10.1"  # the default xds.repository_unique_id
CLIENTS = 6
ACKNOWLEDGED_BEFORE_KILL = 6
CRASH_SYSTEM = "urn:telehub:test:crash"


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``telehub serve`` (one worker) in its own process group; killed with the group on exit."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [TELEHUB, "serve", "--port", str(port)], env=env, stdout=out, stderr=out, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(f"{base}/health", proc) is not None, log.read_text()
        yield proc, base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


Send = Callable[[httpx.AsyncClient, str], Awaitable[None]]  # returns once acknowledged; asserts success


async def _submit_until_killed(
    base: str, proc: subprocess.Popen[bytes], keys: list[str], send: Send
) -> tuple[set[str], set[str]]:
    """``send`` each key from several clients at once; SIGKILL the server once some were acknowledged and
    others are in flight.  Returns the (sent, acknowledged) keys."""
    pending = list(keys)
    sent: set[str] = set()
    acknowledged: set[str] = set()
    killed = asyncio.Event()

    async def client(http: httpx.AsyncClient) -> None:
        while pending and not killed.is_set():
            key = pending.pop()
            sent.add(key)
            try:
                await send(http, key)
            except httpx.TransportError:
                return  # the server is gone
            acknowledged.add(key)

    async def killer() -> None:
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # more requests are now half way through their transaction
        os.killpg(proc.pid, signal.SIGKILL)
        killed.set()

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await asyncio.gather(killer(), *(client(http) for _ in range(CLIENTS)))
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert sent - acknowledged, "the kill should have caught submissions in flight"
    return sent, acknowledged


async def _patient_observations(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    found = await http.get(
        "/fhir/Observation", params={"patient:identifier": f"{CPR_SYSTEM}|{CPR}", "_count": "1000"}
    )
    assert found.status_code == 200, found.text
    return matches(found.json())


async def _stored(base: str) -> tuple[dict[str, str], dict[str, int]]:
    """(document id -> DocumentReference id) of the patient's registered PHMRs, and the number of
    Observations derived from each DocumentReference id."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        refs = await http.get(
            "/fhir/DocumentReference", params={"patient.identifier": f"{CPR_SYSTEM}|{CPR}", "_count": "1000"}
        )
        assert refs.status_code == 200, refs.text
        registered = {r["masterIdentifier"]["value"]: r["id"] for r in matches(refs.json())}
        observations = await _patient_observations(http)
    derived: dict[str, int] = {}
    for observation in observations:
        (source,) = observation["derivedFrom"]
        key = source["reference"].removeprefix("DocumentReference/")
        derived[key] = derived.get(key, 0) + 1
    return registered, derived


def _provide_and_register(document: bytes) -> SubmitObjectsRequest:
    """ITI-41 metadata for a PHMR, derived from its header as a source system does, with complete code
    triples (the builder's serviceEvent codes carry no displayName)."""
    entry = derive_document_entry(
        parse_xml(document),
        document,
        facility_type=b.FACILITY,
        practice_setting=b.PRACTICE,
        repository_unique_id=REPOSITORY,
        entry_uuid="Document01",
    )
    assert entry.patient_id is not None
    events = tuple(
        dataclasses.replace(c, display=c.display or InternationalString.of(c.code)) for c in entry.event_codes
    )
    return b.submission(dataclasses.replace(entry, event_codes=events), cpr=entry.patient_id.id)


@pytest.mark.slow
@pytest.mark.parametrize("door", ["$submit-document", "ITI-41"])
async def test_kill_9_during_submissions_loses_nothing_acknowledged_and_stores_nothing_half(
    database_url: str, tmp_path: Path, door: str
) -> None:
    env = server_env(tmp_path, database_url, security__mode="open", log_level="warning")
    documents = {d: build_phmr(20, document_id=d) for d in (str(uuid.uuid4()) for _ in range(200))}
    log = tmp_path / "serve.log"

    async def send(http: httpx.AsyncClient, doc_id: str) -> None:
        document = documents[doc_id]
        if door == "ITI-41":
            reply = await XdsClient(http).provide_and_register(
                _provide_and_register(document), {"Document01": (document, "text/xml")}
            )
            assert reply.status == "Success", reply.fault or reply.response
        else:
            r = await http.post("/fhir/$submit-document", content=document, headers=XML)
            assert r.status_code == 201, r.text

    with serving(env, log) as (proc, base):
        sent, acknowledged = await _submit_until_killed(base, proc, list(documents), send)

    with serving(env, log) as (_, base):
        registered, derived = await _stored(base)
        assert acknowledged <= registered.keys(), "an acknowledged document was lost"
        assert registered.keys() <= sent
        assert sorted(derived) == sorted(registered.values()), "Observations of an unregistered document"
        assert set(derived.values()) == {20}, f"a document with part of its Observations: {derived}"
        unique_ids = {
            d: derive_document_entry(
                parse_xml(documents[d]), documents[d], facility_type="1", practice_setting="2"
            ).unique_id
            or ""
            for d in registered
        }
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            retrieved = await XdsClient(http).retrieve(
                [DocumentRequest(REPOSITORY, u) for u in unique_ids.values()]
            )
            assert retrieved.documents() == {unique_ids[d]: documents[d] for d in registered}
            lost_in_flight = sorted(sent - registered.keys())
            if lost_in_flight:  # refused or never answered: sending it again simply works
                await send(http, lost_in_flight[0])
    _audit_chain_verifies(env)


def _audit_chain_verifies(env: dict[str, str]) -> None:
    verify = subprocess.run([TELEHUB, "audit", "verify"], env=env, capture_output=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _bundle(key: str) -> dict[str, Any]:
    """A transaction of 20 weight Observations of the patient, identified as ``key``/n."""
    subject = {"type": "Patient", "identifier": {"system": CPR_SYSTEM, "value": CPR}}
    entries = [
        {
            "request": {"method": "POST", "url": "Observation"},
            "resource": {
                "resourceType": "Observation",
                "identifier": [{"system": CRASH_SYSTEM, "value": f"{key}/{n}"}],
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "subject": subject,
                "effectiveDateTime": f"2026-01-01T08:{n:02d}:00+01:00",
                "valueQuantity": {
                    "value": 70 + n,
                    "unit": "kg",
                    "system": "http://unitsofmeasure.org",
                    "code": "kg",
                },
            },
        }
        for n in range(20)
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.mark.slow
async def test_kill_9_during_transaction_bundles_keeps_each_bundle_whole(
    database_url: str, tmp_path: Path
) -> None:
    """The same for FHIR transaction Bundles: each is all or nothing across a crash, acknowledged or not."""
    env = server_env(tmp_path, database_url, security__mode="open", log_level="warning")
    bundles = {key: orjson.dumps(_bundle(key)) for key in (str(uuid.uuid4()) for _ in range(200))}

    async def send(http: httpx.AsyncClient, key: str) -> None:
        r = await http.post("/fhir", content=bundles[key], headers=FHIR)
        assert r.status_code == 200, r.text

    log = tmp_path / "serve.log"
    with serving(env, log) as (proc, base):
        sent, acknowledged = await _submit_until_killed(base, proc, list(bundles), send)
    with serving(env, log) as (_, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            stored: dict[str, int] = {}
            for observation in await _patient_observations(http):
                (identifier,) = observation["identifier"]
                key = identifier["value"].rpartition("/")[0]
                stored[key] = stored.get(key, 0) + 1
    assert acknowledged <= stored.keys() <= sent
    assert set(stored.values()) == {20}, f"a transaction with part of its resources: {stored}"
    _audit_chain_verifies(env)


async def _audited_searches(database_url: str) -> set[str]:
    """The query strings of the successful searches that have an audit record."""
    from hub.storage import Database, audit_rows_txn
    from security import EntityKind, record_from_bytes

    db = Database(database_url)
    try:
        rows = await db.run("t", audit_rows_txn, 0, 100_000)
    finally:
        await db.close()
    return {
        entity.identifier
        for row in rows
        if row.action == "search" and row.outcome == "0"
        for entity in record_from_bytes(row.record).entities
        if entity.kind is EntityKind.QUERY
    }


@pytest.mark.slow
async def test_kill_9_during_reads_leaves_no_answered_read_unaudited_in_durable_mode(
    database_url: str, tmp_path: Path
) -> None:
    """``TELEHUB_SECURITY__READ_AUDIT=durable``: every search that was answered has its audit record on disk,
    even when the server is killed right after answering (batched records of the last 50 ms would be lost).
    Each search is told apart by its ``_count``, which the record keeps with the query."""
    env = server_env(
        tmp_path, database_url, security__mode="open", security__read_audit="durable", log_level="warning"
    )
    log = tmp_path / "serve.log"
    with serving(env, log) as (_, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            posted = await http.post("/fhir", content=orjson.dumps(_bundle("reads")), headers=FHIR)
            assert posted.status_code == 200, posted.text
            ids = [e["response"]["location"].split("/")[1] for e in posted.json()["entry"]]
    with serving(env, log) as (proc, base):
        keys = [str(n) for n in range(1, 301)]

        async def search(http: httpx.AsyncClient, key: str) -> None:
            r = await http.get("/fhir/Observation", params={"_id": ids[int(key) % len(ids)], "_count": key})
            assert r.status_code == 200 and r.json()["total"] == 1, r.text

        _, answered = await _submit_until_killed(base, proc, keys, search)
    audited = {
        part.removeprefix("_count=")
        for query in await _audited_searches(database_url)
        for part in query.split("&")
        if part.startswith("_count=")
    }
    assert answered <= audited, f"answered but not audited: {sorted(answered - audited, key=int)}"
