"""history at instance and type level (https://hl7.org/fhir/R4/http.html#history).

Parameters: ``_count``, ``_since`` (instant) and the server's opaque ``_cursor``
for the next page.  Delete markers appear as entries without a resource.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import InvalidInputError
from hub.fhir.bundles import decode_cursor, encode_cursor, history_entry, link, new_bundle, page_url
from hub.fhir.context import RequestContext
from hub.fhir.outcomes import BundleOutcome
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.resource_types import ensure_supported
from hub.fhir.search import date_range
from hub.fhir.service import FhirService
from hub.storage import StoredResource, history_count_txn, history_cursor, history_txn


def _count(svc: FhirService, params: Sequence[tuple[str, str]]) -> int:
    for name, value in params:
        if name == "_count":
            if not value.isdigit():
                raise InvalidInputError(
                    f"_count {value!r} is not a non-negative integer", message_id="TH-SEARCH-COUNT"
                )
            return min(int(value), svc.settings.max_page_size)
    return svc.settings.default_page_size


def parse_since(params: Sequence[tuple[str, str]]) -> int | None:
    for name, value in params:
        if name == "_since":
            bounds = date_range(value)
            if bounds is None or "T" not in value:
                raise InvalidInputError(
                    f"_since {value!r} is not a FHIR instant", message_id="TH-HISTORY-SINCE"
                )
            return bounds[0]
    return None


async def _history_page_txn(
    conn: AsyncConnection,
    resource_type: str | None,
    resource_id: str | None,
    since: int | None,
    before: tuple[int, int, int] | None,
    limit: int,
    decision: AccessDecision,
) -> tuple[list[StoredResource], int]:
    rows = await history_txn(
        conn,
        res_type=resource_type,
        res_id=resource_id,
        since_us=since,
        before=before,
        limit=limit,
        consent=decision.consent,
        patient_key=decision.patient_key,
    )
    total = await history_count_txn(
        conn,
        res_type=resource_type,
        res_id=resource_id,
        since_us=since,
        consent=decision.consent,
        patient_key=decision.patient_key,
    )
    return rows, total


async def history(
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str | None,
    resource_id: str | None,
    params: Sequence[tuple[str, str]],
) -> BundleOutcome:
    if resource_type is not None:
        ensure_supported(resource_type, svc.supported_types)
    decision = svc.policy.check(ctx, Action.HISTORY, resource_type)
    count = _count(svc, params)
    since = parse_since(params)
    cursor_text = next((v for n, v in params if n == "_cursor"), None)
    before: tuple[int, int, int] | None = None
    if cursor_text is not None:
        raw = decode_cursor(cursor_text)
        if len(raw) != 3 or not all(isinstance(v, int) for v in raw):
            raise InvalidInputError(
                "the paging cursor is not one this server issued", message_id="TH-SEARCH-CURSOR"
            )
        before = (raw[0], raw[1], raw[2])

    rows, total = await svc.db.run(
        "fhir_history", _history_page_txn, resource_type, resource_id, since, before, count + 1, decision
    )
    more = len(rows) > count
    rows = rows[:count]
    base = ctx.base_url + "".join(f"/{p}" for p in (resource_type, resource_id) if p) + "/_history"
    keep = [(n, v) for n, v in params if n != "_cursor"]
    bundle = new_bundle("history", total=total)
    links = [link("self", page_url(base, params))]
    if more and (cursor := history_cursor(rows)) is not None:
        links.append(link("next", page_url(base, [*keep, ("_cursor", encode_cursor(cursor))])))
    bundle["link"] = links
    bundle["entry"] = [history_entry(ctx.base_url, r) for r in rows]
    patients = tuple(sorted({r.patient_key for r in rows if r.patient_key}))
    await svc.audit.record(
        ctx,
        AuditEntry(Action.HISTORY, "0", resource_type, (resource_id,) if resource_id else (), patients),
        decision,
    )
    return BundleOutcome(body=bundle)
