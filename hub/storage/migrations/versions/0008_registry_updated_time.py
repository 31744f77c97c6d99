"""When each registry object last changed, for MHD's ``meta.lastUpdated`` and ``_lastUpdated`` searches.

IHE MHD's Document Responder answers ``_lastUpdated`` on DocumentReference (ITI-67) and List (ITI-66).  The
registry kept each object's submission time only; a status change (RPLC, ITI-57), a new ebRIM form or a
Folder gaining documents did not stamp anything.  ``updated_us`` (epoch microseconds) is now written on insert
and on every change; existing rows get their submission time, the last change telehub can vouch for.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TABLES = ("xds_document_entry", "xds_submission_set", "xds_folder", "xds_association")


def upgrade() -> None:
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("updated_us", sa.BigInteger(), nullable=True))
        table = sa.table(name, sa.column("submitted_us"), sa.column("updated_us"))
        op.get_bind().execute(table.update().values(updated_us=table.c.submitted_us))


def downgrade() -> None:
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("updated_us")
