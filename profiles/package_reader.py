"""Reading one FHIR NPM package (``.tgz`` or folder) into memory, without installing it.

See https://confluence.hl7.org/display/FHIR/NPM+Package+Specification: a
package is a gzipped tar whose ``package/`` folder holds ``package.json`` and
one JSON resource per file; sub-folders (``example/``, ``other/``, ``openapi/``)
are not definitions.  A plain folder of resources without a ``package.json``
(an IG's ``input/resources``) is read as a *loose* package named after the
folder.

Hostile archives are handled: links and devices are ignored, member names are
never used as file system paths, and members above :data:`MAX_MEMBER_BYTES`
are reported as failures rather than read.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from hub.core.errors import ConfigurationError
from profiles.canonical import SUMMARY_KEYS

MAX_MEMBER_BYTES = 64 * 1024 * 1024
_SKIPPED_FILES = frozenset({"package.json", ".index.json", "ig-r4.json"})
# Resources of a folder package registered by summary and read on first use (most are never used).
LAZY_TYPES = frozenset({"StructureDefinition", "CodeSystem", "ValueSet", "ConceptMap", "CapabilityStatement"})


class PackageError(ConfigurationError):
    """A package cannot be read, or a dependency it names cannot be found."""


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """A file of a package that could not be loaded, and why."""

    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class PackageManifest:
    """The parts of ``package.json`` the hub uses."""

    name: str
    version: str
    dependencies: tuple[tuple[str, str], ...] = ()
    fhir_versions: tuple[str, ...] = ()
    canonical: str = ""
    loose: bool = False

    @property
    def spec(self) -> str:
        """``id#version`` as the FHIR package cache spells it."""
        return f"{self.name}#{self.version}"

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> PackageManifest:
        if not isinstance(data, dict):
            raise PackageError(f"{where}: package.json is not a JSON object", message_id="PACKAGE_MANIFEST")
        name, version = data.get("name"), data.get("version")
        if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
            raise PackageError(
                f"{where}: package.json needs string 'name' and 'version'", message_id="PACKAGE_MANIFEST"
            )
        raw_deps = data.get("dependencies") or {}
        if not isinstance(raw_deps, dict):
            raise PackageError(f"{where}: 'dependencies' must be an object", message_id="PACKAGE_MANIFEST")
        deps = tuple(sorted((str(k), str(v)) for k, v in raw_deps.items()))
        fhir_versions = data.get("fhirVersions") or data.get("fhir-version-list") or ()
        canonical = data.get("canonical")
        return cls(
            name=name,
            version=version,
            dependencies=deps,
            fhir_versions=tuple(str(v) for v in fhir_versions if isinstance(v, str)),
            canonical=canonical if isinstance(canonical, str) else "",
        )


@dataclass(slots=True)
class PackageContents:
    """A package read into memory: its manifest, canonical resources and the files that failed."""

    manifest: PackageManifest
    location: str
    resources: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    folder: Path | None = None  # where the files are, for a folder package (they can be re-read)
    # (file, summary) of resources left on disk until first use: see LAZY_TYPES
    summaries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.resources) + len(self.summaries)


def canonical_resources(data: Any) -> list[dict[str, Any]]:
    """The canonical resources (those with a ``url``) in ``data``; Bundles are unpacked one level."""
    if not isinstance(data, dict):
        return []
    if data.get("resourceType") == "Bundle":
        found: list[dict[str, Any]] = []
        for entry in data.get("entry") or ():
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict) and isinstance(res.get("url"), str) and "resourceType" in res:
                found.append(res)
        return found
    if isinstance(data.get("url"), str) and isinstance(data.get("resourceType"), str):
        return [data]
    return []


def _wanted(name: str) -> bool:
    return name.endswith(".json") and not name.startswith(".") and name not in _SKIPPED_FILES


