"""Round-trip every official R4 example of a supported type: PUT it, GET it, compare (meta aside).

Two types are refused on purpose: AuditEvent is the hub's own read-only audit log (405), and a Consent
is accepted only as a Danish negative consent the hub can enforce (the official examples are not; 422).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.fhir.resource_types import SUPPORTED_TYPES
from tests.conftest import testdata_path

REFUSED = {"AuditEvent": 405, "Consent": 422}


def _examples() -> list[Path]:
    folder = testdata_path("fhir", "examples")
    return sorted(p for p in folder.glob("*.json") if p.name.split("-", 1)[0] in SUPPORTED_TYPES)


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


async def test_official_examples_round_trip(client: httpx.AsyncClient) -> None:
    examples = _examples()
    assert len(examples) > 100
    failures: list[str] = []
    for path in examples:
        original = json.loads(path.read_bytes())
        rtype, rid = original["resourceType"], original["id"]
        put = await client.put(
            f"/fhir/{rtype}/{rid}",
            content=path.read_bytes(),
            headers={"content-type": "application/fhir+json"},
        )
        refused = REFUSED.get(rtype)
        if refused is not None:
            if put.status_code != refused or put.json()["resourceType"] != "OperationOutcome":
                failures.append(f"{path.name}: expected {refused}, got {put.status_code}")
            continue
        if put.status_code not in (200, 201):
            failures.append(f"{path.name}: PUT {put.status_code} {put.text[:200]}")
            continue
        got = await client.get(f"/fhir/{rtype}/{rid}")
        if _without_meta(orjson.loads(got.content)) != _without_meta(original):
            failures.append(f"{path.name}: differs after GET")
        elif {
            k: v for k, v in (original.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")
        } != {k: v for k, v in got.json()["meta"].items() if k not in ("versionId", "lastUpdated")}:
            failures.append(f"{path.name}: meta profile/tags not kept")
    assert not failures, "\n".join(failures)
