"""PostgreSQL ≥ 15 (asyncpg): the production engine, several workers, MVCC writers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.storage.engines.base import StorageEngine

# Arbitrary but fixed key of the transaction-scoped advisory lock guarding the audit hash chain.
_AUDIT_CHAIN_LOCK = 0x7E1E_AD17


class PostgresEngine(StorageEngine):
    name = "postgresql"

    def create_async_engine(self, *, pool_size: int) -> AsyncEngine:
        return create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            connect_args={
                "server_settings": {
                    "application_name": "telehub",
                    "jit": "off",
                    "plan_cache_mode": "force_custom_plan",
                }
            },
        )

    @property
    def migrates_on_start(self) -> bool:
        return False

    def write_lane(self) -> AbstractAsyncContextManager[None]:
        return _no_lane()

    def prepare_write(self, conn: AsyncConnection) -> None:
        """PostgreSQL writers do not need an early lock."""

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_CHAIN_LOCK})

    def prepare_location(self) -> None:
        """Nothing to prepare: the server exists already."""


@asynccontextmanager
async def _no_lane() -> AsyncIterator[None]:
    yield
