"""The hub's validation service: profile validation on write and for ``$validate``, built once from Settings.

Issue 3 ("Validation on write", "Packages and canonical resources") and
https://hl7.org/fhir/R4/validation.html.  :func:`build_validation` loads, once per process, what
``profiles.load_hub_packages`` loads (packages installed in ``Settings.packages_dir``, the sources in
``validation.packages``, dependencies from the FHIR package cache, then the built-in Danish package),
and gives every hub its own copy of that registry, so definitions written through the REST API never
leak between two apps in one process (tests) but the ~1-2 s parse of ``hl7.fhir.r4.core`` happens once.

:class:`ValidationService` has the shape of :class:`hub.fhir.pipeline.WriteValidator`:

* writes are checked at the level configured per resource type (``off`` / ``base`` / ``profiles``) plus
  ``validation.required_profiles`` (``profiles.validator.WriteValidationService`` does the work);
* StructureDefinitions, ValueSets, CodeSystems and SearchParameters created, updated or deleted through
  the API go into (or out of) the canonical registry at once, keyed by their resource id so that a
  delete or a changed ``url`` removes the right entry, and a definition that shadowed a package
  resource of the same ``url|version`` gives it back when deleted;
* an API-written SearchParameter also extends the search registry
  (``SearchParameterRegistry.extend_from_package``): new writes are indexed with it, existing
  resources are not re-indexed.

It also owns the FHIR XML codec (``application/fhir+xml``), which needs the base definitions of
``hl7.fhir.r4.core`` and is therefore ``None`` without them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.core.issues import Issue
from hub.core.settings import Settings, ValidationLevel
from hub.fhir.resource_types import CONFORMANCE_TYPES
from hub.fhir.search import PackageExtension, SearchParameterRegistry
from profiles import CanonicalEntry, CanonicalRegistry, PackageLoader, load_hub_packages
from profiles.danish import danish_checks
from profiles.fhir_xml import FhirXmlCodec
from profiles.validator import ProfileValidator, WriteValidationService

log = logging.getLogger("telehub.validation")

CORE_SD_BASE = "http://hl7.org/fhir/StructureDefinition/"


@dataclass(frozen=True, slots=True)
class DefinitionSources:
    """Where a hub's FHIR definitions come from (see the module docstring for the order)."""

    packages_dir: Path
    sources: tuple[str, ...]
    cache_dir: Path | None

    @classmethod
    def from_settings(cls, settings: Settings) -> DefinitionSources:
        v = settings.validation
        return cls(settings.packages_dir, tuple(v.packages), v.fhir_package_cache)

    def key(self) -> tuple[object, ...]:
        """Identity of what would be loaded: folders and the installed packages (with their mtimes)."""
        installed: tuple[tuple[str, int], ...] = ()
        if self.packages_dir.is_dir():
            installed = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in self.packages_dir.iterdir()))
        return (str(self.packages_dir.resolve()), installed, self.sources, str(self.cache_dir))


