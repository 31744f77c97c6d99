"""Bundle rules beyond the core invariants: fullUrl form and its agreement with the resource id.

See https://hl7.org/fhir/R4/bundle.html#bundle-unique ("fullUrl SHALL ... agree with the id of
the resource") and https://hl7.org/fhir/R4/bundle.html#references.
"""

from __future__ import annotations

import re
from typing import Any

from hub.core.issues import IssueType
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

# a RESTful fullUrl ends in [type]/[id]; other absolute URLs (http://something) carry no id to compare
_RESTFUL = re.compile(r"^https?://.+/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def check(bundle: dict[str, Any], ctx: ValidationContext) -> None:
    for index, entry in enumerate(bundle.get("entry") or ()):
        if not isinstance(entry, dict):
            continue
        path = f"Bundle.entry[{index}]"
        full_url = entry.get("fullUrl")
        resource = entry.get("resource")
        if not isinstance(full_url, str):
            continue
        if ":" not in full_url:
            ctx.error(
                IssueType.INVALID,
                f"The fullUrl must be an absolute URL (not '{full_url}')",
                path,
                MessageId.BUNDLE_FULLURL,
            )
            continue
        if not isinstance(resource, dict) or full_url.startswith("urn:"):
            continue
        if _RESTFUL.search(full_url.split("/_history/", 1)[0]) and "id" not in resource:
            ctx.error(
                IssueType.INVALID,
                f"The fullUrl '{full_url}' looks like a RESTful server URL, but the resource has no id",
                path,
                MessageId.BUNDLE_FULLURL,
            )
            continue
        ident, resource_type = resource.get("id"), resource.get("resourceType")
        tail = full_url.split("/_history/", 1)[0]
        restful = _RESTFUL.search(tail)
        if (
            isinstance(ident, str)
            and isinstance(resource_type, str)
            and restful
            and (restful.group(1) != resource_type or restful.group(2) != ident)
        ):
            ctx.error(
                IssueType.INVALID,
                f"The fullUrl '{full_url}' does not match the resource {resource_type}/{ident}",
                path,
                MessageId.BUNDLE_FULLURL,
            )
    if bundle.get("type") == "document":
        _reachable(bundle, ctx)


def entry_full_url(bundle: dict[str, Any], resource: dict[str, Any]) -> str | None:
    for entry in bundle.get("entry") or ():
        if isinstance(entry, dict) and entry.get("resource") is resource:
            full_url = entry.get("fullUrl")
            return full_url if isinstance(full_url, str) else None
    return None


def resolve(bundle: dict[str, Any], reference: str, full_url: str | None) -> list[dict[str, Any]]:
    """Entries ``reference`` resolves to by the fullUrl rules of https://hl7.org/fhir/R4/bundle.html#references.

    A relative ``Type/id`` reference is resolved against the base of the referring entry's RESTful
    fullUrl; an absolute reference (or urn:) must equal an entry's fullUrl.
    """
    reference, _, version = reference.partition("/_history/")
    if reference.startswith(("urn:", "http://", "https://")):
        wanted = reference
    else:
        base = _RESTFUL.search(full_url.split("/_history/", 1)[0]) if full_url else None
        if base is None:
            return []
        wanted = full_url.split("/_history/", 1)[0][: base.start(1)] + reference  # type: ignore[union-attr]
    found = []
    for entry in bundle.get("entry") or ():
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            candidate = entry.get("fullUrl")
            if isinstance(candidate, str) and candidate.split("/_history/", 1)[0] == wanted:
                found.append(entry["resource"])
    if version and found:  # a versioned reference picks the entry with that meta.versionId
        found = [r for r in found if (r.get("meta") or {}).get("versionId") == version.strip("/")]
    return found


def _references(value: Any) -> list[str]:
    out: list[str] = []
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("reference")
            if isinstance(ref, str):
                out.append(ref)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return out


def _reachable(bundle: dict[str, Any], ctx: ValidationContext) -> None:
    """Every entry of a document is reachable from the Composition by following references."""
    entries = [
        e for e in bundle.get("entry") or () if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    if not entries or entries[0]["resource"].get("resourceType") != "Composition":
        return
    seen = {0}
    queue = [0]
    while queue:
        index = queue.pop()
        entry = entries[index]
        for reference in _references(entry["resource"]):
            for target in resolve(bundle, reference, entry.get("fullUrl")):
                position = next(i for i, e in enumerate(entries) if e["resource"] is target)
                if position not in seen:
                    seen.add(position)
                    queue.append(position)
    for index, entry in enumerate(entries):
        if index not in seen:
            ctx.error(
                IssueType.INVALID,
                f"Entry '{entry.get('fullUrl')}' isn't reachable by traversing links (forward or backward) "
                "from the Composition",
                f"Bundle.entry[{index}]",
                MessageId.BUNDLE_RULE,
            )
