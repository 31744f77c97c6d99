"""Run-time options of the profile validator: how references, security and publication rules apply.

These are the switches the HL7 reference validator exposes on its command line and in its test
manifest (https://confluence.hl7.org/display/FHIR/Using+the+FHIR+Validator): ``-assumeValidRestReferences``,
the reference validation policy (``validateReference``), ``-security-checks``, ``-forPublication``
and ``-bundle {rule} {profile}``.  The defaults are the hub's own (a REST server, so a relative
``Type/id`` reference names a resource of that type); the conformance suite runner sets them per
case from the manifest.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ReferencePolicy(enum.Enum):
    """How far references to resources not at hand are followed (java ``ReferenceValidationPolicy``)."""

    IGNORE = "IGNORE"
    CHECK_TYPE_IF_EXISTS = "CHECK_TYPE_IF_EXISTS"
    CHECK_EXISTS = "CHECK_EXISTS"
    CHECK_EXISTS_AND_TYPE = "CHECK_EXISTS_AND_TYPE"
    CHECK_VALID = "CHECK_VALID"

    @property
    def checks_existence(self) -> bool:
        return self in (
            ReferencePolicy.CHECK_EXISTS,
            ReferencePolicy.CHECK_EXISTS_AND_TYPE,
            ReferencePolicy.CHECK_VALID,
        )


@dataclass(frozen=True, slots=True)
class BundleRule:
    """Chosen Bundle entries against a profile: ``Patient:0`` (the first Patient), ``Patient`` (all)."""

    rule: str
    profile: str

    def matches(self, resource_type: str, index_of_type: int) -> bool:
        wanted, _, position = self.rule.partition(":")
        if wanted != resource_type:
            return False
        return not position or (position.isdigit() and int(position) == index_of_type)


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """Switches of one validator (or one call); all rules not named here always apply."""

    # an unresolvable ``Type/id`` reference is taken to point at a resource of that Type
    assume_valid_rest_references: bool = True
    # references that do not resolve in the resource or its Bundle: ignore, or report
    reference_policy: ReferencePolicy = ReferencePolicy.IGNORE
    # strings that look like HTML are errors (else information only)
    security_checks: bool = False
    # HL7-published definitions must state their owning work group
    for_publication: bool = False
    bundle_rules: tuple[BundleRule, ...] = ()


DEFAULT_OPTIONS = ValidationOptions()
