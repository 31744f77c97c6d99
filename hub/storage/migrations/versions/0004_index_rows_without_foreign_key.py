"""Search-index rows lose their foreign key to ``resource``.

Index rows are derived data: only ``hub.storage.search_index_store`` writes them, in the transaction that
writes the resource version they index, and resources are never physically deleted (a delete is a new
version), so the key's ON DELETE CASCADE never fired.  Its cost was real: PostgreSQL checks the key with one
trigger query per inserted row (a PHMR document brings about 400 index rows; the checks were most of the
database time of a submission).

PostgreSQL drops the named constraints; SQLite rebuilds each table without the key (same columns and
indexes; the rows are copied).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("idx_token", "idx_string", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri")


def _rebuilt(name: str, *, with_key: bool) -> sa.Table:
    """The table as it is now, reflected, with or without the key to ``resource.rid``."""
    bind = op.get_bind()
    reflected = sa.Table(name, sa.MetaData(), autoload_with=bind)
    target = sa.MetaData()
    if with_key:
        sa.Table("resource", target, sa.Column("rid", sa.Integer, primary_key=True))
    columns = [
        sa.Column(c.name, c.type, sa.ForeignKey("resource.rid", ondelete="CASCADE"), nullable=c.nullable)
        if with_key and c.name == "rid"
        else sa.Column(c.name, c.type, nullable=c.nullable)
        for c in reflected.columns
    ]
    indexes = [
        sa.Index(ix["name"], *(str(c) for c in ix["column_names"]), unique=bool(ix["unique"]))
        for ix in sa.inspect(bind).get_indexes(name)
    ]
    return sa.Table(name, target, *columns, *indexes)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TABLES:
            op.drop_constraint(f"{name}_rid_fkey", name, type_="foreignkey")
        return
    for name in TABLES:
        with op.batch_alter_table(name, recreate="always", copy_from=_rebuilt(name, with_key=False)):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TABLES:
            op.create_foreign_key(f"{name}_rid_fkey", name, "resource", ["rid"], ["rid"], ondelete="CASCADE")
        return
    for name in TABLES:
        with op.batch_alter_table(name, recreate="always", copy_from=_rebuilt(name, with_key=True)):
            pass
