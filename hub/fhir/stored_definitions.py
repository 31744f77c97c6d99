"""Definitions stored through the REST API, kept in step with the validator's canonical registry.

Issue 3: "StructureDefinitions, ValueSets and CodeSystems created or updated through the REST API are
also picked up by the validator straight away, as in HAPI and Firely"
(https://hl7.org/fhir/R4/validation.html).  The write interactions tell the validator about every change
they make (:func:`definition_stored`).  :class:`DefinitionWatcher` covers what one process cannot see
by itself: at start-up it replays the stored CodeSystems, ValueSets, StructureDefinitions and
SearchParameters into the registry (they survive a restart), and while the hub runs it polls their
version history (``ix_version_type_updated``) so that a definition written through another worker or
another host is applied a few seconds later.  Only the newest version of each definition is applied, and
only once; the poll re-reads a short overlap so a transaction that committed late is not missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.fhir.resource_types import CONFORMANCE_TYPES
from hub.fhir.service import FhirService
from hub.storage import StoredResource, history_cursor, history_txn

log = logging.getLogger("telehub.validation")

# Terminology first: a profile's bindings name ValueSets, ValueSets name CodeSystems.
DEFINITION_ORDER = ("CodeSystem", "ValueSet", "StructureDefinition", "SearchParameter")
POLL_SECONDS = 5.0
OVERLAP_US = 30_000_000  # re-read this much history each poll: writes commit after their timestamp
_PAGE = 500


def definition_stored(svc: FhirService, resource_type: str, resource_id: str, data: bytes | None) -> None:
    """Tell the validator that a definition was written (``data``: the stored JSON) or deleted (None)."""
    if resource_type not in CONFORMANCE_TYPES:
        return
    if data is None:
        svc.validator.conformance_resource_changed({"resourceType": resource_type, "id": resource_id}, True)
        return
    resource: dict[str, Any] = orjson.loads(data)
    svc.validator.conformance_resource_changed(resource, False)


class DefinitionWatcher:
    """Replays stored definitions into the validator at start-up, then polls for changes."""

    def __init__(self, svc: FhirService, *, interval: float = POLL_SECONDS) -> None:
        self.svc = svc
        self.interval = interval
        self._since: int | None = None
        self._applied: dict[tuple[str, str], int] = {}

    async def poll(self) -> int:
        """Apply the newest version of every definition changed since the last poll (superseded versions,
        e.g. a SearchParameter created and deleted again, are never applied); returns how many."""
        since = None if self._since is None else max(0, self._since - OVERLAP_US)
        versions = await self.svc.db.run("definition_history", _history_txn, since)
        newest: dict[tuple[str, str], StoredResource] = {}
        for stored in versions:  # grouped by type in DEFINITION_ORDER, oldest first within a type
            newest[(stored.res_type, stored.res_id)] = stored
            self._since = max(self._since or 0, stored.last_updated)
        applied = 0
        for key, stored in newest.items():
            if self._applied.get(key, 0) >= stored.version:
                continue
            self._applied[key] = stored.version
            try:
                definition_stored(self.svc, stored.res_type, stored.res_id, stored.data)
            except Exception:
                # one unusable stored definition must not stop the others (or the hub) from loading
                log.exception("stored %s/%s could not be applied", stored.res_type, stored.res_id)
                continue
            applied += 1
        return applied

    async def run(self) -> None:
        """Poll every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                count = await self.poll()
            except Exception:
                log.exception("polling stored definitions failed; retrying in %.0f s", self.interval)
                continue
            if count:
                log.info("applied %d definition change(s) written elsewhere", count)


async def _history_txn(conn: AsyncConnection, since_us: int | None) -> list[StoredResource]:
    """Every version of every definition type since ``since_us``, in the order they were written."""
    found: list[StoredResource] = []
    for resource_type in DEFINITION_ORDER:
        rows: list[StoredResource] = []
        before = None
        while True:
            page = await history_txn(
                conn, res_type=resource_type, res_id=None, since_us=since_us, before=before, limit=_PAGE
            )
            rows.extend(page)
            if len(page) < _PAGE:
                break
            before = history_cursor(page)
        rows.reverse()  # history is newest first
        found.extend(rows)
    return found
