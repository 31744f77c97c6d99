"""The citizen's access log (MinLog-like, DANISH-STANDARDS.md §3.4): who looked at my data, when, from which
organisation, and whether it was an emergency override.  Read from the audit log by the citizen's own CPR."""

from __future__ import annotations

from hub.core.errors import ForbiddenError
from hub.fhir.access import principal_of
from hub.fhir.context import RequestContext
from hub.fhir.service import FhirService
from hub.storage import audit_search_txn
from security import AccessLogEntry, citizen_access_log, record_from_bytes

MAX_ENTRIES = 1000


async def access_log(svc: FhirService, ctx: RequestContext) -> tuple[str, list[AccessLogEntry]]:
    """The authenticated citizen's CPR and the newest accesses by others to their data."""
    principal = principal_of(ctx)
    if not principal.is_citizen or principal.cpr is None:
        raise ForbiddenError(
            "the access log is shown to the citizen it concerns (a citizen token with a CPR)",
            message_id="TH-MINLOG-CITIZEN-ONLY",
        )
    rows, _ = await svc.db.run(
        "access_log",
        audit_search_txn,
        patient_key=principal.cpr,
        since_us=None,
        until_us=None,
        action=None,
        before_seq=None,
        limit=MAX_ENTRIES,
    )
    return principal.cpr, citizen_access_log((record_from_bytes(r.record) for r in rows), principal.cpr)
