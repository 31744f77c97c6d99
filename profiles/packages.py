"""Loading FHIR packages into a :class:`~profiles.canonical.CanonicalRegistry`, with dependencies.

Sources (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification):

* the package built into telehub (``profiles/builtin/package``), loaded by path;
* the FHIR package cache ``~/.fhir/packages/<id>#<version>/package/`` that
  SUSHI, the IG Publisher and Firely Terminal fill;
* ``.tgz`` files and folders, including folders holding ``<id>#<version>.tgz``
  or ``<id>#<version>/`` entries (searched for dependencies).

Dependencies named in ``package.json`` are resolved from already loaded
packages, then the search folders, then the package cache.  A missing
dependency raises :class:`PackageError` naming every missing package, unless
the caller asks for a lenient load (the built-in package may run without
``hl7.fhir.r4.core``), in which case it is recorded on the result.  No network
registry is contacted, ever.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from profiles.canonical import CanonicalRegistry, version_key
from profiles.package_reader import (
    LoadFailure,
    PackageContents,
    PackageError,
    PackageManifest,
    load_resource_file,
    read_package,
)

BUILTIN_PACKAGE_DIR = Path(__file__).resolve().parent / "builtin" / "package"
CORE_PACKAGE = "hl7.fhir.r4.core"
# Dependencies that never hold definitions the validator needs (extensions of other FHIR versions).
_IGNORED_DEPENDENCIES = frozenset({"hl7.fhir.r4.examples", "hl7.fhir.r5.core", "hl7.fhir.r4b.core"})
_LATEST = frozenset({"current", "dev", "latest", "*"})


@dataclass(frozen=True, slots=True)
class LoadedPackage:
    """A package that is in the registry: what it is, where it came from, what failed."""

    manifest: PackageManifest
    location: str
    resource_count: int
    failures: tuple[LoadFailure, ...] = ()
    missing_dependencies: tuple[str, ...] = ()


def parse_spec(spec: str) -> tuple[str, str]:
    """``"hl7.fhir.r4.core#4.0.1"`` -> ``("hl7.fhir.r4.core", "4.0.1")``."""
    name, sep, version = spec.partition("#")
    if not sep or not name or not version:
        raise PackageError(f"'{spec}' is not a package id#version", message_id="PACKAGE_SPEC")
    return name, version


def version_satisfies(wanted: str, have: str) -> bool:
    """NPM-ish matching used by FHIR packages: exact, ``x`` wildcards, ``current``/``latest``."""
    if wanted in _LATEST or wanted == have:
        return True
    if "x" in wanted.split("."):
        prefix = wanted.split(".x", 1)[0]
        return have == prefix or have.startswith(prefix + ".")
    return False


class PackageLoader:
    """Loads packages into one registry, tracking what is loaded so each package loads once."""

    def __init__(
        self,
        registry: CanonicalRegistry | None = None,
        *,
        cache_dir: Path | None = None,
        search_dirs: Sequence[Path] = (),
    ) -> None:
        self.registry = registry if registry is not None else CanonicalRegistry()
        self.cache_dir = cache_dir
        self.search_dirs = list(search_dirs)
        self.loaded: dict[str, LoadedPackage] = {}

    # -- public --------------------------------------------------------------
    def load(self, source: str | Path, *, strict: bool = True) -> LoadedPackage:
        """Load a ``.tgz``/folder path or an ``id#version`` spec, dependencies first."""
        if isinstance(source, str) and "#" in source and not Path(source).exists():
            name, version = parse_spec(source)
            path = self.locate(name, version)
            if path is None:
                raise PackageError(
                    f"Package {source} not found in {self._where()}; no network registry is used",
                    message_id="PACKAGE_NOT_FOUND",
                )
            source = path
        return self._load_contents(read_package(Path(source)), strict=strict, chain=())

    def load_builtin(self) -> LoadedPackage | None:
        """The built-in Danish package, lenient about ``hl7.fhir.r4.core`` (None while it does not exist)."""
        if not (BUILTIN_PACKAGE_DIR / "package.json").is_file():
            return None
        return self.load(BUILTIN_PACKAGE_DIR, strict=False)

    def is_loaded(self, name: str, version: str | None = None) -> bool:
        return any(
            p.manifest.name == name and (version is None or version_satisfies(version, p.manifest.version))
            for p in self.loaded.values()
        )

    @property
    def failures(self) -> list[tuple[str, LoadFailure]]:
        """Every file that failed to load, with the package spec it belongs to."""
        return [(spec, f) for spec, pkg in self.loaded.items() for f in pkg.failures]

    def locate(self, name: str, version: str) -> Path | None:
        """Find ``name#version`` in the search folders, then the FHIR package cache."""
        candidates: list[tuple[str, Path]] = []
        for folder in [*self.search_dirs, *([self.cache_dir] if self.cache_dir else [])]:
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                stem = entry.name[:-4] if entry.name.endswith(".tgz") else entry.name
                found_name, sep, found_version = stem.partition("#")
                if not sep:
                    found_name, sep, found_version = stem.rpartition("-")
                if found_name == name and version_satisfies(version, found_version):
                    candidates.append((found_version, entry))
        if not candidates:
            return None
        return max(candidates, key=lambda c: version_key(c[0]))[1]

    # -- internals -----------------------------------------------------------
    def _where(self) -> str:
        places = [str(p) for p in self.search_dirs] + ([str(self.cache_dir)] if self.cache_dir else [])
        return ", ".join(places) or "(no package folders configured)"

    def _load_contents(
        self, contents: PackageContents, *, strict: bool, chain: tuple[str, ...]
    ) -> LoadedPackage:
        manifest = contents.manifest
        if manifest.spec in self.loaded:
            return self.loaded[manifest.spec]
        if manifest.spec in chain:
            raise PackageError(
                f"Cyclic package dependency: {' -> '.join((*chain, manifest.spec))}",
                message_id="PACKAGE_CYCLE",
            )
        missing = self._load_dependencies(manifest, strict=strict, chain=(*chain, manifest.spec))
        # package_reader only yields resources with a string url and resourceType, so add() cannot refuse.
        for file, resource in contents.resources:
            self.registry.add(resource, source=f"{manifest.spec}/{file}")
        if contents.folder is not None:
            for file, summary in contents.summaries:
                load = functools.partial(load_resource_file, contents.folder / file, summary["url"])
                self.registry.add_lazy(summary, load, source=f"{manifest.spec}/{file}")
        loaded = LoadedPackage(
            manifest=manifest,
            location=contents.location,
            resource_count=contents.count,
            failures=tuple(contents.failures),
            missing_dependencies=tuple(missing),
        )
        self.loaded[manifest.spec] = loaded
        return loaded

    def _load_dependencies(
        self, manifest: PackageManifest, *, strict: bool, chain: tuple[str, ...]
    ) -> list[str]:
        missing: list[str] = []
        for name, version in manifest.dependencies:
            if name in _IGNORED_DEPENDENCIES or self.is_loaded(name, version):
                continue
            path = self.locate(name, version)
            if path is None:
                missing.append(f"{name}#{version}")
                continue
            self._load_contents(read_package(path), strict=strict, chain=chain)
        if missing and strict:
            raise PackageError(
                f"Package {manifest.spec} depends on {', '.join(missing)}, not found in {self._where()}"
                " (no network registry is used; install them first)",
                message_id="PACKAGE_MISSING_DEPENDENCY",
            )
        return missing


def load_registry(
    sources: Iterable[str | Path] = (),
    *,
    cache_dir: Path | None = None,
    search_dirs: Sequence[Path] = (),
    include_builtin: bool = True,
) -> PackageLoader:
    """A loader with a fresh registry holding the built-in package (optional) and ``sources``."""
    loader = PackageLoader(cache_dir=cache_dir, search_dirs=search_dirs)
    for source in sources:
        loader.load(source)
    if include_builtin:
        loader.load_builtin()
    return loader


def has_core(loader: PackageLoader) -> bool:
    """Whether ``hl7.fhir.r4.core`` definitions are present (full base-spec validation is possible)."""
    return (
        loader.is_loaded(CORE_PACKAGE)
        or loader.registry.structure_definition_for_type("Resource") is not None
    )
