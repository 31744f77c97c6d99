"""Matching for conditional interactions (https://hl7.org/fhir/R4/http.html#ccreate): the criteria string of
``If-None-Exist`` / ``ifNoneExist`` is run as a search inside the caller's transaction.

Two conditional creates with the same criteria must not both find nothing and both insert.  SQLite's single
writer already serialises them; on PostgreSQL the transaction first locks the criteria (type plus the sorted
parameters), so the second one waits and then finds what the first stored.  Different criteria that happen
to match the same resource are not serialised (as in other servers, the guarantee is per criteria)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import InvalidInputError
from hub.fhir.pipeline import AccessDecision
from hub.fhir.search import parse_search_request
from hub.fhir.service import FhirService
from hub.storage import SearchSpec, StoredResource, lock_keys_txn, search_page_txn


def _query(criteria: str) -> str:
    return criteria.split("?", 1)[1] if "?" in criteria else criteria


def _criteria_key(resource_type: str, criteria: str) -> str:
    pairs = sorted(parse_qsl(_query(criteria), keep_blank_values=True))
    return f"ccreate:{resource_type}?{urlencode(pairs)}"


async def lock_criteria_txn(conn: AsyncConnection, items: Iterable[tuple[str, str]]) -> None:
    """Lock several (type, criteria) at once, in one sorted order: a transaction Bundle with two conditional
    creates cannot then deadlock with another that names them the other way round."""
    await lock_keys_txn(conn, {_criteria_key(resource_type, criteria) for resource_type, criteria in items})


async def find_matches_txn(
    conn: AsyncConnection,
    svc: FhirService,
    resource_type: str,
    criteria: str,
    decision: AccessDecision,
    *,
    limit: int,
) -> list[StoredResource]:
    query = _query(criteria)
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
    await lock_criteria_txn(conn, [(resource_type, criteria)])  # re-entrant when the Bundle locked it already
    spec = SearchSpec(res_type=resource_type, criteria=tuple(request.criteria), sort=())
    page = await search_page_txn(conn, spec, after=None, backwards=False, limit=limit)
    return page.resources
