"""The registry rules' :class:`xds.registry_rules.RegistryLookup` over storage, on one open connection.

The rules of ITI-41/42 (ITI TF-2b 3.42.4.1.3), ITI-57 (3.57.4.1.3) and ITI-62 (3.62.4.1.3) see the registry
through this adapter; it runs inside the submission's write transaction, so what the rules checked is what
the transaction changes.  Each method is one SQL statement over the batch it is given.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import AssociationFilter
from hub.storage import (
    associations_txn,
    entries_by_unique_id_txn,
    known_patient_keys_txn,
    latest_by_logical_id_txn,
    objects_by_uuid_txn,
    packages_by_unique_id_txn,
)
from xds.hl7v2 import CX
from xds.model import Association, DocumentEntry, Folder, RegistryObject, SubmissionSet
from xds.services.registry_rows import decode, patient_key


class ConnectionLookup:
    """RegistryLookup reading through ``conn`` (the caller's transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def objects_by_uuid(self, entry_uuids: Collection[str]) -> Sequence[RegistryObject]:
        # a symbolic id (not a urn:uuid) is never stored: the registry replaced it - no query for those
        stored = [u for u in entry_uuids if u[:9].lower() == "urn:uuid:"]
        return decode(await objects_by_uuid_txn(self._conn, stored)) if stored else []

    async def document_entries_by_unique_id(self, unique_ids: Collection[str]) -> Sequence[DocumentEntry]:
        found = decode(await entries_by_unique_id_txn(self._conn, unique_ids))
        return [o for o in found if isinstance(o, DocumentEntry)]

    async def packages_by_unique_id(self, unique_ids: Collection[str]) -> Sequence[SubmissionSet | Folder]:
        found = decode(await packages_by_unique_id_txn(self._conn, unique_ids))
        return [o for o in found if isinstance(o, SubmissionSet | Folder)]

    async def latest_by_logical_id(self, logical_ids: Collection[str]) -> Sequence[RegistryObject]:
        return decode(await latest_by_logical_id_txn(self._conn, logical_ids))

    async def associations_touching(self, entry_uuids: Collection[str]) -> Sequence[Association]:
        found = decode(await associations_txn(self._conn, AssociationFilter(ends=tuple(entry_uuids))))
        return [o for o in found if isinstance(o, Association)]

    async def known_patients(self, patient_ids: Collection[CX]) -> Collection[CX]:
        keys = {p: patient_key(p) for p in patient_ids}
        known = await known_patient_keys_txn(self._conn, [k for k in keys.values() if k])
        return [p for p, k in keys.items() if k in known]
