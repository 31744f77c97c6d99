"""Consent blocks carry their validity period and the security package's actor kinds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_block") as batch:
        batch.alter_column("actor_kind", type_=sa.String(32), existing_nullable=False)
        batch.add_column(sa.Column("valid_from_us", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("valid_until_us", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_block") as batch:
        batch.drop_column("valid_until_us")
        batch.drop_column("valid_from_us")
        batch.alter_column("actor_kind", type_=sa.String(8), existing_nullable=False)
