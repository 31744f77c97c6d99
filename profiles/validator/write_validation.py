"""Validation on write: per-type levels (off / base / profiles), required profiles, live definitions.

Issue 3 ("Validation on write") and https://hl7.org/fhir/R4/validation.html.  This service has the
shape of ``hub.fhir.pipeline.WriteValidator`` (wired in ``hub.app``):

* ``off`` stores without checking; ``base`` checks against the base definition only (declared
  profiles are not applied - a fast structural gate); ``profiles`` also applies ``meta.profile``
  and the profiles required for the type (``validation.required_profiles``);
* conformance resources written through the REST API go straight into the canonical registry,
  so the next validation already uses them (and deleting one removes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.core.issues import Issue
from hub.core.settings import ValidationLevel
from profiles.validator.service import ProfileValidator

# Resources with a canonical url that the validator or terminology may use.
CONFORMANCE_TYPES = frozenset(
    {
        "StructureDefinition",
        "ValueSet",
        "CodeSystem",
        "SearchParameter",
        "OperationDefinition",
        "ImplementationGuide",
        "Questionnaire",
        "ConceptMap",
        "NamingSystem",
        "CapabilityStatement",
    }
)


class WriteValidationService:
    """Applies the configured validation level of each resource type to writes and ``$validate``."""

    def __init__(
        self,
        validator: ProfileValidator,
        *,
        default_level: ValidationLevel = ValidationLevel.BASE,
        levels: Mapping[str, ValidationLevel] | None = None,
        required_profiles: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.validator = validator
        self.default_level = default_level
        self.levels = dict(levels or {})
        self.required_profiles = {k: tuple(v) for k, v in (required_profiles or {}).items()}

    def level_for(self, resource_type: str) -> ValidationLevel:
        return self.levels.get(resource_type, self.default_level)

    def validate_for_write(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues of a resource about to be stored, at its type's level."""
        resource_type = str(resource.get("resourceType", ""))
        level = self.level_for(resource_type)
        if level is ValidationLevel.OFF:
            return []
        if level is ValidationLevel.BASE:
            return self.validator.validate(resource, declared_profiles=False)
        return self.validator.validate(resource, self.required_profiles.get(resource_type, ()))

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Issue]:
        """``$validate``: base definition, declared profiles, required profiles and ``profiles``."""
        resource_type = str(resource.get("resourceType", ""))
        wanted = [*profiles, *(p for p in self.required_profiles.get(resource_type, ()) if p not in profiles)]
        return self.validator.validate(resource, wanted)

    def conformance_resource_changed(self, resource: dict[str, Any], deleted: bool) -> None:
        """A conformance resource was created, updated or deleted through the API."""
        url = resource.get("url")
        if resource.get("resourceType") not in CONFORMANCE_TYPES or not isinstance(url, str) or not url:
            return
        if deleted:
            version = resource.get("version")
            self.validator.registry.remove(url, version if isinstance(version, str) else None)
        else:
            self.validator.registry.add(resource, source="api")
