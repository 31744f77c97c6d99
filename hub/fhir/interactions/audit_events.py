"""AuditEvent: the hash-chained audit log, exposed read-only as FHIR R4 AuditEvent
(https://hl7.org/fhir/R4/auditevent.html); create/update/delete answer 405.

A citizen's searches are limited to their own CPR (the MinLog-like view: who
looked at my data, from which organisation, and whether it was an emergency
override); admins may search all.  ``id`` is the chain sequence number.
Search parameters: ``patient`` (CPR or ``Patient/<id>``), ``date`` (prefixes
``ge``/``gt``/``le``/``lt``/``eq``), ``action`` (telehub action code, e.g. ``read``,
``ITI-18``, ``login-failure``), ``_count`` and the paging ``_cursor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import InvalidInputError, MethodNotAllowedError, NotFoundError
from hub.fhir.bundles import decode_cursor, encode_cursor, link, new_bundle, page_url
from hub.fhir.context import RequestContext
from hub.fhir.pipeline import Action
from hub.fhir.search import date_range
from hub.fhir.service import FhirService
from hub.storage import AuditRow, audit_row_txn, audit_search_txn, patient_keys_txn
from security import record_from_bytes, to_audit_event

READ_ONLY = "AuditEvent is the hub's audit log: it can be read and searched, never written (405)"


def refuse_write() -> None:
    raise MethodNotAllowedError(READ_ONLY, message_id="TH-AUDIT-READ-ONLY")


def _event(row: AuditRow) -> dict[str, Any]:
    event = to_audit_event(record_from_bytes(row.record))
    event["id"] = str(row.seq)
    return event


async def read_audit_event(svc: FhirService, ctx: RequestContext, event_id: str) -> dict[str, Any]:
    decision = svc.policy.check(ctx, Action.READ, "AuditEvent")
    row = await svc.db.run("audit_read", audit_row_txn, int(event_id)) if event_id.isdigit() else None
    if row is None or (decision.patient_key is not None and row.patient_key != decision.patient_key):
        raise NotFoundError(f"AuditEvent/{event_id} is not known", message_id="TH-REST-NOT-FOUND")
    return _event(row)


def _date_bounds(values: Sequence[str]) -> tuple[int | None, int | None]:
    since = until = None
    for value in values:
        prefix, text = (
            (value[:2], value[2:]) if value[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", value)
        )
        bounds = date_range(text)
        if bounds is None:
            raise InvalidInputError(
                f"date {value!r} is not a FHIR date", expression="date", message_id="TH-SEARCH-DATE"
            )
        if prefix in ("ge", "gt", "eq"):
            since = bounds[0] if prefix != "gt" else bounds[1] + 1
        if prefix in ("le", "lt", "eq"):
            until = bounds[1] if prefix != "lt" else bounds[0] - 1
    return since, until


async def _page_txn(
    conn: AsyncConnection,
    patient: str | None,
    patient_ref: str | None,
    since: int | None,
    until: int | None,
    action: str | None,
    before: int | None,
    limit: int,
) -> tuple[list[AuditRow], int]:
    if patient_ref is not None:
        patient = (await patient_keys_txn(conn, [patient_ref])).get(patient_ref, patient_ref)
    return await audit_search_txn(
        conn,
        patient_key=patient,
        since_us=since,
        until_us=until,
        action=action,
        before_seq=before,
        limit=limit,
    )


async def search_audit_events(
    svc: FhirService, ctx: RequestContext, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    decision = svc.policy.check(ctx, Action.SEARCH, "AuditEvent")
    known = {"patient", "date", "action", "_count", "_cursor"}
    unknown = sorted({n for n, _ in params if n not in known})
    if unknown:
        raise InvalidInputError(
            "unsupported AuditEvent search parameter(s): " + ", ".join(unknown),
            message_id="TH-SEARCH-UNKNOWN-PARAM",
        )
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    patient = patient_ref = None
    if "patient" in values:
        raw = values["patient"][0]
        patient_ref = raw.removeprefix("Patient/") if raw.startswith("Patient/") else None
        patient = None if patient_ref else raw
    if decision.patient_key is not None:  # a citizen: only their own log
        if (patient or decision.patient_key) != decision.patient_key or patient_ref:
            raise InvalidInputError(
                "a citizen may only search their own access log (patient = own CPR)",
                message_id="TH-AUDIT-OWN-ONLY",
            )
        patient = decision.patient_key
    since, until = _date_bounds(values.get("date", []))
    count_text = values.get("_count", [str(svc.settings.default_page_size)])[0]
    if not count_text.isdigit():
        raise InvalidInputError("_count must be a non-negative integer", message_id="TH-SEARCH-COUNT")
    count = min(int(count_text), svc.settings.max_page_size)
    before = None
    if "_cursor" in values:
        raw_cursor = decode_cursor(values["_cursor"][0])
        if len(raw_cursor) != 1 or not isinstance(raw_cursor[0], int):
            raise InvalidInputError(
                "the paging cursor is not one this server issued", message_id="TH-SEARCH-CURSOR"
            )
        before = raw_cursor[0]
    rows, total = await svc.db.run(
        "audit_search",
        _page_txn,
        patient,
        patient_ref,
        since,
        until,
        values.get("action", [None])[0],
        before,
        count + 1,
    )
    more = len(rows) > count
    rows = rows[:count]
    base = f"{ctx.base_url}/AuditEvent"
    bundle = new_bundle("searchset", total=total)
    links = [link("self", page_url(base, params))]
    if more and rows:
        keep = [(n, v) for n, v in params if n != "_cursor"]
        links.append(link("next", page_url(base, [*keep, ("_cursor", encode_cursor([rows[-1].seq]))])))
    bundle["link"] = links
    if rows:
        bundle["entry"] = [
            {"fullUrl": f"{base}/{r.seq}", "resource": _event(r), "search": {"mode": "match"}} for r in rows
        ]
    return bundle
