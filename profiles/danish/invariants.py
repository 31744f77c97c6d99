"""Native Python forms of the invariants of the built-in Danish home-measurement Observation profile.

See DANISH-STANDARDS.md §4 (the home-measurement Observation) and the profile
``dk-tm-observation`` in the built-in package, which states each rule as FHIRPath
(dk-tm-obs-1 .. dk-tm-obs-5).  Every home measurement the hub receives is checked against them,
so they run natively: each function gives the same answer as its FHIRPath expression (keyed by
the exact expression text; a changed expression silently falls back to FHIRPath), and returns
None - "evaluate the FHIRPath instead" - for any shape it does not handle (extension-only
primitives, non-object values, several ``[x]`` properties).  A test compares both forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# (focus, %resource, %rootResource) -> True (holds), False (fails), None (ask FHIRPath)
DanishNative = Callable[[Any, dict[str, Any], dict[str, Any]], bool | None]

MEASUREMENT_SYSTEMS = frozenset(
    {"urn:oid:1.2.208.176.2.1", "urn:oid:1.2.208.184.100.8", "urn:iso:std:iso:11073:10101"}
)
CONTEXT_SYSTEM = "urn:oid:1.2.208.184.100.1"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
UCUM = "http://unitsofmeasure.org"
_WITH_ZONE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


# what _choice answers for shapes it leaves to FHIRPath
_NOT_PLAIN: tuple[str, Any] = ("", None)


def _choice(focus: dict[str, Any], stem: str) -> tuple[str, Any] | None:
    """The one ``stem[x]`` property: (name, value); None when absent; ``_NOT_PLAIN`` otherwise."""
    size = len(stem)
    partner = "_" + stem
    found: tuple[str, Any] | None = None
    for key, value in focus.items():
        if key[:size] == stem and key[size : size + 1].isupper():
            if found is not None:
                return _NOT_PLAIN
            found = (key, value)
        elif key[: size + 1] == partner and len(key) > size + 1:
            return _NOT_PLAIN  # extension-only or extended primitive: FHIRPath knows how
    return found


def _codings(focus: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    concept = focus.get(name)
    if concept is None:
        return []
    if not isinstance(concept, dict) or "_coding" in concept:
        return None
    codings = concept.get("coding")
    if codings is None:
        return []
    if not isinstance(codings, list) or not all(isinstance(c, dict) and "_system" not in c for c in codings):
        return None
    return codings


def dk_tm_obs_1(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """A measurement code from NPU, MedCom or IEEE 11073 MDC."""
    codings = _codings(focus, "code") if isinstance(focus, dict) else None
    if codings is None:
        return None
    return any(isinstance(c.get("system"), str) and c["system"] in MEASUREMENT_SYSTEMS for c in codings)


def dk_tm_obs_2(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """effective[x] carries seconds and a time zone."""
    if not isinstance(focus, dict):
        return None
    effective = _choice(focus, "effective")
    if effective is None:
        return True
    if effective is _NOT_PLAIN or not isinstance(effective[1], str):
        return None  # a Period, Timing or odd value: toString() is the engine's business
    return _WITH_ZONE.search(effective[1]) is not None


def dk_tm_obs_3(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """The subject is referenced, or identified by CPR."""
    if not isinstance(focus, dict):
        return None
    subject = focus.get("subject")
    if subject is None:
        return False
    if not isinstance(subject, dict):
        return None
    if "reference" in subject or "_reference" in subject:
        return True
    identifier = subject.get("identifier")
    if identifier is None:
        return False
    if not isinstance(identifier, dict) or "_system" in identifier:
        return None
    return identifier.get("system") == CPR_SYSTEM


def dk_tm_obs_4(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """At most one of POT/PNT and at most one of AUT/TPD among the measurement context codes."""
    codings = _codings(focus, "method") if isinstance(focus, dict) else None
    if codings is None or any("_code" in c for c in codings):
        return None
    context = [c.get("code") for c in codings if c.get("system") == CONTEXT_SYSTEM]
    if not all(c is None or isinstance(c, str) for c in context):
        return None
    return sum(c in ("POT", "PNT") for c in context) <= 1 and sum(c in ("AUT", "TPD") for c in context) <= 1


def dk_tm_obs_5(focus: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """A Quantity value has a number, the UCUM system and a unit code (three-valued, as FHIRPath)."""
    if not isinstance(focus, dict):
        return None
    value = _choice(focus, "value")
    if value is None:
        return True
    if value is _NOT_PLAIN:
        return None
    quantity = value[1]
    if not isinstance(quantity, dict):
        return False  # value.value of a primitive is empty, so the conjunction is false
    if any(k in quantity for k in ("_value", "_system", "_code")):
        return None
    system = quantity.get("system")
    if system is not None and not isinstance(system, str):
        return None
    terms = (
        quantity.get("value") is not None,
        None if system is None else system == UCUM,
        quantity.get("code") is not None,
    )
    # "true and {}" is {} (no system to compare), which an invariant lets pass: only false fails
    return False not in terms


DANISH_NATIVES: dict[tuple[str, str], DanishNative] = {
    (
        "dk-tm-obs-1",
        "code.coding.where(system = 'urn:oid:1.2.208.176.2.1' or system = 'urn:oid:1.2.208.184.100.8' or "
        "system = 'urn:iso:std:iso:11073:10101').exists()",
    ): dk_tm_obs_1,
    (
        "dk-tm-obs-2",
        "effective.exists() implies effective.toString().matches('^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
        "[0-9]{2}:[0-9]{2}(\\\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$')",
    ): dk_tm_obs_2,
    (
        "dk-tm-obs-3",
        "subject.reference.exists() or subject.identifier.where(system = 'urn:oid:1.2.208.176.1.2').exists()",
    ): dk_tm_obs_3,
    (
        "dk-tm-obs-4",
        "method.coding.where(system = 'urn:oid:1.2.208.184.100.1' and (code = 'POT' or code = 'PNT'))"
        ".count() <= 1 and method.coding.where(system = 'urn:oid:1.2.208.184.100.1' and "
        "(code = 'AUT' or code = 'TPD')).count() <= 1",
    ): dk_tm_obs_4,
    (
        "dk-tm-obs-5",
        "value.exists() implies (value.value.exists() and value.system = 'http://unitsofmeasure.org' and "
        "value.code.exists())",
    ): dk_tm_obs_5,
}
