"""Re-extracting the search-index rows of stored resources (``telehub reindex``).

Index rows are written with each version, by the search parameters known at that moment.  A SearchParameter
added later (through the API or an installed package) therefore finds only resources written after it; a
re-index extracts every live resource's rows again with today's parameters.  It reads the current versions in
rid order, a batch per transaction, and replaces a resource's rows only if its version is still the one read
(a concurrent write has indexed its newer version itself).  Old versions are never indexed (history is not
searchable), deleted resources have no rows.  Each batch commits on its own and reports the last rid it
covered, so an interrupted run resumes from there (``after``) instead of starting again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from hub.core.search import IndexEntry
from hub.fhir.service import FhirService
from hub.storage import IndexedVersion, current_versions_txn, replace_index_txn

REINDEX_BATCH = 500


@dataclass(frozen=True, slots=True)
class ReindexResult:
    resources: int  # live resources read
    replaced: int  # of those, re-indexed (the others changed meanwhile and were indexed by that write)
    rows: int  # index rows written
    last_rid: int = 0  # every live resource up to this rid is done (resume with after=last_rid)


async def reindex(
    svc: FhirService,
    types: Sequence[str] = (),
    *,
    batch: int = REINDEX_BATCH,
    after: int = 0,
    progress: Callable[[ReindexResult], None] | None = None,
) -> ReindexResult:
    """Re-index every live resource (of ``types``, or of all types) whose rid is above ``after`` with the
    current search registry."""
    read, replaced, rows = 0, 0, 0
    while True:
        versions = await svc.db.run("reindex_read", current_versions_txn, after, batch, tuple(types))
        if not versions:
            break
        work: list[tuple[IndexedVersion, Sequence[IndexEntry]]] = []
        for version in versions:
            entries, _ = svc.indexer.index(orjson.loads(version.data))
            work.append((version, entries))
        replaced += await svc.db.run_write("reindex_write", replace_index_txn, work)
        read += len(versions)
        rows += sum(len(entries) for _, entries in work)
        after = versions[-1].rid
        if progress is not None:
            progress(ReindexResult(read, replaced, rows, after))
    return ReindexResult(read, replaced, rows, after)


__all__ = ["REINDEX_BATCH", "ReindexResult", "reindex"]
