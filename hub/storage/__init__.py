"""Storage: one schema on SQLite and PostgreSQL, SQL only here, every transaction named."""

from hub.storage.audit_store import (
    GENESIS,
    AuditRow,
    append_audit_txn,
    audit_head_txn,
    audit_row_txn,
    audit_rows_txn,
    audit_search_txn,
    successful_actions_txn,
)
from hub.storage.blob_store import BlobInfo, BlobStore, FileBlobStore
from hub.storage.consent_store import BlockRow, replace_blocks_txn
from hub.storage.database import Database, TxnMetrics
from hub.storage.engines import lock_keys_txn
from hub.storage.history_store import history_count_txn, history_cursor, history_txn
from hub.storage.migrator import SchemaState, ensure_ready, head_revision, upgrade
from hub.storage.records import CurrentState, StoredResource
from hub.storage.registry_reads import (
    associations_txn,
    entries_by_unique_id_txn,
    known_patient_keys_txn,
    latest_by_logical_id_txn,
    objects_by_uuid_txn,
    packages_by_unique_id_txn,
)
from hub.storage.registry_search import (
    count_submission_sets_txn,
    find_entries_txn,
    find_folders_txn,
    find_submission_sets_txn,
    withheld_entries_exist_txn,
    withheld_folders_exist_txn,
    withheld_sets_exist_txn,
)
from hub.storage.registry_store import delete_objects_txn, insert_registry_txn, update_objects_txn
from hub.storage.replay_store import claim_replay_key_txn
from hub.storage.repository_store import (
    insert_repository_documents_txn,
    referenced_blob_keys_txn,
    repository_documents_txn,
)
from hub.storage.resource_store import (
    NewResource,
    insert_new_many_txn,
    insert_new_txn,
    lock_current_txn,
    patient_ids_of_key_txn,
    patient_keys_txn,
    read_current_many_txn,
    read_current_txn,
    read_version_txn,
    write_version_txn,
)
from hub.storage.search_index_store import IndexedVersion, current_versions_txn, replace_index_txn
from hub.storage.search_sql import ConsentBlock
from hub.storage.search_store import (
    Page,
    SearchSpec,
    count_txn,
    include_txn,
    patient_ref_txn,
    revinclude_txn,
    search_page_txn,
    withheld_exists_txn,
)

__all__ = [
    "GENESIS",
    "AuditRow",
    "BlobInfo",
    "BlobStore",
    "BlockRow",
    "ConsentBlock",
    "CurrentState",
    "Database",
    "FileBlobStore",
    "IndexedVersion",
    "NewResource",
    "Page",
    "SchemaState",
    "SearchSpec",
    "StoredResource",
    "TxnMetrics",
    "append_audit_txn",
    "associations_txn",
    "audit_head_txn",
    "audit_row_txn",
    "audit_rows_txn",
    "audit_search_txn",
    "claim_replay_key_txn",
    "count_submission_sets_txn",
    "count_txn",
    "current_versions_txn",
    "delete_objects_txn",
    "ensure_ready",
    "entries_by_unique_id_txn",
    "find_entries_txn",
    "find_folders_txn",
    "find_submission_sets_txn",
    "head_revision",
    "history_count_txn",
    "history_cursor",
    "history_txn",
    "include_txn",
    "insert_new_many_txn",
    "insert_new_txn",
    "insert_registry_txn",
    "insert_repository_documents_txn",
    "known_patient_keys_txn",
    "latest_by_logical_id_txn",
    "lock_current_txn",
    "lock_keys_txn",
    "objects_by_uuid_txn",
    "packages_by_unique_id_txn",
    "patient_ids_of_key_txn",
    "patient_keys_txn",
    "patient_ref_txn",
    "read_current_many_txn",
    "read_current_txn",
    "read_version_txn",
    "referenced_blob_keys_txn",
    "replace_blocks_txn",
    "replace_index_txn",
    "repository_documents_txn",
    "revinclude_txn",
    "search_page_txn",
    "successful_actions_txn",
    "update_objects_txn",
    "upgrade",
    "withheld_entries_exist_txn",
    "withheld_exists_txn",
    "withheld_folders_exist_txn",
    "withheld_sets_exist_txn",
    "write_version_txn",
]
