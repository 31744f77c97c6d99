"""Storage: one schema on SQLite and PostgreSQL, SQL only here, every transaction named."""

from hub.storage.database import Database, TxnMetrics
from hub.storage.history_store import history_count_txn, history_cursor, history_txn
from hub.storage.migrator import SchemaState, ensure_ready, head_revision, upgrade
from hub.storage.records import CurrentState, StoredResource
from hub.storage.resource_store import (
    NewResource,
    insert_new_many_txn,
    insert_new_txn,
    lock_current_txn,
    read_current_many_txn,
    read_current_txn,
    read_version_txn,
    write_version_txn,
)
from hub.storage.search_sql import ConsentBlock
from hub.storage.search_store import (
    Page,
    SearchSpec,
    count_txn,
    include_txn,
    revinclude_txn,
    search_page_txn,
    withheld_exists_txn,
)

__all__ = [
    "ConsentBlock",
    "CurrentState",
    "Database",
    "NewResource",
    "Page",
    "SchemaState",
    "SearchSpec",
    "StoredResource",
    "TxnMetrics",
    "count_txn",
    "ensure_ready",
    "head_revision",
    "history_count_txn",
    "history_cursor",
    "history_txn",
    "include_txn",
    "insert_new_many_txn",
    "insert_new_txn",
    "lock_current_txn",
    "read_current_many_txn",
    "read_current_txn",
    "read_version_txn",
    "revinclude_txn",
    "search_page_txn",
    "upgrade",
    "withheld_exists_txn",
    "write_version_txn",
]
