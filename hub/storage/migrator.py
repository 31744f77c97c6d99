"""Schema migrations (Alembic): ``telehub migrate``, auto-upgrade of SQLite at ``serve``, and the
refuse-to-start check for PostgreSQL on an un-migrated or newer schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from hub.core.errors import StorageError
from hub.storage.database import Database

_MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StorageError("no migration revisions are packaged with telehub")
    return head


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


async def upgrade(db: Database) -> SchemaState:
    """Bring the schema to the newest revision (what ``telehub migrate`` does)."""
    _refuse_newer(await state(db))

    def _run(conn: Connection) -> None:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    try:
        async with db.engine.write_lane(), db.sa_engine.begin() as conn:
            await conn.run_sync(_run)
    except (SQLAlchemyError, CommandError) as exc:
        raise StorageError(
            f"migrating the database schema failed: {str(getattr(exc, 'orig', exc)).splitlines()[0]} "
            "(a database with telehub tables but no revision record needs an operator's attention)"
        ) from exc
    return await state(db)


def _known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}


def _refuse_newer(current: SchemaState) -> None:
    if current.current is not None and current.current not in _known_revisions():
        raise StorageError(
            f"the database schema revision {current.current!r} is newer than this telehub "
            f"(which knows up to {current.head!r}): upgrade telehub, do not downgrade the schema"
        )


async def state(db: Database) -> SchemaState:
    def _current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    try:
        async with db.sa_engine.connect() as conn:
            unsuitable = await db.engine.unsuitable(conn)
            current = await conn.run_sync(_current)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(
            f"cannot read the schema revision: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
        ) from exc
    if unsuitable:
        raise StorageError(unsuitable)
    return SchemaState(current=current, head=head_revision())


async def ensure_ready(db: Database) -> SchemaState:
    """At start-up: upgrade embedded databases, refuse a PostgreSQL schema that is not exactly at head."""
    if db.engine.migrates_on_start:
        return await upgrade(db)
    current = await state(db)
    if current.current is None:
        raise StorageError(
            "the database has no telehub schema: run `telehub migrate` against "
            "TELEHUB_DATABASE_URL before `telehub serve`"
        )
    _refuse_newer(current)
    if not current.up_to_date:
        raise StorageError(
            f"the database schema is at {current.current!r} but telehub needs {current.head!r}: "
            "run `telehub migrate`"
        )
    return current
