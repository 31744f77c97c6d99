"""The database: one choke point through which every transaction runs, by name.

``await db.run("read_resource", read_resource_txn, rtype, rid)`` opens a
connection, begins a transaction, calls the ``…_txn`` function with the
connection and commits (or rolls back on any exception, so a failed
transaction leaves no rows behind).  Names feed the per-transaction metrics
(Synapse's ``runInteraction`` pattern).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.core.errors import HubError, StorageError
from hub.storage.engines import ENGINE_KEY, StorageEngine, engine_for_url

P = ParamSpec("P")
T = TypeVar("T")

TxnFn = Callable[Concatenate[AsyncConnection, P], Awaitable[T]]


class _Mode(enum.Enum):
    SINGLE = "single"  # one statement, autocommit
    READ = "read"
    WRITE = "write"


@dataclass(slots=True)
class TxnStats:
    """Running totals per transaction name."""

    count: int = 0
    failures: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class TxnMetrics:
    by_name: dict[str, TxnStats] = field(default_factory=dict)

    def record(self, name: str, seconds: float, *, failed: bool) -> None:
        stats = self.by_name.get(name)
        if stats is None:
            stats = self.by_name[name] = TxnStats()
        stats.count += 1
        stats.seconds += seconds
        if failed:
            stats.failures += 1


class Database:
    """An open SQLite or PostgreSQL database."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: StorageEngine = engine_for_url(url)
        self._pool_size = pool_size
        self._sa: AsyncEngine | None = None
        self.metrics = TxnMetrics()

    @property
    def sa_engine(self) -> AsyncEngine:
        if self._sa is None:
            self.engine.prepare_location()
            self._sa = self.engine.create_async_engine(pool_size=self._pool_size)
        return self._sa

    async def close(self) -> None:
        if self._sa is not None:
            await self._sa.dispose()
            self._sa = None

    async def run(
        self,
        name: str,
        fn: TxnFn[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run a read transaction named ``name``."""
        return await self._run(name, _Mode.READ, fn, *args, **kwargs)

    async def run_write(
        self,
        name: str,
        fn: TxnFn[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run a write transaction named ``name`` (through the engine's writer lane)."""
        async with self.engine.write_lane():
            return await self._run(name, _Mode.WRITE, fn, *args, **kwargs)

    async def run_single(
        self,
        name: str,
        fn: TxnFn[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run a function that issues ONE read statement, without BEGIN/COMMIT round trips (autocommit)."""
        return await self._run(name, _Mode.SINGLE, fn, *args, **kwargs)

    async def _run(
        self,
        name: str,
        mode: _Mode,
        fn: TxnFn[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        started = time.perf_counter()
        failed = True
        try:
            async with self.sa_engine.connect() as conn:
                conn.info[ENGINE_KEY] = self.engine
                if mode is _Mode.SINGLE:
                    auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    result = await fn(auto, *args, **kwargs)
                else:
                    if mode is _Mode.WRITE:
                        self.engine.prepare_write(conn)
                    async with conn.begin():
                        result = await fn(conn, *args, **kwargs)
            failed = False
            return result
        except HubError:
            raise
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            raise StorageError(f"database error in transaction {name!r}: {_short(exc)}") from exc
        finally:
            self.metrics.record(name, time.perf_counter() - started, failed=failed)


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:300] if text else type(exc).__name__
