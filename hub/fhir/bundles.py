"""Building server Bundles (searchset, history, transaction-response) around stored bytes
(https://hl7.org/fhir/R4/bundle.html), plus opaque paging cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson

from hub.core.errors import InvalidInputError
from hub.core.instants import fhir_instant, now_us
from hub.fhir.outcomes import WriteOutcome
from hub.storage import StoredResource


def encode_cursor(values: Sequence[object]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(text: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidInputError(
            "the paging cursor is not one this server issued", message_id="TH-SEARCH-CURSOR"
        ) from exc
    if not isinstance(value, list) or not value:
        raise InvalidInputError(
            "the paging cursor is not one this server issued", message_id="TH-SEARCH-CURSOR"
        )
    return value


def full_url(base_url: str, stored: StoredResource) -> str:
    return f"{base_url}/{stored.res_type}/{stored.res_id}"


def resource_fragment(stored: StoredResource) -> orjson.Fragment:
    assert stored.data is not None
    return orjson.Fragment(stored.data)


def link(relation: str, url: str) -> dict[str, str]:
    return {"relation": relation, "url": url}


def page_url(base: str, params: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(params))
    return f"{base}?{query}" if query else base


def new_bundle(bundle_type: str, *, total: int | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": fhir_instant(now_us())},
        "type": bundle_type,
    }
    if total is not None:
        bundle["total"] = total
    return bundle


def history_entry(base_url: str, stored: StoredResource) -> dict[str, Any]:
    url = f"{stored.res_type}/{stored.res_id}"
    entry: dict[str, Any] = {"fullUrl": f"{base_url}/{url}"}
    if stored.data is not None:
        entry["resource"] = resource_fragment(stored)
    method = stored.method if stored.method in ("POST", "PUT", "DELETE", "PATCH") else "PUT"
    entry["request"] = {
        "method": method if method != "PATCH" else "PATCH",
        "url": url if method != "POST" else stored.res_type,
    }
    entry["response"] = {
        "status": "410 Gone" if stored.deleted else ("201 Created" if stored.version == 1 else "200 OK"),
        "etag": f'W/"{stored.version}"',
        "lastModified": fhir_instant(stored.last_updated),
    }
    return entry


def written_entry(base_url: str, outcome: WriteOutcome) -> dict[str, Any]:
    """The response entry of a create/update inside a batch or transaction."""
    stored = outcome.stored
    item: dict[str, Any] = {"fullUrl": full_url(base_url, stored)}
    if stored.data is not None:
        item["resource"] = resource_fragment(stored)
    item["response"] = {
        "status": "201 Created" if outcome.created else "200 OK",
        "location": f"{stored.res_type}/{stored.res_id}/_history/{stored.version}",
        "etag": f'W/"{stored.version}"',
        "lastModified": fhir_instant(stored.last_updated),
    }
    return item
