"""PostgreSQL chains audit records at commit, inside the database.

Before, an append took the audit-chain advisory lock, read the chain head and inserted the hashed rows from
Python; the lock was held until the commit, and the awaits in between waited for the worker's event loop,
which meanwhile ran other requests' CPU work (43 ms mean wait for the lock under ITI-41 load).

Now a transaction inserts its records into ``audit_pending``.  A deferred constraint trigger fires when the
transaction commits: it takes the same advisory lock, reads the head, inserts the transaction's records into
``audit_log`` in order, each with ``prev_hash`` and ``hash`` = SHA-256 over the previous hash, a newline and
the record's UTF-8 bytes (``security.audit.chain_hash``, which ``telehub audit verify`` recomputes), and
empties its pending rows.  (The trigger is per row, as constraint triggers are; the first call of a commit
does the whole transaction's records and the others find their row gone.)  The lock is held only for that
and the commit itself.  The records of one transaction keep their order; a rolled-back transaction (or
savepoint) leaves nothing.  SQLite keeps chaining in Python (one writer), so it only gets the (unused) table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AUDIT_CHAIN_LOCK = 0x7E1E_AD17  # hub.storage.engines.postgres._AUDIT_CHAIN_LOCK: the key appends serialise on

_FUNCTION = f"""
CREATE FUNCTION telehub_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text;
    pending record;
BEGIN
    PERFORM pg_advisory_xact_lock({AUDIT_CHAIN_LOCK});
    -- the first of this commit's trigger calls chains every pending record the transaction wrote (other
    -- transactions' pending rows are invisible: uncommitted, or chained and removed at their commit)
    IF NOT EXISTS (SELECT 1 FROM audit_pending WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    SELECT hash INTO previous FROM audit_log ORDER BY seq DESC LIMIT 1;
    previous := coalesce(previous, repeat('0', 64));
    FOR pending IN SELECT * FROM audit_pending ORDER BY id LOOP
        INSERT INTO audit_log (recorded_us, action, outcome, patient_key, actor, organisation, purpose,
                               override, record, prev_hash, hash)
        VALUES (pending.recorded_us, pending.action, pending.outcome, pending.patient_key, pending.actor,
                pending.organisation, pending.purpose, pending.override, pending.record, previous,
                encode(sha256(convert_to(previous || E'\\n' || pending.record, 'UTF8')), 'hex'))
        RETURNING hash INTO previous;
    END LOOP;
    DELETE FROM audit_pending;
    RETURN NULL;
END;
$$
"""
_TRIGGER = """
CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION telehub_audit_chain()
"""


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("recorded_us", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(512), nullable=True),
        sa.Column("organisation", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(32), nullable=True),
        sa.Column("override", sa.Boolean, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_pending_chain ON audit_pending")
        op.execute("DROP FUNCTION telehub_audit_chain()")
    op.drop_table("audit_pending")
