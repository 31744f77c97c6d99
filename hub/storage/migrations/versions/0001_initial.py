"""Initial schema: FHIR resources with versions, typed search-index tables, hash-chained audit log,
consent blocks.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _index_table(name: str, *columns: sa.Column[Any], value_index: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column("rid", RowId, sa.ForeignKey("resource.rid", ondelete="CASCADE"), nullable=False),
        sa.Column("param_hash", sa.BigInteger, nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        *columns,
    )
    op.create_index(f"ix_{name}_rid", name, ["rid", "param_hash"])
    op.create_index(f"ix_{name}_value", name, ["param_hash", *value_index])


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("rid", RowId, primary_key=True, autoincrement=True),
        sa.Column("res_type", sa.String(64), nullable=False),
        sa.Column("res_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("last_updated", sa.BigInteger, nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.UniqueConstraint("res_type", "res_id", name="uq_resource_type_id"),
    )
    op.create_index("ix_resource_type_updated", "resource", ["res_type", "last_updated", "rid"])
    op.create_index("ix_resource_patient", "resource", ["patient_key", "res_type", "rid"])
    op.create_table(
        "resource_version",
        sa.Column("rid", RowId, sa.ForeignKey("resource.rid", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("res_type", sa.String(64), nullable=False),
        sa.Column("last_updated", sa.BigInteger, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("data", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_version_type_updated", "resource_version", ["res_type", "last_updated"])
    _index_table(
        "idx_token",
        sa.Column("system", sa.String(512), nullable=True),
        sa.Column("code", sa.String(512), nullable=True),
        sa.Column("text", sa.String(512), nullable=True),
        value_index=("code", "system"),
    )
    _index_table(
        "idx_string",
        sa.Column("norm", sa.String(512), nullable=False),
        sa.Column("exact", sa.String(512), nullable=False),
        value_index=("norm",),
    )
    _index_table(
        "idx_date",
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        value_index=("start_us", "end_us"),
    )
    _index_table(
        "idx_number",
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("low", sa.Float, nullable=False),
        sa.Column("high", sa.Float, nullable=False),
        value_index=("value",),
    )
    _index_table(
        "idx_quantity",
        sa.Column("system", sa.String(512), nullable=True),
        sa.Column("code", sa.String(512), nullable=True),
        sa.Column("unit", sa.String(512), nullable=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("low", sa.Float, nullable=False),
        sa.Column("high", sa.Float, nullable=False),
        value_index=("code", "value"),
    )
    _index_table(
        "idx_reference",
        sa.Column("target_type", sa.String(64), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("url", sa.String(512), nullable=True),
        sa.Column("ident_system", sa.String(512), nullable=True),
        sa.Column("ident_value", sa.String(512), nullable=True),
        value_index=("target_id", "target_type"),
    )
    _index_table("idx_uri", sa.Column("uri", sa.String(512), nullable=False), value_index=("uri",))
    op.create_table(
        "audit_log",
        sa.Column("seq", RowId, primary_key=True, autoincrement=True),
        sa.Column("recorded_us", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(512), nullable=True),
        sa.Column("organisation", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(32), nullable=True),
        sa.Column("override", sa.Boolean, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_patient", "audit_log", ["patient_key", "seq"])
    op.create_table(
        "consent_block",
        sa.Column("consent_rid", RowId, sa.ForeignKey("resource.rid", ondelete="CASCADE"), nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=False),
        sa.Column("actor_kind", sa.String(8), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_consent_block_patient", "consent_block", ["patient_key", "actor_kind", "actor_id"])
    op.create_index("ix_consent_block_rid", "consent_block", ["consent_rid"])


def downgrade() -> None:
    for name in (
        "consent_block",
        "audit_log",
        "idx_uri",
        "idx_reference",
        "idx_quantity",
        "idx_number",
        "idx_date",
        "idx_string",
        "idx_token",
        "resource_version",
        "resource",
    ):
        op.drop_table(name)
