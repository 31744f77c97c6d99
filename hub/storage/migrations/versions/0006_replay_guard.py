"""A database table for the ID-card replay defence, shared by every worker and kept across restarts.

The in-memory cache of ``security.saml.replay`` sees one process only: with ``telehub serve --workers 2`` a
replayed card was accepted once by each worker, and a restart forgot every card still valid.  Each accepted
card (or card + message id) now also claims a row here, keyed by the SHA-256 of its replay key, until it
expires.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_guard",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_replay_guard_expires", "replay_guard", ["expires_us"])


def downgrade() -> None:
    op.drop_index("ix_replay_guard_expires", table_name="replay_guard")
    op.drop_table("replay_guard")
