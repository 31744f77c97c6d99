"""The citizen's access log (MinLog-like, DANISH-STANDARDS.md §3.4): who looked at my data, when, from which
organisation, and whether it was an emergency override.  Read from the audit log by the citizen's own CPR."""

from __future__ import annotations

from hub.core.errors import ForbiddenError
from hub.fhir.access import principal_of
from hub.fhir.context import RequestContext
from hub.fhir.service import FhirService
from hub.storage import successful_actions_txn
from security import DATA_ACCESS_ACTIONS, AccessLogEntry, citizen_access_log, record_from_bytes

MAX_ENTRIES = 1000
_PAGE = 1000  # candidate records read per statement
MAX_SCANNED = 100_000  # candidates looked at for one log (the citizen's own lookups are skipped)
_ACTIONS = tuple(sorted(a.value for a in DATA_ACCESS_ACTIONS))


async def access_log(svc: FhirService, ctx: RequestContext) -> tuple[str, list[AccessLogEntry]]:
    """The authenticated citizen's CPR and the newest accesses by others to their data."""
    principal = principal_of(ctx)
    if not principal.is_citizen or principal.cpr is None:
        raise ForbiddenError(
            "the access log is shown to the citizen it concerns (a citizen token with a CPR)",
            message_id="TH-MINLOG-CITIZEN-ONLY",
        )
    entries: list[AccessLogEntry] = []
    before: int | None = None
    for _ in range(MAX_SCANNED // _PAGE):
        rows = await svc.db.run(
            "access_log",
            successful_actions_txn,
            patient_key=principal.cpr,
            actions=_ACTIONS,
            before_seq=before,
            limit=_PAGE,
        )
        entries.extend(citizen_access_log((record_from_bytes(r.record) for r in rows), principal.cpr))
        if len(rows) < _PAGE or len(entries) >= MAX_ENTRIES:
            break
        before = rows[-1].seq
    return principal.cpr, entries[:MAX_ENTRIES]
