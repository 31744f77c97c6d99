"""Native Python forms of the hottest core R4 invariants (same meaning as their FHIRPath).

See https://hl7.org/fhir/R4/domainresource.html#invs (dom-2..dom-6),
https://hl7.org/fhir/R4/references.html#invs (ref-1), https://hl7.org/fhir/R4/datatypes.html
(per-1, qty-3, att-1, cpt-2), https://hl7.org/fhir/R4/narrative.html (txt-1, txt-2),
https://hl7.org/fhir/R4/observation.html#invs (obs-3, obs-6, obs-7) and
https://hl7.org/fhir/R4/bundle.html#invs (bdl-2, -3, -4, -7, -11, -12: a 100-entry Bundle costs
several milliseconds in FHIRPath).  They are keyed by the exact (key, expression) of
hl7.fhir.r4.core 4.0.1, so a profile that redefines a key with a different expression still goes
through FHIRPath.  Running these through fhirpathpy costs 70-400 µs each; every resource and
most data types carry some of them.  A native form may answer None: "this data needs FHIRPath".
The invariants of the built-in Danish home-measurement Observation
(:mod:`profiles.danish.invariants`) join them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from profiles.danish.invariants import DANISH_NATIVES
from profiles.narrative import narrative_problems

# (focus, %resource, %rootResource) -> holds; None: this data needs the FHIRPath evaluation
Native = Callable[[Any, dict[str, Any], dict[str, Any]], bool | None]


def _contained(focus: Any) -> list[dict[str, Any]]:
    items = focus.get("contained") if isinstance(focus, dict) else None
    return [c for c in items or () if isinstance(c, dict)]


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            yield current
        elif isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _has_choice(focus: dict[str, Any], stem: str) -> bool:
    size = len(stem)
    for key in focus:
        if key[:1] == "_":
            if key[1 : size + 1] == stem and key[size + 1 : size + 2].isupper():
                return True
        elif key[:size] == stem and key[size : size + 1].isupper():
            return True
    return False


def dom_2(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return all(not c.get("contained") for c in _contained(focus))


def dom_3(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    contained = _contained(focus)
    if not contained:
        return True
    references = set(_strings({k: v for k, v in focus.items() if k != "contained"}))
    for item in contained:
        others = [c for c in contained if c is not item]
        references.update(_strings(others))
    # narrative may point at contained resources too (<img src="#id">, <a href="#id">)
    narrative = [r for r in references if r.startswith("<div")]
    for item in contained:
        ident = item.get("id")
        if not isinstance(ident, str):
            continue
        if f"#{ident}" in references or "#" in set(_strings(item)):
            continue
        if any(f'"#{ident}"' in div or f"'#{ident}'" in div for div in narrative):
            continue
        return False
    return True


def dom_4(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    for item in _contained(focus):
        meta = item.get("meta")
        if isinstance(meta, dict) and ("versionId" in meta or "lastUpdated" in meta):
            return False
    return True


def dom_5(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    for item in _contained(focus):
        meta = item.get("meta")
        if isinstance(meta, dict) and meta.get("security"):
            return False
    return True


def dom_6(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    text = focus.get("text") if isinstance(focus, dict) else None
    return isinstance(text, dict) and "div" in text


def ref_1(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    reference = focus.get("reference") if isinstance(focus, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#") or reference == "#":
        return True  # "#" alone points at the container resource
    return reference[1:] in {c.get("id") for c in _contained(root)}


def per_1(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    start, end = focus.get("start"), focus.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    if len(start) != len(end) or (start[10:11] == "T" and (start[-6:] != end[-6:] or start[-1:] != end[-1:])):
        return True  # different precision or zone: left to a full date comparison (not done natively)
    return start <= end


def qty_3(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return "code" not in focus or "system" in focus


def att_1(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return "data" not in focus or "contentType" in focus


def cpt_2(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return "value" not in focus or "system" in focus


def txt_1(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return isinstance(focus, str) and not narrative_problems(focus)


def obs_3(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return "low" in focus or "high" in focus or "text" in focus


def obs_6(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    return "dataAbsentReason" not in focus or not _has_choice(focus, "value")


def obs_7(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
    if not _has_choice(focus, "value"):
        return True
    own = [c for c in ((resource.get("code") or {}).get("coding") or ()) if isinstance(c, dict)]
    for component in focus.get("component") or ():
        codings = ((component or {}).get("code") or {}).get("coding") or ()
        if any(c in own for c in codings):
            return False
    return True


def _entries(focus: Any) -> list[dict[str, Any]] | None:
    """Bundle.entry as objects; None when some entry is not an object (left to FHIRPath)."""
    entries = focus.get("entry") if isinstance(focus, dict) else None
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    return entries


def _bundle_type(bundle: Any) -> str | bool | None:
    """Bundle.type; None when absent, False when it is not a plain string (left to FHIRPath)."""
    if not isinstance(bundle, dict) or "_type" in bundle:
        return False
    value = bundle.get("type")
    return value if value is None or isinstance(value, str) else False


def bdl_2(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    entries, kind = _entries(focus), _bundle_type(focus)
    if entries is None or kind is False:
        return None
    if all(e.get("search") is None for e in entries):
        return True
    return kind is None or kind == "searchset"  # no type: "false or {}" is {}, which passes


def _request_rule(field: str, kinds: frozenset[str]) -> Native:
    def rule(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        entries, kind = _entries(focus), _bundle_type(resource)
        if entries is None or kind is False:
            return None
        if not entries:
            return True
        if kind is None:
            return False  # "exists() = {}" is {} for every entry, and all() wants true
        expected = kind in kinds
        return all((e.get(field) is not None) == expected for e in entries)

    return rule


bdl_3 = _request_rule("request", frozenset({"batch", "transaction", "history"}))
bdl_4 = _request_rule("response", frozenset({"batch-response", "transaction-response", "history"}))


def bdl_7(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    entries, kind = _entries(focus), _bundle_type(focus)
    if entries is None or kind is False:
        return None
    if kind == "history":
        return True
    keys = []
    for entry in entries:
        full_url = entry.get("fullUrl")
        if full_url is None:
            continue
        meta = (entry.get("resource") or {}).get("meta") if isinstance(entry.get("resource"), dict) else None
        version = meta.get("versionId") if isinstance(meta, dict) else None
        if not isinstance(full_url, str) or not (version is None or isinstance(version, str)):
            return None
        key = full_url + (version or "")
        if key[:1].isdigit():
            return None  # could compare as a date in FHIRPath
        keys.append(key)
    if len(set(keys)) == len(keys):
        return True
    return kind is None  # no type: "{} or false" is {}, which passes


def _first_entry_rule(bundle_kind: str, resource_type: str) -> Native:
    def rule(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        entries, kind = _entries(focus), _bundle_type(focus)
        if entries is None or kind is False:
            return None
        if kind != bundle_kind or not entries:
            return True
        first = entries[0].get("resource")
        if first is None:
            return True  # "true implies {}" is {}, which passes
        if not isinstance(first, dict):
            return None
        return first.get("resourceType") == resource_type

    return rule


bdl_11 = _first_entry_rule("document", "Composition")
bdl_12 = _first_entry_rule("message", "MessageHeader")


NATIVES: dict[tuple[str, str], Native] = {
    ("bdl-2", "entry.search.empty() or (type = 'searchset')"): bdl_2,
    (
        "bdl-3",
        "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
        "%resource.type = 'history'))",
    ): bdl_3,
    (
        "bdl-4",
        "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
        "'transaction-response' or %resource.type = 'history'))",
    ): bdl_4,
    (
        "bdl-7",
        "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
        ".isDistinct()",
    ): bdl_7,
    ("bdl-11", "type = 'document' implies entry.first().resource.is(Composition)"): bdl_11,
    ("bdl-12", "type = 'message' implies entry.first().resource.is(MessageHeader)"): bdl_12,
    ("dom-2", "contained.contained.empty()"): dom_2,
    (
        "dom-3",
        "contained.where((('#'+id in (%resource.descendants().reference | "
        "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
        "%resource.descendants().as(url))) or descendants().where(reference = '#').exists() or "
        "descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#')"
        ".exists()).not()).trace('unmatched', id).empty()",
    ): dom_3,
    ("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"): dom_4,
    ("dom-5", "contained.meta.security.empty()"): dom_5,
    ("dom-6", "text.`div`.exists()"): dom_6,
    (
        "ref-1",
        "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
        "%rootResource.contained.id.trace('ids'))",
    ): ref_1,
    ("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"): per_1,
    ("qty-3", "code.empty() or system.exists()"): qty_3,
    ("att-1", "data.empty() or contentType.exists()"): att_1,
    ("cpt-2", "value.empty() or system.exists()"): cpt_2,
    ("txt-1", "htmlChecks()"): txt_1,
    ("txt-2", "htmlChecks()"): txt_1,
    ("obs-3", "low.exists() or high.exists() or text.exists()"): obs_3,
    ("obs-6", "dataAbsentReason.empty() or value.empty()"): obs_6,
    (
        "obs-7",
        "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()",
    ): obs_7,
}
NATIVES.update(DANISH_NATIVES)
