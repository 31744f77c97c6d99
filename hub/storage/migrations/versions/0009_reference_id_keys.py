"""CX.1 and the assigning authority of every referenceIdList value, for MHD's ``related:identifier``.

ITI-67's ``related`` searches ``DocumentReference.context.related``, the FHIR face of a DocumentEntry's
referenceIdList.  A FHIR identifier is ``system|value``: it has neither the CXi's type (CX.5) nor its
facility, so the search compares CX.1 and CX.4.2 only.  They are stored beside the CXi
(``hub.storage.reference_keys``) and filled here for the values already registered.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.reference_keys import reference_key

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLE = "xds_entry_reference"


def upgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.add_column(sa.Column("id_value", sa.String(512), nullable=True))
        batch.add_column(sa.Column("authority", sa.String(512), nullable=True))
    table = sa.table(_TABLE, sa.column("value"), sa.column("id_value"), sa.column("authority"))
    bind = op.get_bind()
    values = bind.execute(sa.select(table.c.value).distinct()).scalars().all()
    update = (
        table.update()
        .where(table.c.value == sa.bindparam("old_value"))
        .values(id_value=sa.bindparam("new_id"), authority=sa.bindparam("new_authority"))
    )
    rows = []
    for value in values:
        id_value, authority = reference_key(value)
        rows.append({"old_value": value, "new_id": id_value, "new_authority": authority})
    if rows:
        bind.execute(update, rows)


def downgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("authority")
        batch.drop_column("id_value")
