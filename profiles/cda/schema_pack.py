"""The CDA R2 XSD pack: installation (``telehub packs install cda-r2 PATH``) and XSD validation.

HL7 CDA R2 normative schema ``CDA.xsd`` or the SDTC extension schema ``CDA_SDTC.xsd``
(https://github.com/HL7/CDA-core-2.0).  The schema is compiled with lxml ``XMLSchema`` once per process
and pack version (keyed by the manifest's mtime) and reused; schema errors become issues with line and
column.  Includes are resolved only inside the pack folder (``hub.core.xml_safety.local_file_parser``).
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from hub.core.errors import ConfigurationError, InvalidInputError
from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.xml_safety import parse_local_file
from profiles.cda.packs import (
    MANIFEST,
    InstalledPack,
    PackKind,
    cda_pack,
    extract_zip,
    find_cda_entry,
    now_iso,
    staging_dir,
    swap_in,
    write_manifest,
)

NO_PACK_MESSAGE = "schema validation not performed (no cda-r2 schema pack installed)"


@dataclass(frozen=True, slots=True)
class _Compiled:
    schema: etree.XMLSchema
    lock: threading.Lock  # XMLSchema keeps one error_log per object: validate + read it under the lock


_cache: dict[tuple[str, int], _Compiled] = {}
_cache_lock = threading.Lock()


def compile_schema(entry: Path, root: Path) -> etree.XMLSchema:
    """Compile an XSD entry file whose includes must stay inside ``root``."""
    try:
        return etree.XMLSchema(parse_local_file(entry, root=root))
    except etree.XMLSchemaParseError as exc:
        raise ConfigurationError(f"the CDA schema {entry} does not compile: {exc}") from exc


def install_cda_pack(source: Path, packs_dir: Path) -> InstalledPack:
    """Install a folder or zip holding ``CDA.xsd``/``CDA_SDTC.xsd`` as ``<packs_dir>/cda-r2``."""
    if not source.exists():
        raise InvalidInputError(f"{source} does not exist")
    target = packs_dir / PackKind.CDA_R2.value
    staged = staging_dir(target)
    try:
        if source.is_dir():
            shutil.copytree(source, staged, dirs_exist_ok=True)
        elif zipfile_like(source):
            extract_zip(source, staged)
        else:
            raise InvalidInputError(
                f"{source} is neither a folder nor a zip holding the whole CDA schema tree"
            )
        entry = find_cda_entry(staged)
        compile_schema(entry, staged)
        pack = InstalledPack(
            kind=PackKind.CDA_R2,
            name=PackKind.CDA_R2.value,
            directory=target,
            entry=entry.relative_to(staged).as_posix(),
            source=str(source.resolve()),
            installed_at=now_iso(),
        )
        write_manifest(staged, pack)
        swap_in(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return pack


def zipfile_like(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".zip"


def _compiled(pack: InstalledPack) -> _Compiled:
    manifest = pack.directory / MANIFEST
    key = (str(pack.entry_path), manifest.stat().st_mtime_ns)
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            found = _Compiled(compile_schema(pack.entry_path, pack.directory), threading.Lock())
            _cache[key] = found
    return found


class CdaSchema:
    """XSD validation against the installed ``cda-r2`` pack (looked up once, at construction)."""

    def __init__(self, packs_dir: Path) -> None:
        self.pack = cda_pack(packs_dir)

    @property
    def installed(self) -> bool:
        return self.pack is not None

    def validate(self, root: etree._Element) -> list[Issue]:
        """Schema issues of the document, or the single "not performed" warning when no pack is installed."""
        if self.pack is None:
            return [
                Issue(
                    severity=IssueSeverity.WARNING,
                    code=IssueType.INCOMPLETE,
                    diagnostics=NO_PACK_MESSAGE,
                    message_id="CDA-XSD-NOT-PERFORMED",
                )
            ]
        compiled = _compiled(self.pack)
        with compiled.lock:
            valid = compiled.schema.validate(root.getroottree())
            log: Any = compiled.schema.error_log  # lxml-stubs: _ErrorLog is iterable at run time
            entries: list[Any] = [] if valid else list(log)
        return [
            Issue(
                severity=IssueSeverity.ERROR,
                code=IssueType.STRUCTURE,
                diagnostics=f"CDA-XSD: line {entry.line}: {entry.message}",
                location=(entry.path,) if entry.path else (),
                message_id="CDA-XSD",
                line=entry.line or None,
                column=entry.column or None,
            )
            for entry in entries
        ]


__all__ = ["NO_PACK_MESSAGE", "CdaSchema", "compile_schema", "install_cda_pack"]
