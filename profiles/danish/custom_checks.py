"""Danish rules that FHIRPath cannot express, as "custom checks" the profile validator calls.

A :class:`CustomCheck` is called with the instance value at an element and the FHIRPath expression
of that value, and returns issues.  :class:`CustomCheckRegistry` is a read-only mapping from
(profile URL, element path) to checks, the shape ``profiles.validator.ProfileValidator(custom_checks=...)``
takes.  The Danish checks sit on elements outside any slice (``Patient.identifier``, not
``Patient.identifier:cpr.value``), so the element id and the element path are the same string and a
validator may key by either; each such element is named in its profile's differential, so it is in
the generated snapshot.  The checks dispatch on ``Identifier.system`` and complement the profiles'
FHIRPath invariants without repeating them (no issue is reported twice):

* ``dk-tm-cpr-1/2/3`` (10 digits, DDMM range, modulus 11 as a warning) are invariants; the calendar date
  with the century rule is :func:`check_cpr_identifier_date` here;
* identifiers inside references (``Observation.subject.identifier``, Consent actors, DocumentReference
  authors) have no slice and no invariant for their value, so :func:`check_danish_identifier` applies
  every rule of the identifier's system (CPR, SOR, authorisation id) there.

Profile rules: DANISH-STANDARDS.md §4.1 (DK Core identifiers), issue 3 ("The Danish telemedicine
profiles"), issue 6 ("Danish negative consent").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from hub.core.issues import Issue
from profiles.builtin import BuiltinProfile
from profiles.danish.cpr import check_cpr, check_cpr_date
from profiles.danish.organisation_ids import check_authorisation_id, check_sor_code
from profiles.danish.systems import DanishIdentifierSystem


class CustomCheck(Protocol):
    """``(value, path) -> issues``: ``value`` is the JSON value at the element, ``path`` its FHIRPath."""

    def __call__(self, value: Any, path: str) -> list[Issue]: ...


_VALUE_CHECKS: dict[str, Callable[[Any, str], list[Issue]]] = {
    DanishIdentifierSystem.CPR.value: check_cpr,
    DanishIdentifierSystem.SOR.value: check_sor_code,
    DanishIdentifierSystem.AUTHORISATION_ID.value: check_authorisation_id,
}


def check_danish_identifier(value: Any, path: str) -> list[Issue]:
    """All value rules of a Danish ``Identifier`` (by its ``system``); other identifiers pass."""
    if not isinstance(value, Mapping):
        return []
    check = _VALUE_CHECKS.get(str(value.get("system")))
    if check is None or "value" not in value:
        return []
    return check(value["value"], f"{path}.value")


def check_cpr_identifier_date(value: Any, path: str) -> list[Issue]:
    """The CPR birth-date rule for a CPR ``Identifier`` (other identifiers pass)."""
    if not isinstance(value, Mapping) or value.get("system") != DanishIdentifierSystem.CPR.value:
        return []
    return check_cpr_date(value.get("value"), f"{path}.value")


class CustomCheckRegistry(Mapping[tuple[str, str], tuple[CustomCheck, ...]]):
    """Checks keyed by (profile URL, element path); ``url|version`` lookups go through :meth:`checks_for`."""

    def __init__(self) -> None:
        self._checks: dict[tuple[str, str], tuple[CustomCheck, ...]] = {}

    def register(self, profile_url: str, element_id: str, check: CustomCheck) -> None:
        key = (profile_url, element_id)
        self._checks[key] = (*self._checks.get(key, ()), check)

    def checks_for(self, profile_url: str, element_id: str) -> tuple[CustomCheck, ...]:
        """The checks for one element of one profile (empty when none); ``url|version`` is accepted."""
        return self._checks.get((profile_url.split("|", 1)[0], element_id), ())

    def elements(self, profile_url: str) -> tuple[str, ...]:
        """The element ids of ``profile_url`` that have checks (lets a validator skip the lookups)."""
        url = profile_url.split("|", 1)[0]
        return tuple(element for profile, element in self._checks if profile == url)

    def __getitem__(self, key: tuple[str, str]) -> tuple[CustomCheck, ...]:
        return self._checks[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)


_DANISH_RULES: tuple[tuple[BuiltinProfile, str, CustomCheck], ...] = (
    (BuiltinProfile.PATIENT, "Patient.identifier", check_cpr_identifier_date),
    (BuiltinProfile.OBSERVATION, "Observation.subject.identifier", check_danish_identifier),
    (BuiltinProfile.OBSERVATION, "Observation.performer.identifier", check_danish_identifier),
    (BuiltinProfile.DOCUMENT_REFERENCE, "DocumentReference.subject.identifier", check_danish_identifier),
    (BuiltinProfile.DOCUMENT_REFERENCE, "DocumentReference.author.identifier", check_danish_identifier),
    (
        BuiltinProfile.DOCUMENT_REFERENCE,
        "DocumentReference.context.sourcePatientInfo.identifier",
        check_danish_identifier,
    ),
    (BuiltinProfile.CONSENT, "Consent.patient.identifier", check_danish_identifier),
    (BuiltinProfile.CONSENT, "Consent.provision.actor.reference.identifier", check_danish_identifier),
)


def danish_checks() -> CustomCheckRegistry:
    """A registry holding the checks of telehub's built-in Danish profiles."""
    registry = CustomCheckRegistry()
    for profile, element_id, check in _DANISH_RULES:
        registry.register(profile.value, element_id, check)
    return registry
