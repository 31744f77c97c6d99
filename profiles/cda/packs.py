"""Installed validation packs: the CDA R2 XSD pack and named ISO schematrons under ``Settings.packs_dir``.

Official artefacts (HL7 CDA R2 XSDs, MedCom schematrons) are installed by the operator at run time, never
shipped in the repository (ARCHITECTURE.md, "What lives where").  Layout::

    <packs_dir>/cda-r2/telehub-pack.json            manifest: entry XSD (relative path), source, time
    <packs_dir>/cda-r2/<the copied tree>            relative paths kept, so xs:include keeps resolving
    <packs_dir>/schematron/<NAME>/telehub-pack.json manifest: source file, queryBinding, applies-to
    <packs_dir>/schematron/<NAME>/<schematron + the .ent/included/document() files it references>
    <packs_dir>/schematron/<NAME>/compiled.xsl      the schematron pre-compiled to XSLT (SVRL output)

An install is staged in a temporary folder beside the target, checked (the XSD compiles, the schematron
compiles) and only then swapped in, so a failed install leaves the previous pack untouched.
"""

from __future__ import annotations

import enum
import json
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from hub.core.errors import ConfigurationError, InvalidInputError
from profiles.cda.document_type import DocumentFamily

MANIFEST = "telehub-pack.json"
COMPILED_XSLT = "compiled.xsl"
CDA_ENTRY_NAMES = ("CDA_SDTC.xsd", "CDA.xsd")  # preference order: SDTC is the superset QRD/QFDD need
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_BYTES = 512 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PackKind(enum.Enum):
    """What a pack holds."""

    CDA_R2 = "cda-r2"
    SCHEMATRON = "schematron"


@dataclass(frozen=True, slots=True)
class InstalledPack:
    """One installed pack as described by its manifest."""

    kind: PackKind
    name: str
    directory: Path
    entry: str  # relative path of the XSD entry or of the schematron source
    source: str
    installed_at: str
    applies_to: tuple[DocumentFamily, ...] = ()  # schematron only; empty = every CDA document
    query_binding: str | None = None  # schematron only
    notes: tuple[str, ...] = ()  # compiler messages kept from installation (e.g. unused phases)

    @property
    def entry_path(self) -> Path:
        return self.directory / self.entry

    @property
    def compiled_path(self) -> Path:
        return self.directory / COMPILED_XSLT

    def applies(self, family: DocumentFamily) -> bool:
        return not self.applies_to or family in self.applies_to


def _read_manifest(directory: Path) -> InstalledPack | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return InstalledPack(
            kind=PackKind(data["kind"]),
            name=str(data["name"]),
            directory=directory,
            entry=str(data["entry"]),
            source=str(data.get("source", "")),
            installed_at=str(data.get("installed_at", "")),
            applies_to=tuple(DocumentFamily(v) for v in data.get("applies_to", [])),
            query_binding=data.get("query_binding"),
            notes=tuple(str(note) for note in data.get("notes", [])),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"corrupt pack manifest {path}: {exc}") from exc


def write_manifest(directory: Path, pack: InstalledPack) -> None:
    """Write ``telehub-pack.json`` for ``pack`` into ``directory`` (the staging folder during install)."""
    data = {
        "kind": pack.kind.value,
        "name": pack.name,
        "entry": pack.entry,
        "source": pack.source,
        "installed_at": pack.installed_at,
        "applies_to": [family.value for family in pack.applies_to],
        "query_binding": pack.query_binding,
        "notes": list(pack.notes),
    }
    (directory / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def cda_pack(packs_dir: Path) -> InstalledPack | None:
    """The installed CDA R2 XSD pack, or None."""
    return _read_manifest(packs_dir / PackKind.CDA_R2.value)


def schematron_packs(packs_dir: Path) -> list[InstalledPack]:
    """Installed schematron packs, sorted by name."""
    base = packs_dir / PackKind.SCHEMATRON.value
    if not base.is_dir():
        return []
    packs = (
        _read_manifest(child)
        for child in sorted(base.iterdir())
        if child.is_dir() and not child.name.startswith(".")
    )
    return [pack for pack in packs if pack is not None]


def list_packs(packs_dir: Path) -> list[InstalledPack]:
    """Every installed pack: the CDA pack first, then schematrons by name."""
    cda = cda_pack(packs_dir)
    return ([cda] if cda else []) + schematron_packs(packs_dir)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInputError(f"pack name {name!r} must match {_NAME.pattern}")
    return name


# ------------------------------------------------------------------ staging and swapping


def staging_dir(target: Path) -> Path:
    """A fresh temporary folder beside ``target`` (same file system, so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent))


def swap_in(staged: Path, target: Path) -> None:
    """Replace ``target`` by ``staged``; the old pack is removed only after the new one is in place."""
    retired = target.with_name(f".{target.name}.retired")
    if retired.exists():
        shutil.rmtree(retired)
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    if retired.exists():
        shutil.rmtree(retired)


def extract_zip(archive: Path, destination: Path) -> None:
    """Extract a zip safely: no absolute or ``..`` paths, no symlinks, bounded member count and size."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise InvalidInputError(f"{archive}: more than {MAX_ZIP_MEMBERS} members")
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise InvalidInputError(f"{archive}: uncompressed size exceeds {MAX_ZIP_BYTES} bytes")
            for member in members:
                _check_member(archive, member)
            bundle.extractall(destination)
    except zipfile.BadZipFile as exc:
        raise InvalidInputError(f"{archive} is not a valid zip file: {exc}") from exc


def _check_member(archive: Path, member: zipfile.ZipInfo) -> None:
    path = PurePosixPath(member.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise InvalidInputError(f"{archive}: unsafe member path {member.filename!r}")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise InvalidInputError(f"{archive}: symbolic link member {member.filename!r} is not allowed")


def find_cda_entry(tree: Path) -> Path:
    """The CDA XSD to compile: ``CDA_SDTC.xsd`` before ``CDA.xsd``, then the shallowest, then by path."""
    for name in CDA_ENTRY_NAMES:
        found = sorted(tree.rglob(name), key=lambda p: (len(p.relative_to(tree).parts), p.as_posix()))
        if found:
            return found[0]
    raise InvalidInputError(f"no {' or '.join(CDA_ENTRY_NAMES)} found below {tree}")


def iter_files(tree: Path) -> Iterable[Path]:
    return (path for path in tree.rglob("*") if path.is_file())


__all__ = [
    "CDA_ENTRY_NAMES",
    "COMPILED_XSLT",
    "MANIFEST",
    "InstalledPack",
    "PackKind",
    "cda_pack",
    "extract_zip",
    "find_cda_entry",
    "iter_files",
    "list_packs",
    "now_iso",
    "schematron_packs",
    "staging_dir",
    "swap_in",
    "validate_name",
    "write_manifest",
]
