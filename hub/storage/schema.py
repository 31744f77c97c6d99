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
        Column("rid", RowId, nullable=False),  # no foreign key: derived rows (migration 0004 says why)
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


def _audit_record_columns() -> list[Column[Any]]:
    """What an audit record holds: chained (audit_log), or waiting for its turn (audit_pending)."""
    return [
        Column("recorded_us", BigInteger, nullable=False),
        Column("action", String(64), nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("patient_key", String(64), nullable=True),
        Column("actor", String(512), nullable=True),
        Column("organisation", String(64), nullable=True),
        Column("purpose", String(32), nullable=True),
        Column("override", Boolean, nullable=False, default=False),
        Column("record", Text, nullable=False),  # canonical JSON of the BALP-shaped record
    ]


audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    *_audit_record_columns(),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_patient", "patient_key", "seq"),
)

# Records waiting for their place in the chain (PostgreSQL): written in the transaction they record; at its
# commit a deferred trigger moves each into audit_log with its hashes (revision 0005), so this table is empty
# outside open transactions.
audit_pending = Table(
    "audit_pending",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    *_audit_record_columns(),
)

# ------------------------------------------------------------------ Danish negative consent (from Consent)

consent_block = Table(
    "consent_block",
    metadata,
    Column("consent_rid", RowId, ForeignKey("resource.rid", ondelete="CASCADE"), nullable=False),
    Column("patient_key", String(64), nullable=False),
    Column("actor_kind", String(32), nullable=False),  # everyone | authorisation-id | organisation-sor
    Column("actor_id", String(64), nullable=True),  # "*" for everyone
    Column("valid_from_us", BigInteger, nullable=True),  # revision 0002
    Column("valid_until_us", BigInteger, nullable=True),  # exclusive; NULL = open
    Index("ix_consent_block_patient", "patient_key", "actor_kind", "actor_id"),
    Index("ix_consent_block_rid", "consent_rid"),
)

# ------------------------------------------------------------------ replay defence (revision 0006)
# One row per single-use credential key (an ID card, or an ID card + message id), kept until the credential
# expires, so every worker and a restarted process refuse a replay (``hub.storage.replay_store``).

replay_guard = Table(
    "replay_guard",
    metadata,
    Column("key_hash", String(64), primary_key=True),  # SHA-256 hex of the replay key
    Column("expires_us", BigInteger, nullable=False),  # epoch microseconds (incl. clock skew)
    Index("ix_replay_guard_expires", "expires_us"),
)

# -------------------------------------------------------------- XDS.b registry + repository (revision 0003)
# Native tables (IHE ITI TF-3 4.1; stored-query parameters of ITI TF-2a 3.18.4.1.2.3.7 each get an indexed
# column or a code table).  ``ebrim`` keeps every object's registry-form ebRIM 3.0 XML so query responses
# are rebuilt losslessly.  Times are DTM start keys (YYYYMMDDhhmmss as an integer).

XdsId = String(64)  # entryUUID / logicalId ("urn:uuid:" + 36)
XdsText = String(512)


def _registry_object_columns() -> list[Column[Any]]:
    return [
        Column("pk", RowId, primary_key=True, autoincrement=True),
        Column("entry_uuid", XdsId, nullable=False, unique=True),
        Column("logical_id", XdsId, nullable=False),
        Column("version", Integer, nullable=False),
        Column("latest", Boolean, nullable=False, default=True),
        Column("status", String(16), nullable=False),
        Column("patient_key", String(128), nullable=True),
        Column("submitted_us", BigInteger, nullable=False),
        Column("ebrim", LargeBinary, nullable=False),
        # when the object last changed (insert, status, ebRIM, latest flag), epoch µs; revision 0008 (filled
        # from submitted_us for older rows): MHD's meta.lastUpdated and ``_lastUpdated``
        Column("updated_us", BigInteger, nullable=True),
    ]


