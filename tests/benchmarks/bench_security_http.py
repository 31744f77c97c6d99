"""Security overhead per FHIR read (issue 6): p50/p95 of GET /fhir/Observation/{id} on the real hub (dev mode:
JWT verification, role table, consent filter in SQL, audit record) against a baseline build with none of them
(tests/benchmarks/bare_app.py), same database, one connection (latency, not throughput); then the secured hub
again with ``TELEHUB_SECURITY__READ_AUDIT=durable`` (each read's record committed before the answer).

    .venv/bin/python -m tests.benchmarks.bench_security_http [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.core.settings import SecurityMode, SecuritySettings, Settings
from security import DevCredentialRequest, DevIssuer, PurposeOfUse, Role
from tests.benchmarks import datagen
from tests.benchmarks.bench_fhir import machine, migrate
from tests.benchmarks.harness import Server, lua_string, wrk


async def seed(url: str, n: int) -> list[str]:
    async with httpx.AsyncClient(base_url=url, headers={"content-type": "application/fhir+json"}) as client:
        rng = random.Random(9)
        ids = []
        for _ in range(n):
            r = await client.post(
                "/fhir/Observation", content=orjson.dumps(datagen.observation("pt-0000003", rng))
            )
            ids.append(r.json()["id"])
        return ids


def read_lua(ids: list[str], token: str | None) -> str:
    table = ",".join(lua_string(i) for i in ids)
    header = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    return (
        header
        + f"""
local ids = {{{table}}}
request = function()
  return wrk.format("GET", "/fhir/Observation/" .. ids[math.random(#ids)])
end
"""
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="telehub-secbench-"))
    url = args.pg_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
    workers = args.workers if args.pg_url else 1
    asyncio.run(migrate(url))
    data_dir = tmp / "var"
    report: dict[str, Any] = {
        "engine": "postgresql" if args.pg_url else "sqlite",
        "workers": workers,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    with Server(url, workers, data_dir, app_factory="tests.benchmarks.bare_app:create_app") as bare:
        ids = asyncio.run(seed(bare.url, 300))
        report["baseline (no auth, no consent, no audit)"] = wrk(
            bare.url, read_lua(ids, None), duration=args.duration, connections=args.connections
        ).row()
    settings = Settings(data_dir=data_dir, security=SecuritySettings(mode=SecurityMode.DEV))
    token = DevIssuer(settings).issue_token(
        DevCredentialRequest(
            role=Role.PHYSICIAN, purpose=PurposeOfUse.TREATMENT, authorisation_id="BCD12", sor="123456789012"
        )
    )
    with Server(url, workers, data_dir, extra_env={"TELEHUB_SECURITY__MODE": "dev"}) as secure:
        report["secured (JWT + role table + consent in SQL + audit)"] = wrk(
            secure.url, read_lua(ids, token), duration=args.duration, connections=args.connections
        ).row()
    durable_env = {"TELEHUB_SECURITY__MODE": "dev", "TELEHUB_SECURITY__READ_AUDIT": "durable"}
    with Server(url, workers, data_dir, extra_env=durable_env) as secure:
        report["secured, read records committed before the answer (READ_AUDIT=durable)"] = wrk(
            secure.url, read_lua(ids, token), duration=args.duration, connections=args.connections
        ).row()
    base = report["baseline (no auth, no consent, no audit)"]
    sec = report["secured (JWT + role table + consent in SQL + audit)"]
    durable = report["secured, read records committed before the answer (READ_AUDIT=durable)"]
    report["overhead p50 ms"] = round(float(sec["p50 ms"]) - float(base["p50 ms"]), 3)
    report["overhead p50 ms, durable read records"] = round(
        float(durable["p50 ms"]) - float(base["p50 ms"]), 3
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", help="postgresql+asyncpg://… of an empty database (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
