"""XDS.b registry and repository tables: DocumentEntry, SubmissionSet, Folder, Association, their code,
author and referenceId tables, and the repository's document rows (IHE ITI TF-3 4.1, ITI TF-2a 3.18).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
XdsId = sa.String(64)
XdsText = sa.String(512)


def _object_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("pk", RowId, primary_key=True, autoincrement=True),
        sa.Column("entry_uuid", XdsId, nullable=False, unique=True),
        sa.Column("logical_id", XdsId, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("latest", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("patient_key", sa.String(128), nullable=True),
        sa.Column("submitted_us", sa.BigInteger, nullable=False),
        sa.Column("ebrim", sa.LargeBinary, nullable=False),
    ]


def _child(name: str, parent: str, key: str, *columns: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column(key, RowId, sa.ForeignKey(f"{parent}.pk", ondelete="CASCADE"), nullable=False),
        *columns,
    )


def upgrade() -> None:
    op.create_table(
        "xds_document_entry",
        *_object_columns(),
        sa.Column("unique_id", XdsText, nullable=False),
        sa.Column("object_type", sa.String(16), nullable=False),
        *(
            sa.Column(f"{field}_{part}", XdsText, nullable=True)
            for field in ("class", "type", "format", "facility", "practice")
            for part in ("code", "scheme")
        ),
        sa.Column("creation_key", sa.BigInteger, nullable=True),
        sa.Column("service_start_key", sa.BigInteger, nullable=True),
        sa.Column("service_stop_key", sa.BigInteger, nullable=True),
        sa.Column("mime_type", XdsText, nullable=True),
        sa.Column("hash", XdsText, nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("repository_unique_id", XdsText, nullable=True),
    )
    op.create_index(
        "ix_xds_de_patient_class", "xds_document_entry", ["patient_key", "class_code", "creation_key"]
    )
    op.create_index("ix_xds_de_patient_created", "xds_document_entry", ["patient_key", "creation_key"])
    op.create_index("ix_xds_de_unique_id", "xds_document_entry", ["unique_id"])
    op.create_index("ix_xds_de_logical_id", "xds_document_entry", ["logical_id", "version"])

    _child(
        "xds_entry_code",
        "xds_document_entry",
        "entry_pk",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", XdsText, nullable=False),
        sa.Column("scheme", XdsText, nullable=False),
    )
    op.create_index("ix_xds_entry_code", "xds_entry_code", ["entry_pk", "kind", "code"])
    _child("xds_entry_author", "xds_document_entry", "entry_pk", sa.Column("person", XdsText, nullable=False))
    op.create_index("ix_xds_entry_author", "xds_entry_author", ["entry_pk"])
    _child(
        "xds_entry_reference", "xds_document_entry", "entry_pk", sa.Column("value", XdsText, nullable=False)
    )
    op.create_index("ix_xds_entry_reference", "xds_entry_reference", ["entry_pk", "value"])

    op.create_table(
        "xds_submission_set",
        *_object_columns(),
        sa.Column("unique_id", XdsText, nullable=False),
        sa.Column("source_id", XdsText, nullable=True),
        sa.Column("submission_key", sa.BigInteger, nullable=True),
        sa.Column("content_type_code", XdsText, nullable=True),
        sa.Column("content_type_scheme", XdsText, nullable=True),
    )
    op.create_index("ix_xds_ss_patient_time", "xds_submission_set", ["patient_key", "submission_key"])
    op.create_index("ix_xds_ss_unique_id", "xds_submission_set", ["unique_id"])
    op.create_index("ix_xds_ss_logical_id", "xds_submission_set", ["logical_id", "version"])
    _child(
        "xds_submission_set_author",
        "xds_submission_set",
        "set_pk",
        sa.Column("person", XdsText, nullable=False),
    )
    op.create_index("ix_xds_ss_author", "xds_submission_set_author", ["set_pk"])

    op.create_table(
        "xds_folder",
        *_object_columns(),
        sa.Column("unique_id", XdsText, nullable=False),
        sa.Column("last_update_key", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_xds_folder_patient_time", "xds_folder", ["patient_key", "last_update_key"])
    op.create_index("ix_xds_folder_unique_id", "xds_folder", ["unique_id"])
    op.create_index("ix_xds_folder_logical_id", "xds_folder", ["logical_id", "version"])
    _child(
        "xds_folder_code",
        "xds_folder",
        "folder_pk",
        sa.Column("code", XdsText, nullable=False),
        sa.Column("scheme", XdsText, nullable=False),
    )
    op.create_index("ix_xds_folder_code", "xds_folder_code", ["folder_pk", "code"])

    op.create_table(
        "xds_association",
        *_object_columns(),
        sa.Column("association_type", sa.String(128), nullable=False),
        sa.Column("source_uuid", XdsId, nullable=False),
        sa.Column("target_uuid", XdsId, nullable=False),
    )
    op.create_index("ix_xds_assoc_source", "xds_association", ["source_uuid", "association_type"])
    op.create_index("ix_xds_assoc_target", "xds_association", ["target_uuid", "association_type"])
    op.create_index("ix_xds_assoc_logical_id", "xds_association", ["logical_id", "version"])

    op.create_table(
        "xds_repository_document",
        sa.Column("unique_id", XdsText, primary_key=True),
        sa.Column("repository_unique_id", XdsText, nullable=False),
        sa.Column("mime_type", XdsText, nullable=False),
        sa.Column("sha1", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("patient_key", sa.String(128), nullable=True),
        sa.Column("stored_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_xds_repo_sha256", "xds_repository_document", ["sha256"])


def downgrade() -> None:
    for name in (
        "xds_repository_document",
        "xds_association",
        "xds_folder_code",
        "xds_folder",
        "xds_submission_set_author",
        "xds_submission_set",
        "xds_entry_reference",
        "xds_entry_author",
        "xds_entry_code",
        "xds_document_entry",
    ):
        op.drop_table(name)