xds_document_entry = Table(
    "xds_document_entry",
    metadata,
    *_registry_object_columns(),
    Column("unique_id", XdsText, nullable=False),
    Column("object_type", String(16), nullable=False),
    Column("class_code", XdsText, nullable=True),
    Column("class_scheme", XdsText, nullable=True),
    Column("type_code", XdsText, nullable=True),
    Column("type_scheme", XdsText, nullable=True),
    Column("format_code", XdsText, nullable=True),
    Column("format_scheme", XdsText, nullable=True),
    Column("facility_code", XdsText, nullable=True),
    Column("facility_scheme", XdsText, nullable=True),
    Column("practice_code", XdsText, nullable=True),
    Column("practice_scheme", XdsText, nullable=True),
    Column("creation_key", BigInteger, nullable=True),
    Column("service_start_key", BigInteger, nullable=True),
    Column("service_stop_key", BigInteger, nullable=True),
    Column("mime_type", XdsText, nullable=True),
    Column("hash", XdsText, nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("repository_unique_id", XdsText, nullable=True),
    # FindDocuments: patient first, then the most selective common filters (classCode + creationTime)
    Index("ix_xds_de_patient_class", "patient_key", "class_code", "creation_key"),
    Index("ix_xds_de_patient_created", "patient_key", "creation_key"),
    Index("ix_xds_de_unique_id", "unique_id"),
    Index("ix_xds_de_logical_id", "logical_id", "version"),
)

xds_entry_code = Table(
    "xds_entry_code",
    metadata,
    Column("entry_pk", RowId, ForeignKey("xds_document_entry.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # event | confidentiality
    Column("code", XdsText, nullable=False),
    Column("scheme", XdsText, nullable=False),
    Index("ix_xds_entry_code", "entry_pk", "kind", "code"),
)

xds_entry_author = Table(
    "xds_entry_author",
    metadata,
    Column("entry_pk", RowId, ForeignKey("xds_document_entry.pk", ondelete="CASCADE"), nullable=False),
    Column("person", XdsText, nullable=False),
    # the person's family and given names in search form (hub.storage.author_names), revision 0007
    Column("family", XdsText, nullable=True),
    Column("given", XdsText, nullable=True),
    Index("ix_xds_entry_author", "entry_pk"),
)

xds_entry_reference = Table(
    "xds_entry_reference",
    metadata,
    Column("entry_pk", RowId, ForeignKey("xds_document_entry.pk", ondelete="CASCADE"), nullable=False),
    Column("value", XdsText, nullable=False),
    # CX.1 and the CX.4 universal id of the CXi (hub.storage.reference_keys), revision 0009: MHD related
    Column("id_value", XdsText, nullable=True),
    Column("authority", XdsText, nullable=True),
    Index("ix_xds_entry_reference", "entry_pk", "value"),
)

xds_submission_set = Table(
    "xds_submission_set",
    metadata,
    *_registry_object_columns(),
    Column("unique_id", XdsText, nullable=False),
    Column("source_id", XdsText, nullable=True),
    Column("submission_key", BigInteger, nullable=True),
    Column("content_type_code", XdsText, nullable=True),
    Column("content_type_scheme", XdsText, nullable=True),
    Index("ix_xds_ss_patient_time", "patient_key", "submission_key"),
    Index("ix_xds_ss_unique_id", "unique_id"),
    Index("ix_xds_ss_logical_id", "logical_id", "version"),
)

xds_submission_set_author = Table(
    "xds_submission_set_author",
    metadata,
    Column("set_pk", RowId, ForeignKey("xds_submission_set.pk", ondelete="CASCADE"), nullable=False),
    Column("person", XdsText, nullable=False),
    Column("family", XdsText, nullable=True),  # as xds_entry_author's
    Column("given", XdsText, nullable=True),
    Index("ix_xds_ss_author", "set_pk"),
)

xds_folder = Table(
    "xds_folder",
    metadata,
    *_registry_object_columns(),
    Column("unique_id", XdsText, nullable=False),
    Column("last_update_key", BigInteger, nullable=True),
    Index("ix_xds_folder_patient_time", "patient_key", "last_update_key"),
    Index("ix_xds_folder_unique_id", "unique_id"),
    Index("ix_xds_folder_logical_id", "logical_id", "version"),
)

xds_folder_code = Table(
    "xds_folder_code",
    metadata,
    Column("folder_pk", RowId, ForeignKey("xds_folder.pk", ondelete="CASCADE"), nullable=False),
    Column("code", XdsText, nullable=False),
    Column("scheme", XdsText, nullable=False),
    Index("ix_xds_folder_code", "folder_pk", "code"),
)

xds_association = Table(
    "xds_association",
    metadata,
    *_registry_object_columns(),
    Column("association_type", String(128), nullable=False),
    Column("source_uuid", XdsId, nullable=False),
    Column("target_uuid", XdsId, nullable=False),
    Index("ix_xds_assoc_source", "source_uuid", "association_type"),
    Index("ix_xds_assoc_target", "target_uuid", "association_type"),
    Index("ix_xds_assoc_logical_id", "logical_id", "version"),
)

# The repository's documents: metadata of the bytes in the content-addressed blob store (key = sha256).
xds_repository_document = Table(
    "xds_repository_document",
    metadata,
    Column("unique_id", XdsText, primary_key=True),
    Column("repository_unique_id", XdsText, nullable=False),
    Column("mime_type", XdsText, nullable=False),
    Column("sha1", String(40), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("patient_key", String(128), nullable=True),
    Column("stored_us", BigInteger, nullable=False),
    Index("ix_xds_repo_sha256", "sha256"),
)

XDS_TABLES: tuple[Table, ...] = (
    xds_document_entry,
    xds_entry_code,
    xds_entry_author,
    xds_entry_reference,
    xds_submission_set,
    xds_submission_set_author,
    xds_folder,
    xds_folder_code,
    xds_association,
    xds_repository_document,
)
