"""The family and given names of every registry author in search form, for MHD's name searches.

ITI-67 ``author.given``/``author.family`` and ITI-66 ``source.given``/``source.family`` match the authorPerson
(an XCN) of DocumentEntries and SubmissionSets by FHIR string search: case- and accent-insensitive prefixes of
the family name or any given name.  SQLite's ``lower()`` only knows ASCII, so the names are stored beside the
XCN already normalised (``hub.storage.author_names``) and filled here for the rows that exist.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.storage.author_names import name_keys

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TABLES = ("xds_entry_author", "xds_submission_set_author")


def upgrade() -> None:
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("family", sa.String(512), nullable=True))
            batch.add_column(sa.Column("given", sa.String(512), nullable=True))
        table = sa.table(name, sa.column("person"), sa.column("family"), sa.column("given"))
        bind = op.get_bind()
        people = bind.execute(sa.select(table.c.person).distinct()).scalars().all()
        update = (
            table.update()
            .where(table.c.person == sa.bindparam("old_person"))
            .values(family=sa.bindparam("new_family"), given=sa.bindparam("new_given"))
        )
        rows = []
        for person in people:
            family, given = name_keys(person)
            rows.append({"old_person": person, "new_family": family, "new_given": given})
        if rows:
            bind.execute(update, rows)


def downgrade() -> None:
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("given")
            batch.drop_column("family")
