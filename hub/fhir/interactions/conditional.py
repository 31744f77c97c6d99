"""Matching for conditional interactions (https://hl7.org/fhir/R4/http.html#ccreate): the criteria string of
``If-None-Exist`` / ``ifNoneExist`` is run as a search inside the caller's transaction.

Two conditional creates with the same criteria must not both find nothing and both insert.  SQLite's single
writer already serialises them; on PostgreSQL the transaction first locks the criteria (type plus the sorted
parameters), so the second one waits and then finds what the first stored.  Different criteria that happen
to match the same resource are not serialised (as in other servers, the guarantee is per criteria)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import InvalidInputError
from hub.fhir.pipeline import AccessDecision
from hub.fhir.search import parse_search_request
from hub.fhir.service import FhirService
from hub.storage import SearchSpec, StoredResource, lock_keys_txn, search_page_txn


async def find_matches_txn(
    conn: AsyncConnection,
    svc: FhirService,
    resource_type: str,
    criteria: str,
    decision: AccessDecision,
    *,
    limit: int,
) -> list[StoredResource]:
    query = criteria.split("?", 1)[1] if "?" in criteria else criteria
    request = parse_search_request(
        svc.indexer.registry,
        resource_type,
        parse_qsl(query, keep_blank_values=True),
        local_base=svc.indexer.local_base,
    )
    if request.unknown or not request.criteria:
        raise InvalidInputError(
            f"conditional criteria {criteria!r} must use known search parameters of {resource_type}",
            message_id="TH-REST-CONDITIONAL-CRITERIA",
        )
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    await lock_keys_txn(conn, {f"ccreate:{resource_type}?{urlencode(pairs)}"})
    spec = SearchSpec(res_type=resource_type, criteria=tuple(request.criteria), sort=())
    page = await search_page_txn(conn, spec, after=None, backwards=False, limit=limit)
    return page.resources
