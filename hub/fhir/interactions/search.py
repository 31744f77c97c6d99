"""search (https://hl7.org/fhir/R4/http.html#search, search.html).

One SQL statement per page (hub.storage.search_sql), keyset paging through the
opaque ``_cursor`` (stable while data changes), an exact ``Bundle.total`` unless
``_total=none``, and one level of ``_include``/``_revinclude``.  Consent is part
of the SQL, so totals, pages and includes agree.  Unknown parameters: ignored
with a warning under ``Prefer: handling=lenient`` (default), 400 under strict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import InvalidInputError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from hub.core.search import Criterion, Modifier, ReferenceQuery, SearchParamType
from hub.fhir.bundles import (
    decode_cursor,
    encode_cursor,
    full_url,
    link,
    new_bundle,
    page_url,
    resource_fragment,
)
from hub.fhir.context import Handling, RequestContext
from hub.fhir.outcomes import BundleOutcome
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.resource_types import ensure_supported
from hub.fhir.search import SearchRequest, apply_elements, parse_search_request
from hub.fhir.service import FhirService
from hub.storage import (
    Page,
    SearchSpec,
    StoredResource,
    count_txn,
    include_txn,
    patient_ref_txn,
    revinclude_txn,
    search_page_txn,
    withheld_exists_txn,
)

MAX_INCLUDES = 1000
_RESERVED = ("_cursor", "_dir", "_format", "_pretty")


def compartment_hint(criteria: Sequence[Criterion]) -> str | None:
    """A Patient id that every match must belong to, so the query can filter on ``patient_key`` first."""
    for c in criteria:
        if (
            c.param_type is SearchParamType.REFERENCE
            and c.code in ("patient", "subject")
            and c.modifier is Modifier.NONE
            and c.chain is None
            and len(c.values) == 1
            and isinstance(c.values[0], ReferenceQuery)
            and c.values[0].target_type in ("Patient", None)
            and c.values[0].target_id
            and c.values[0].url is None
        ):
            return c.values[0].target_id
    return None


# Types whose patient_key comes from the very reference the ``patient``/``subject`` parameter searches.
_KEYED_BY_REFERENCE = frozenset({"Observation", "Consent", "Device", "DocumentReference"})


def build_spec(resource_type: str, request: SearchRequest, decision: AccessDecision) -> SearchSpec:
    hint = compartment_hint(request.criteria) if resource_type in _KEYED_BY_REFERENCE else None
    return SearchSpec(
        res_type=resource_type,
        criteria=tuple(request.criteria),
        sort=tuple(request.sort),
        patient_key=decision.patient_key,  # a citizen: only their own compartment
        patient_ref=hint,
        consent=decision.consent,
    )


async def find_page_txn(
    conn: AsyncConnection,
    spec: SearchSpec,
    request: SearchRequest,
    cursor: list[Any] | None,
    backwards: bool,
    count: int,
    want_total: bool,
) -> tuple[Page, int | None, list[StoredResource], bool]:
    include_consent = spec.consent  # included resources may belong to other patients
    if spec.patient_ref is not None:
        ref_keys, blocked = await patient_ref_txn(conn, spec.patient_ref, spec.consent)
        # every match belongs to this patient; one who blocks nobody relevant: nothing to filter or withhold
        spec = replace(spec, patient_ref_keys=ref_keys, consent=spec.consent if blocked else None)
    shaped = spec.shape()
    page = (
        await search_page_txn(conn, spec, after=cursor, backwards=backwards, limit=count, shaped=shaped)
        if count
        else Page([], None, None, False, False)
    )
    total: int | None = None
    if want_total:
        first_and_only = count and cursor is None and not backwards and not page.more_after
        total = len(page.resources) if first_and_only else await count_txn(conn, spec, shaped)
    included: list[StoredResource] = []
    rids = [s.rid for s in page.resources]
    for inc in request.includes:
        included += await include_txn(
            conn, rids, inc.param_hash, inc.target_type, include_consent, MAX_INCLUDES
        )
    targets = [(s.res_type, s.res_id) for s in page.resources]
    for rev in request.revincludes:
        included += await revinclude_txn(
            conn, targets, rev.source_type, rev.param_hash, include_consent, MAX_INCLUDES
        )
    withheld = await withheld_exists_txn(conn, spec, shaped)
    return page, total, included, withheld


async def search(
    svc: FhirService, ctx: RequestContext, resource_type: str, params: Sequence[tuple[str, str]]
) -> BundleOutcome:
    ensure_supported(resource_type, svc.supported_types)
    decision = svc.policy.check(ctx, Action.SEARCH, resource_type)
    own = {n: v for n, v in params if n in _RESERVED}
    request = parse_search_request(
        svc.indexer.registry,
        resource_type,
        [(n, v) for n, v in params if n not in _RESERVED],
        local_base=svc.indexer.local_base,
    )
    warnings: list[Issue] = []
    if request.unknown:
        names = ", ".join(sorted(request.unknown))
        if ctx.handling is Handling.STRICT:
            raise InvalidInputError(
                f"unknown search parameter(s) for {resource_type}: {names}",
                message_id="TH-SEARCH-UNKNOWN-PARAM",
            )
        warnings.append(
            Issue(
                IssueSeverity.WARNING,
                IssueType.NOT_SUPPORTED,
                f"unknown search parameter(s) ignored: {names}",
                message_id="TH-SEARCH-UNKNOWN-PARAM",
            )
        )
    count = min(
        request.count if request.count is not None else svc.settings.default_page_size,
        svc.settings.max_page_size,
    )
    if request.summary_count:
        count = 0
    cursor = decode_cursor(own["_cursor"]) if "_cursor" in own else None
    if cursor is not None and len(cursor) != len(request.sort) + 1:
        raise InvalidInputError(
            "the paging cursor does not belong to this search", message_id="TH-SEARCH-CURSOR"
        )
    backwards = own.get("_dir") == "prev"
    spec = build_spec(resource_type, request, decision)
    want_total = request.total != "none" or request.summary_count
    page, total, included, withheld = await svc.db.run(
        "fhir_search", find_page_txn, spec, request, cursor, backwards, count, want_total
    )
    if withheld:
        warnings.append(
            Issue(
                IssueSeverity.WARNING,
                IssueType.SUPPRESSED,
                "some data may have been withheld according to the patient's consent",
                message_id="TH-CONSENT-WITHHELD",
            )
        )
    bundle = _bundle(ctx, resource_type, params, request, page, total, included, warnings)
    patients = tuple(sorted({s.patient_key for s in page.resources if s.patient_key}))
    await svc.audit.record(
        ctx,
        AuditEntry(
            Action.SEARCH,
            "0",
            resource_type,
            tuple(s.res_id for s in page.resources),
            patients,
            detail=page_url("", params)[1:],
        ),
        decision,
    )
    return BundleOutcome(body=bundle, warnings=tuple(warnings))


def _bundle(
    ctx: RequestContext,
    resource_type: str,
    params: Sequence[tuple[str, str]],
    request: SearchRequest,
    page: Page,
    total: int | None,
    included: list[StoredResource],
    warnings: list[Issue],
) -> dict[str, Any]:
    base = f"{ctx.base_url}/{resource_type}"
    keep = [(n, v) for n, v in params if n not in ("_cursor", "_dir")]
    bundle = new_bundle("searchset", total=total)
    links = [link("self", page_url(base, params))]
    if page.more_after and page.last_key is not None:
        links.append(link("next", page_url(base, [*keep, ("_cursor", encode_cursor(page.last_key))])))
    if page.more_before and page.first_key is not None:
        links.append(
            link(
                "previous",
                page_url(base, [*keep, ("_cursor", encode_cursor(page.first_key)), ("_dir", "prev")]),
            )
        )
    bundle["link"] = links
    entries: list[dict[str, Any]] = []
    for stored in page.resources:
        entries.append(
            {
                "fullUrl": full_url(ctx.base_url, stored),
                "resource": _body(stored, request),
                "search": {"mode": "match"},
            }
        )
    seen = {(s.res_type, s.res_id) for s in page.resources}
    for stored in included:
        if (stored.res_type, stored.res_id) in seen:
            continue
        seen.add((stored.res_type, stored.res_id))
        entries.append(
            {
                "fullUrl": full_url(ctx.base_url, stored),
                "resource": resource_fragment(stored),
                "search": {"mode": "include"},
            }
        )
    if warnings:
        entries.append({"resource": operation_outcome(warnings), "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def _body(stored: StoredResource, request: SearchRequest) -> Any:
    if request.elements:
        assert stored.data is not None
        return apply_elements(orjson.loads(stored.data), request.elements)
    return resource_fragment(stored)
