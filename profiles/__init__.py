"""Conformance to FHIR profiles: packages, canonical registry, snapshots, FHIRPath, terminology, validator.

See https://hl7.org/fhir/R4/profiling.html and https://hl7.org/fhir/R4/validation.html.  The
validator itself is the sub-package :mod:`profiles.validator`; CDA, the built-in Danish package,
Danish identifier rules and FHIR XML are :mod:`profiles.cda`, :mod:`profiles.builtin`,
:mod:`profiles.danish` and :mod:`profiles.fhir_xml`.
"""

from profiles.canonical import CanonicalEntry, CanonicalRegistry, split_canonical
from profiles.fhirpath import FhirPathEngine, FhirPathEvaluationError, FhirPathSyntaxError
from profiles.package_install import InstalledPackage, install, installed_packages, load_hub_packages
from profiles.package_reader import LoadFailure, PackageError, PackageManifest
from profiles.packages import (
    BUILTIN_PACKAGE_DIR,
    CORE_PACKAGE,
    LoadedPackage,
    PackageLoader,
    has_core,
    load_registry,
    parse_spec,
)
from profiles.snapshot import SnapshotError, SnapshotGenerator
from profiles.terminology import TerminologyService

__all__ = [
    "BUILTIN_PACKAGE_DIR",
    "CORE_PACKAGE",
    "CanonicalEntry",
    "CanonicalRegistry",
    "FhirPathEngine",
    "FhirPathEvaluationError",
    "FhirPathSyntaxError",
    "InstalledPackage",
    "LoadFailure",
    "LoadedPackage",
    "PackageError",
    "PackageLoader",
    "PackageManifest",
    "SnapshotError",
    "SnapshotGenerator",
    "TerminologyService",
    "has_core",
    "install",
    "installed_packages",
    "load_hub_packages",
    "load_registry",
    "parse_spec",
    "split_canonical",
]
