"""telehub's built-in FHIR package ``telehub.dk.tm``: the Danish telemedicine profiles, as package data.

The package folder (``package/package.json`` plus one JSON resource per file, the NPM package layout of
https://confluence.hl7.org/display/FHIR/NPM+Package+Specification) holds StructureDefinition
differentials (snapshots are generated when the package is loaded), CodeSystems and ValueSets written
for telehub from DANISH-STANDARDS.md §1.4, §2.3, §3.4 and §4.  Canonical base ``http://telehub.dk/fhir``.
"""

from __future__ import annotations

import enum
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PACKAGE_ID = "telehub.dk.tm"
PACKAGE_VERSION = "0.1.0"
CANONICAL_BASE = "http://telehub.dk/fhir"


class BuiltinProfile(enum.Enum):
    """Canonical URLs of the built-in profiles."""

    PATIENT = CANONICAL_BASE + "/StructureDefinition/dk-tm-patient"
    PRACTITIONER = CANONICAL_BASE + "/StructureDefinition/dk-tm-practitioner"
    ORGANIZATION = CANONICAL_BASE + "/StructureDefinition/dk-tm-organization"
    OBSERVATION = CANONICAL_BASE + "/StructureDefinition/dk-tm-observation"
    DEVICE = CANONICAL_BASE + "/StructureDefinition/dk-tm-device"
    DOCUMENT_REFERENCE = CANONICAL_BASE + "/StructureDefinition/dk-tm-documentreference"
    CONSENT = CANONICAL_BASE + "/StructureDefinition/dk-tm-consent"


def package_files() -> Traversable:
    """The ``package/`` folder as an importlib resource (works from a wheel or a source checkout)."""
    return resources.files(__name__).joinpath("package")


__all__ = ["CANONICAL_BASE", "PACKAGE_ID", "PACKAGE_VERSION", "BuiltinProfile", "package_files"]
