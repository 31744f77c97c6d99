"""Reading the entries of a batch/transaction Bundle: request method and URL, and the rewriting of
``urn:uuid:`` references to the ids the server assigns (https://hl7.org/fhir/R4/http.html#trules)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hub.core.errors import InvalidInputError
from hub.fhir.primitives import control_character


class EntryMethod(enum.Enum):
    GET = "GET"
    HEAD = "HEAD"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


# Processing order within a transaction (http.html#trules): deletes, creates, updates, reads.
ORDER = {
    EntryMethod.DELETE: 0,
    EntryMethod.POST: 1,
    EntryMethod.PUT: 2,
    EntryMethod.PATCH: 2,
    EntryMethod.GET: 3,
    EntryMethod.HEAD: 3,
}


@dataclass(slots=True)
class BundleEntry:
    index: int
    method: EntryMethod
    resource_type: str
    resource_id: str | None
    version: str | None
    query: str  # the part after '?' (search or conditional criteria)
    full_url: str | None
    resource: dict[str, Any] | None
    if_none_exist: str | None
    if_match: str | None

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}]"


def _fail(index: int, text: str, field: str = "request") -> InvalidInputError:
    return InvalidInputError(
        f"Bundle.entry[{index}]: {text}",
        expression=f"Bundle.entry[{index}].{field}",
        message_id="TH-BUNDLE-ENTRY",
    )


def parse_entry(index: int, entry: Any) -> BundleEntry:
    if not isinstance(entry, dict):
        raise _fail(index, "an entry must be a JSON object", "")
    request = entry.get("request")
    if not isinstance(request, dict):
        raise _fail(index, "request is required in a batch or transaction entry")
    try:
        method = EntryMethod(request.get("method"))
    except ValueError as exc:
        raise _fail(index, f"unknown request.method {request.get('method')!r}", "request.method") from exc
    url = request.get("url")
    if not isinstance(url, str) or not url:
        raise _fail(index, "request.url is required", "request.url")
    for field in ("url", "ifNoneExist", "ifMatch", "ifModifiedSince", "ifNoneMatch"):
        value = request.get(field)
        if isinstance(value, str) and (control := control_character(value)) is not None:
            raise _fail(
                index, f"request.{field} contains the control character {control}", f"request.{field}"
            )
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise _fail(index, f"request.url {url!r} names no resource type", "request.url")
    version = None
    if len(segments) == 4 and segments[2] == "_history":
        version = segments[3]
    elif len(segments) > 2:
        raise _fail(index, f"request.url {url!r} is not Type, Type/id or Type?query", "request.url")
    resource = entry.get("resource")
    if resource is not None and not isinstance(resource, dict):
        raise _fail(index, "resource must be a JSON object", "resource")
    if method in (EntryMethod.POST, EntryMethod.PUT) and resource is None:
        raise _fail(index, f"a {method.value} entry needs a resource", "resource")
    full_url = entry.get("fullUrl")
    return BundleEntry(
        index=index,
        method=method,
        resource_type=segments[0],
        resource_id=segments[1] if len(segments) > 1 else None,
        version=version,
        query=parts.query,
        full_url=full_url if isinstance(full_url, str) else None,
        resource=resource,
        if_none_exist=request.get("ifNoneExist") if isinstance(request.get("ifNoneExist"), str) else None,
        if_match=request.get("ifMatch") if isinstance(request.get("ifMatch"), str) else None,
    )


def rewrite_references(value: Any, mapping: dict[str, str]) -> Any:
    """Replace, in place, every ``reference`` (and attachment ``url``) of ``value`` found in ``mapping``."""
    if not mapping:
        return value
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("reference", "url") and isinstance(item, str) and item in mapping:
                    node[key] = mapping[item]
                elif isinstance(item, dict | list):
                    stack.append(item)
        elif isinstance(node, list):
            stack.extend(i for i in node if isinstance(i, dict | list))
    return value
