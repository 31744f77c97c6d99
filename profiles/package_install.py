"""Installing FHIR packages into the hub's package folder, and loading what is installed.

See https://confluence.hl7.org/display/FHIR/NPM+Package+Specification.  ``install`` copies a
``.tgz``/folder (or an ``id#version`` found in the FHIR package cache or a configured folder)
to ``<packages_dir>/<id>#<version>/package/``, after checking that every dependency is already
installed or can be installed from the same local sources; a missing dependency is an error
and nothing is installed.  No network registry is contacted: ``id#version`` only resolves
against local folders.  Only the top-level files of ``package/`` are copied (definitions), by
name, never by archive path, so a hostile archive cannot write outside the target folder.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from profiles.package_reader import PackageError, PackageManifest, read_package
from profiles.packages import CORE_PACKAGE, LoadedPackage, PackageLoader, parse_spec, version_satisfies

_SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_#")


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    manifest: PackageManifest
    directory: Path


def installed_packages(packages_dir: Path) -> list[InstalledPackage]:
    """Packages installed under ``packages_dir`` (folders ``<id>#<version>/package``)."""
    found: list[InstalledPackage] = []
    if not packages_dir.is_dir():
        return found
    for entry in sorted(packages_dir.iterdir()):
        if (entry / "package" / "package.json").is_file():
            contents = read_package(entry)
            found.append(InstalledPackage(contents.manifest, entry))
    return found


def _is_installed(packages_dir: Path, name: str, version: str) -> bool:
    return any(
        p.manifest.name == name and version_satisfies(version, p.manifest.version)
        for p in installed_packages(packages_dir)
    )


def _copy_definitions(source: Path, target: Path) -> None:
    """Copy the top-level files of a package (``.tgz`` or folder) into ``target`` (a ``package`` folder)."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        folder = source / "package" if (source / "package" / "package.json").is_file() else source
        for file in folder.iterdir():
            if file.is_file() and not file.is_symlink() and set(file.name) <= _SAFE_NAME:
                shutil.copyfile(file, target / file.name)
        return
    try:
        with tarfile.open(source, mode="r:gz") as archive:
            for member in archive:
                parts = member.name.lstrip("./").split("/")
                if (
                    member.isfile()
                    and len(parts) == 2
                    and parts[0] == "package"
                    and set(parts[1]) <= _SAFE_NAME
                ):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        (target / parts[1]).write_bytes(handle.read())
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise PackageError(f"{source}: cannot be unpacked: {exc}", message_id="PACKAGE_UNREADABLE") from exc


def install(
    source: str | Path,
    packages_dir: Path,
    *,
    cache_dir: Path | None = None,
    search_dirs: Sequence[Path] = (),
) -> list[InstalledPackage]:
    """Install ``source`` and any of its dependencies not yet installed; returns what was installed."""
    locator = PackageLoader(cache_dir=cache_dir, search_dirs=list(search_dirs))
    plan: list[tuple[PackageManifest, Path]] = []
    missing: list[str] = []

    def visit(path: Path, chain: tuple[str, ...]) -> None:
        manifest = read_package(path).manifest
        if manifest.spec in chain or any(m.spec == manifest.spec for m, _ in plan):
            return
        for name, version in manifest.dependencies:
            if _is_installed(packages_dir, name, version) or any(
                m.name == name and version_satisfies(version, m.version) for m, _ in plan
            ):
                continue
            located = locator.locate(name, version)
            if located is None:
                missing.append(f"{name}#{version} (needed by {manifest.spec})")
                continue
            visit(located, (*chain, manifest.spec))
        plan.append((manifest, path))

    if isinstance(source, str) and "#" in source and not Path(source).exists():
        name, version = parse_spec(source)
        located = locator.locate(name, version)
        if located is None:
            where = (
                ", ".join(str(p) for p in [*search_dirs, *([cache_dir] if cache_dir else [])]) or "nowhere"
            )
            raise PackageError(
                f"Package {source} not found in {where}; telehub uses no network registry - "
                "download the .tgz and install it by path",
                message_id="PACKAGE_NOT_FOUND",
            )
        visit(located, ())
    else:
        visit(Path(source), ())
    if missing:
        hint = (
            f" Install {CORE_PACKAGE} (the .tgz) first."
            if any(m.startswith(CORE_PACKAGE) for m in missing)
            else ""
        )
        raise PackageError(
            "Missing dependencies, nothing installed: " + "; ".join(missing) + "." + hint,
            message_id="PACKAGE_MISSING_DEPENDENCY",
        )
    installed: list[InstalledPackage] = []
    packages_dir.mkdir(parents=True, exist_ok=True)
    for manifest, path in plan:
        if set(manifest.spec) - _SAFE_NAME:
            raise PackageError(
                f"Package name {manifest.spec!r} is not a safe folder name", message_id="PACKAGE_MANIFEST"
            )
        final = packages_dir / manifest.spec
        with tempfile.TemporaryDirectory(dir=packages_dir) as staging:
            _copy_definitions(path, Path(staging) / "package")
            if final.exists():
                shutil.rmtree(final)
            shutil.copytree(Path(staging), final)
        installed.append(InstalledPackage(manifest, final))
    return installed


def load_installed(loader: PackageLoader, packages_dir: Path) -> list[LoadedPackage]:
    """Load every installed package into ``loader``'s registry (dependencies resolved among them)."""
    if packages_dir not in loader.search_dirs:
        loader.search_dirs.append(packages_dir)
    return [loader.load(p.directory) for p in installed_packages(packages_dir)]


def load_hub_packages(
    packages_dir: Path, sources: Sequence[str | Path] = (), *, cache_dir: Path | None = None
) -> PackageLoader:
    """What the hub loads at start-up: installed packages, configured sources, then the built-in package."""
    loader = PackageLoader(cache_dir=cache_dir, search_dirs=[packages_dir])
    load_installed(loader, packages_dir)
    for source in sources:
        loader.load(Path(source) if not (isinstance(source, str) and "#" in source) else source)
    loader.load_builtin()
    return loader