def _add_file(contents: PackageContents, name: str, raw: bytes, *, lazy: bool = False) -> None:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        contents.failures.append(LoadFailure(name, f"invalid JSON: {exc}"))
        return
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        contents.failures.append(LoadFailure(name, "not a FHIR resource (no resourceType)"))
        return
    found = canonical_resources(data)
    if lazy and found == [data] and data["resourceType"] in LAZY_TYPES:
        # keep the summary only: the parsed resource is garbage at once, so reading a package never
        # holds all of it in memory (and the process does not keep that peak as RSS)
        contents.summaries.append((name, {k: data[k] for k in SUMMARY_KEYS if k in data}))
        return
    for resource in found:
        contents.resources.append((name, resource))


def load_resource_file(path: Path, url: str) -> dict[str, Any]:
    """Re-read the one resource of ``path`` (registered lazily); it must still be ``url``."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise PackageError(
            f"{path}: cannot re-read {url}: {exc}; the package changed on disk since start-up - "
            "restart telehub",
            message_id="PACKAGE_CHANGED",
        ) from exc
    if not isinstance(data, dict) or data.get("url") != url:
        raise PackageError(
            f"{path} no longer holds {url}: the package changed on disk since start-up - restart telehub",
            message_id="PACKAGE_CHANGED",
        )
    return data


def read_tgz(path: Path) -> PackageContents:
    """Read a ``.tgz`` NPM package (members under ``package/``; sub-folders ignored)."""
    files: dict[str, bytes] = {}
    failures: list[LoadFailure] = []
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for member in archive:
                parts = member.name.lstrip("./").split("/")
                if not member.isfile() or len(parts) != 2 or parts[0] != "package":
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    failures.append(LoadFailure(member.name, f"file larger than {MAX_MEMBER_BYTES} bytes"))
                    continue
                if parts[1] != "package.json" and not _wanted(parts[1]):
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    files[parts[1]] = handle.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise PackageError(
            f"{path}: not a readable .tgz package: {exc}", message_id="PACKAGE_UNREADABLE"
        ) from exc
    if "package.json" not in files:
        raise PackageError(f"{path}: no package/package.json in archive", message_id="PACKAGE_MANIFEST")
    try:
        manifest_data = orjson.loads(files.pop("package.json"))
    except orjson.JSONDecodeError as exc:
        raise PackageError(f"{path}: package.json is not JSON: {exc}", message_id="PACKAGE_MANIFEST") from exc
    contents = PackageContents(PackageManifest.from_json(manifest_data, where=str(path)), str(path))
    contents.failures.extend(failures)
    for name in sorted(files):
        _add_file(contents, name, files[name])
    return contents


def read_folder(path: Path) -> PackageContents:
    """Read a package folder (``package.json`` in it or in ``package/``), or a loose folder of resources."""
    folder = path / "package" if (path / "package" / "package.json").is_file() else path
    manifest_file = folder / "package.json"
    if manifest_file.is_file():
        try:
            manifest_data = orjson.loads(manifest_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise PackageError(f"{manifest_file}: unreadable: {exc}", message_id="PACKAGE_MANIFEST") from exc
        manifest = PackageManifest.from_json(manifest_data, where=str(manifest_file))
    else:
        manifest = PackageManifest(name=f"local.{path.name}", version="0.0.0", loose=True)
    contents = PackageContents(manifest, str(path), folder=folder)
    for file in sorted(folder.iterdir()):
        if not file.is_file() or file.is_symlink() or not _wanted(file.name):
            continue
        if file.stat().st_size > MAX_MEMBER_BYTES:
            contents.failures.append(LoadFailure(file.name, f"file larger than {MAX_MEMBER_BYTES} bytes"))
            continue
        try:
            raw = file.read_bytes()
        except OSError as exc:
            contents.failures.append(LoadFailure(file.name, f"unreadable: {exc}"))
            continue
        _add_file(contents, file.name, raw, lazy=True)
    return contents


def read_package(path: Path) -> PackageContents:
    """Read a ``.tgz`` file or a folder."""
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        return read_tgz(path)
    raise PackageError(f"{path}: no such package file or folder", message_id="PACKAGE_NOT_FOUND")
