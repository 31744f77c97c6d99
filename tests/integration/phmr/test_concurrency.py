"""Concurrent submissions through the real door: PostgreSQL serves them in parallel (SQLite serialises them
in its writer lane); either way each is answered as if it came alone, and nothing is stored twice or torn."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.integration.phmr.conftest import named, reference_ids, stored_counts, submit
from tests.unit.profiles.cda.phmr_builder import build_phmr


async def test_documents_of_one_new_device_at_once_all_succeed(hub: tuple[httpx.AsyncClient, Any]) -> None:
    # every document names the same (not yet stored) device: one creates it, the others find it
    http, services = hub
    documents = [build_phmr(4, document_id=str(uuid.uuid4())) for _ in range(6)]
    responses = await asyncio.gather(*(submit(http, d) for d in documents))
    assert [r.status_code for r in responses] == [201] * 6, [r.text[:300] for r in responses]
    devices = {tuple(reference_ids(r.json(), "device")) for r in responses}
    assert len(devices) == 1
    assert await stored_counts(http, services) == {
        "entries": 6,
        "observations": 24,
        "devices": 1,
        "repository": 6,
    }


async def test_one_document_submitted_four_times_at_once(hub: tuple[httpx.AsyncClient, Any]) -> None:
    # as four identical re-submissions one after another: four entries, the measurements stored once
    http, services = hub
    document = build_phmr(4, document_id=str(uuid.uuid4()))
    responses = await asyncio.gather(*(submit(http, document) for _ in range(4)))
    assert [r.status_code for r in responses] == [201] * 4, [r.text[:300] for r in responses]
    summaries = sorted(
        named(r.json(), "outcome")[0]["resource"]["issue"][0]["diagnostics"] for r in responses
    )
    assert sum("4 created" in s for s in summaries) == 1
    assert sum("4 unchanged" in s for s in summaries) == 3
    assert await stored_counts(http, services) == {
        "entries": 4,
        "observations": 4,
        "devices": 1,
        "repository": 1,
    }


async def test_one_unique_id_with_different_bytes_at_once(hub: tuple[httpx.AsyncClient, Any]) -> None:
    # XDS allows a uniqueId again only with the identical document: one wins, the others are refused whole
    http, services = hub
    document_id = str(uuid.uuid4())
    original = build_phmr(4, document_id=document_id)
    variants = [original.replace(b"<title>", f"<title>{i} ".encode(), 1) for i in range(4)]
    responses = await asyncio.gather(*(submit(http, d) for d in variants))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422, 422, 422], [r.text[:300] for r in responses]
    for refused in (r for r in responses if r.status_code == 422):
        assert "XDSNonIdenticalHash" in refused.text or "XDSNonIdenticalSize" in refused.text
    assert await stored_counts(http, services) == {
        "entries": 1,
        "observations": 4,
        "devices": 1,
        "repository": 1,
    }
    winner = variants[next(i for i, r in enumerate(responses) if r.status_code == 201)]
    reference = reference_ids(next(r for r in responses if r.status_code == 201).json(), "documentReference")[
        0
    ]
    stored = await http.get(f"/fhir/DocumentReference/{reference}")
    attachment = stored.json()["content"][0]["attachment"]
    assert attachment["size"] == len(winner)