class _LoadedDefinitions:
    """One load per process and per :meth:`DefinitionSources.key` (parsing the core package costs ~1-2 s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[object, ...], PackageLoader] = {}

    def get(self, sources: DefinitionSources) -> PackageLoader:
        key = sources.key()
        with self._lock:
            loader = self._loaded.get(key)
            if loader is None:
                loader = load_hub_packages(sources.packages_dir, sources.sources, cache_dir=sources.cache_dir)
                for spec, failure in loader.failures:
                    log.warning("package %s: %s not loaded: %s", spec, failure.file, failure.reason)
                self._loaded[key] = loader
            return loader


_DEFINITIONS = _LoadedDefinitions()


def load_definitions(sources: DefinitionSources) -> PackageLoader:
    """The (shared, read-only) loader for ``sources``; copy its registry before adding to it."""
    return _DEFINITIONS.get(sources)


class ValidationService:
    """The hub's :class:`~hub.fhir.pipeline.WriteValidator`, plus what the doors need: XML and profiles."""

    def __init__(
        self,
        validator: ProfileValidator,
        *,
        default_level: ValidationLevel = ValidationLevel.BASE,
        levels: dict[str, ValidationLevel] | None = None,
        required_profiles: dict[str, list[str]] | None = None,
        search: SearchParameterRegistry | None = None,
        max_xml_bytes: int | None = None,
    ) -> None:
        self.validator = validator
        self.writes = WriteValidationService(
            validator, default_level=default_level, levels=levels, required_profiles=required_profiles
        )
        self.search = search
        self._max_xml_bytes = max_xml_bytes
        self._codec: FhirXmlCodec | None = None
        # (resourceType, id) -> the definition written through the API under that id
        self._api: dict[tuple[str, str], dict[str, Any]] = {}
        # package entries that an API definition with the same url|version replaced, given back on delete
        self._shadowed: dict[tuple[str, str], CanonicalEntry] = {}
        self._profiles_generation = -1
        self._profiles: dict[str, list[str]] = {}

    @property
    def registry(self) -> CanonicalRegistry:
        return self.validator.registry

    def has_core(self) -> bool:
        """Whether the base R4 definitions (``hl7.fhir.r4.core``) are loaded."""
        return self.validator.has_core()

    def level_for(self, resource_type: str) -> ValidationLevel:
        return self.writes.level_for(resource_type)

    def required_profiles(self, resource_type: str) -> tuple[str, ...]:
        return self.writes.required_profiles.get(resource_type, ())

    # -- WriteValidator ----------------------------------------------------------------------------------
    def validate_for_write(self, resource: dict[str, Any]) -> list[Issue]:
        return self.writes.validate_for_write(resource)

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Issue]:
        return self.writes.validate(resource, profiles)

    def checks_structure(self, resource_type: str) -> bool:
        return self.level_for(resource_type) is not ValidationLevel.OFF and self.has_core()

    def conformance_resource_changed(self, resource: dict[str, Any], deleted: bool) -> None:
        """A definition was written or deleted through the API; ``{"resourceType", "id"}`` is enough
        for a delete (the url is remembered from the write)."""
        rtype, rid = resource.get("resourceType"), resource.get("id")
        if rtype not in CONFORMANCE_TYPES:
            return
        key = (str(rtype), rid) if isinstance(rid, str) else None
        previous = self._api.pop(key, None) if key else None
        if previous is not None:
            self._forget(previous)
        elif deleted:
            self._forget(resource)
        if deleted:
            return
        url = resource.get("url")
        if not isinstance(url, str) or not url:
            return  # not resolvable by canonical: nothing for the registry
        existing = self.registry.entry(url, _version(resource))
        if existing is not None and existing.source != "api":
            self._shadowed.setdefault((url, existing.version), existing)
        self.writes.conformance_resource_changed(resource, deleted=False)
        if key:
            self._api[key] = resource
        if rtype == "SearchParameter" and self.search is not None:
            self.extend_search([resource])

    def _forget(self, resource: dict[str, Any]) -> None:
        """Remove a definition the API no longer holds; give back what it shadowed (another API
        resource with the same url|version, else the package resource)."""
        url, version = resource.get("url"), _version(resource)
        if not isinstance(url, str) or not url:
            return
        self.registry.remove(url, version)
        twin = next((r for r in self._api.values() if r.get("url") == url and _version(r) == version), None)
        if twin is not None:
            self.registry.add(twin, source="api")
            return
        shadowed = self._shadowed.pop((url, version), None)
        if shadowed is not None:
            self.registry.add(shadowed.resource, source=shadowed.source)

    # -- search parameters --------------------------------------------------------------------------------
    def extend_search(self, search_parameters: Sequence[dict[str, Any]]) -> PackageExtension | None:
        """Add SearchParameters the search registry lacks (codes already defined are kept as they are)."""
        if self.search is None:
            return None
        extension = self.search.extend_from_package(search_parameters)
        for skipped in extension.skipped:  # one per parameter: detail for debugging (the summary is INFO)
            if not skipped.reason.endswith("is already defined"):
                log.debug(
                    "search parameter %s (%s) not indexed: %s", skipped.url, skipped.code, skipped.reason
                )
        return extension

    # -- what the doors need -----------------------------------------------------------------------------
    def xml_codec(self) -> FhirXmlCodec | None:
        """The ``application/fhir+xml`` codec, or None while no base definitions are loaded."""
        if self._codec is None and self.has_core():
            if self._max_xml_bytes is not None:
                self._codec = FhirXmlCodec(self.registry, max_bytes=self._max_xml_bytes)
            else:
                self._codec = FhirXmlCodec(self.registry)
        return self._codec

    def unknown_profiles(self, profiles: Sequence[str]) -> list[str]:
        return [p for p in profiles if self.validator.compiled(p) is None]

    def supported_profiles(self, resource_type: str) -> list[str]:
        """Canonical URLs of the loaded profiles (constraints) on ``resource_type``, sorted."""
        if self._profiles_generation != self.registry.generation:
            table: dict[str, set[str]] = {}
            for sd in self.registry.summaries("StructureDefinition"):
                if sd.get("derivation") == "constraint" and sd.get("kind") == "resource":
                    table.setdefault(str(sd.get("type")), set()).add(str(sd.get("url")))
            self._profiles = {t: sorted(urls) for t, urls in table.items()}
            self._profiles_generation = self.registry.generation
        return self._profiles.get(resource_type, [])


def _version(resource: dict[str, Any]) -> str:
    version = resource.get("version")
    return version if isinstance(version, str) else ""


def build_validation(settings: Settings, search: SearchParameterRegistry | None = None) -> ValidationService:
    """The validation service of one hub: packages loaded once per process, a private registry copy,
    the Danish custom checks, and - when the definitions bring any - package SearchParameters added
    to ``search``."""
    loader = load_definitions(DefinitionSources.from_settings(settings))
    registry = loader.registry.copy()
    v = settings.validation
    service = ValidationService(
        ProfileValidator(registry, custom_checks=danish_checks()),
        default_level=v.default_level,
        levels=dict(v.levels),
        required_profiles={t: list(p) for t, p in v.required_profiles.items()},
        search=search,
        max_xml_bytes=settings.max_body_bytes,
    )
    if not service.has_core():
        log.warning(
            "hl7.fhir.r4.core is not installed: validation checks JSON structure and the built-in profiles "
            "only, and FHIR XML is unavailable (install it with `telehub packages install`)"
        )
    if search is not None:
        service.extend_search(list(registry.all("SearchParameter")))
    return service


def unknown_required_profiles(service: ValidationService) -> list[str]:
    """Required profiles (``validation.required_profiles``) the registry does not know (yet)."""
    wanted = {p for profiles in service.writes.required_profiles.values() for p in profiles}
    return sorted(service.unknown_profiles(sorted(wanted)))
