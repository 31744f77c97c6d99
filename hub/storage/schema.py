"""The relational schema of telehub, as SQLAlchemy Core tables (design notes: ``hub/storage/STORAGE.md``).

This module is the single description of every table; Alembic revisions under
``hub/storage/migrations/versions`` create and evolve it.  Never edit a
released revision: add a new one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only aliases ROWID for "INTEGER PRIMARY KEY"; BIGINT elsewhere.
RowId = BigInteger().with_variant(Integer(), "sqlite")

# ------------------------------------------------------------------ FHIR resources

resource = Table(
    "resource",
    metadata,
    Column("rid", RowId, primary_key=True, autoincrement=True),
    Column("res_type", String(64), nullable=False),
    Column("res_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("last_updated", BigInteger, nullable=False),  # microseconds since epoch, UTC
    Column("patient_key", String(64), nullable=True),  # Patient compartment / future distribution key
    UniqueConstraint("res_type", "res_id", name="uq_resource_type_id"),
    Index("ix_resource_type_updated", "res_type", "last_updated", "rid"),
    Index("ix_resource_patient", "patient_key", "res_type", "rid"),
)

resource_version = Table(
    "resource_version",
    metadata,
    Column("rid", RowId, ForeignKey("resource.rid", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("res_type", String(64), nullable=False),
    Column("last_updated", BigInteger, nullable=False),
    Column("method", String(8), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("patient_key", String(64), nullable=True),
    Column("data", LargeBinary, nullable=True),  # the JSON bytes served as is; NULL for a delete marker
    Index("ix_version_type_updated", "res_type", "last_updated"),
)


def _index_table(name: str, *columns: Column[Any], value_index: tuple[str, ...]) -> Table:
    """A typed search-index table: rows of the CURRENT version, keyed by param_hash (hub.core.search)."""
    return Table(
        name,
        metadata,
        Column("rid", RowId, ForeignKey("resource.rid", ondelete="CASCADE"), nullable=False),
        Column("param_hash", BigInteger, nullable=False),
        Column("patient_key", String(64), nullable=True),
        *columns,
        Index(f"ix_{name}_rid", "rid", "param_hash"),
        Index(f"ix_{name}_value", "param_hash", *value_index),
    )


idx_token = _index_table(
    "idx_token",
    Column("system", String(512), nullable=True),
    Column("code", String(512), nullable=True),
    Column("text", String(512), nullable=True),
    value_index=("code", "system"),
)
idx_string = _index_table(
    "idx_string",
    Column("norm", String(512), nullable=False),
    Column("exact", String(512), nullable=False),
    value_index=("norm",),
)
idx_date = _index_table(
    "idx_date",
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    value_index=("start_us", "end_us"),
)
idx_number = _index_table(
    "idx_number",
    Column("value", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    value_index=("value",),
)
idx_quantity = _index_table(
    "idx_quantity",
    Column("system", String(512), nullable=True),
    Column("code", String(512), nullable=True),
    Column("unit", String(512), nullable=True),
    Column("value", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    value_index=("code", "value"),
)
idx_reference = _index_table(
    "idx_reference",
    Column("target_type", String(64), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("url", String(512), nullable=True),
    Column("ident_system", String(512), nullable=True),
    Column("ident_value", String(512), nullable=True),
    value_index=("target_id", "target_type"),
)
idx_uri = _index_table(
    "idx_uri",
    Column("uri", String(512), nullable=False),
    value_index=("uri",),
)

INDEX_TABLES: tuple[Table, ...] = (
    idx_token,
    idx_string,
    idx_date,
    idx_number,
    idx_quantity,
    idx_reference,
    idx_uri,
)

# ------------------------------------------------------------------ audit (append-only, hash-chained)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("recorded_us", BigInteger, nullable=False),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("patient_key", String(64), nullable=True),
    Column("actor", String(512), nullable=True),
    Column("organisation", String(64), nullable=True),
    Column("purpose", String(32), nullable=True),
    Column("override", Boolean, nullable=False, default=False),
    Column("record", Text, nullable=False),  # canonical JSON of the BALP-shaped record
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_patient", "patient_key", "seq"),
)

# ------------------------------------------------------------------ Danish negative consent (from Consent)

consent_block = Table(
    "consent_block",
    metadata,
    Column("consent_rid", RowId, ForeignKey("resource.rid", ondelete="CASCADE"), nullable=False),
    Column("patient_key", String(64), nullable=False),
    Column("actor_kind", String(8), nullable=False),  # all | auth | sor
    Column("actor_id", String(64), nullable=True),
    Index("ix_consent_block_patient", "patient_key", "actor_kind", "actor_id"),
    Index("ix_consent_block_rid", "consent_rid"),
)
