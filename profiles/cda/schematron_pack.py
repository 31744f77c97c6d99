"""ISO Schematron packs (ISO/IEC 19757-3): install, pre-compile to XSLT, run with SaxonC, read SVRL.

Compilation uses the ISO skeleton XSLTs bundled with lxml (``lxml/isoschematron/resources/xsl/
iso-schematron-xslt1``; referenced in place, never copied) executed in saxonche:

1. the schematron is read with the pack parser (its DTD ``SYSTEM`` entities resolve only to files in the
   pack) and ``sch:include`` is expanded the same way;
2. ``iso_abstract_expand.xsl`` then ``iso_svrl_for_xslt1.xsl`` produce an SVRL-emitting stylesheet;
3. a ``queryBinding`` of ``xslt2``/``xslt3`` (MedCom's ``conf-phmr-dk.sch.xml``) is compiled through the
   skeleton as ``xslt`` and the generated stylesheet is then declared ``version="2.0"``, so Saxon
   evaluates the schematron's XPath 2 expressions natively.

Running: the document is serialised once, transformed by the cached executable and the SVRL
(https://schematron.com/document/3427.html) is turned into issues - ``failed-assert`` and
``successful-report`` with the rule id of the preceding ``fired-rule``, severity from ``@flag``/``@role``
(error/fatal, warning, info) or a leading "Error:"/"Warning:" in the text, else error for an assert and
warning for a report; ``@location`` is evaluated on the parsed tree to give the line number.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import lxml
from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

from hub.core.errors import ConfigurationError, HubError, InvalidInputError
from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.xml_safety import parse_local_file, parse_xml, source_line
from profiles.cda.document_type import DocumentFamily
from profiles.cda.packs import (
    COMPILED_XSLT,
    MANIFEST,
    InstalledPack,
    PackKind,
    now_iso,
    staging_dir,
    swap_in,
    validate_name,
    write_manifest,
)

ISO_NS = "http://purl.oclc.org/dsdl/schematron"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
SKELETON_DIR = Path(lxml.__file__).parent / "isoschematron" / "resources" / "xsl" / "iso-schematron-xslt1"
_XSLT2_BINDINGS = {"xslt2", "xslt3", "xpath2", "xpath3", "xslt2.0", "xslt3.0"}
_XSLT1_BINDINGS = {"", "xslt", "xslt1", "xpath", "exslt"}
_REFERENCES = (
    re.compile(rb"""<!ENTITY\s+(?:%\s+)?[^\s]+\s+SYSTEM\s+["']([^"']+)["']"""),
    re.compile(rb"""<(?:[\w.-]+:)?include\b[^>]*?\bhref\s*=\s*["']([^"'#]+)"""),
    re.compile(rb"""document\(\s*["']([^"']+)["']"""),
)
_MAX_FILES = 500
# HL7/IPF schematrons put the rule id in the text: "Error: CONF-PHMR-25: A patient/birthTime ..."
_CITED_RULE = re.compile(
    r"^(?:error|warning|note|info)?:?\s*([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d+)\b", re.IGNORECASE
)

_saxon_lock = threading.RLock()
_saxon: Any = None
_executables: dict[tuple[str, int], Any] = {}


def _processor() -> Any:
    """One SaxonC processor per process; SaxonC work is serialised under ``_saxon_lock``."""
    global _saxon
    if _saxon is None:
        _saxon = PySaxonProcessor(license=False)
    return _saxon


# ------------------------------------------------------------------ install


def _referenced_files(source: Path, base: Path) -> list[Path]:
    """The schematron and every local file it pulls in (entities, includes, document()), transitively."""
    found: list[Path] = []
    pending = [source.resolve()]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        if len(found) >= _MAX_FILES:
            raise InvalidInputError(f"{source} references more than {_MAX_FILES} files")
        found.append(current)
        data = current.read_bytes()
        for pattern in _REFERENCES:
            for match in pattern.finditer(data):
                reference = match.group(1).decode("utf-8", "replace").strip()
                if not reference or "{" in reference:
                    continue  # computed document() names cannot be followed statically
                parsed = urlparse(reference)
                if parsed.scheme not in ("", "file") or parsed.netloc:
                    raise InvalidInputError(
                        f"{current.name} references {reference!r}; packs must be local files"
                    )
                target = (current.parent / parsed.path).resolve()
                if not target.is_relative_to(base):
                    raise InvalidInputError(f"{current.name} references {reference!r} outside {base}")
                if not target.is_file():
                    raise InvalidInputError(f"{current.name} references {reference!r}, which does not exist")
                pending.append(target)
    return found


def _expand_includes(tree: etree._ElementTree, pack_dir: Path, depth: int = 0) -> None:
    if depth > 20:
        raise InvalidInputError("sch:include nesting deeper than 20")
    for include in list(tree.getroot().iter(f"{{{ISO_NS}}}include")):
        href = include.get("href", "")
        base = Path(urlparse(include.base or str(pack_dir)).path).parent
        included = parse_local_file(base / href, root=pack_dir, entities=True)
        _expand_includes(included, pack_dir, depth + 1)
        parent = include.getparent()
        if parent is None:
            raise InvalidInputError("sch:include cannot be the root element")
        parent.replace(include, included.getroot())


def _transform(stylesheet: Path, document: str, base_uri: str, notes: list[str]) -> str:
    """Run one skeleton stage; its ``xsl:message`` output (schema warnings) is collected into ``notes``."""
    processor = _processor()
    builder = processor.new_document_builder()
    builder.set_base_uri(base_uri)
    node = builder.parse_xml(xml_text=document)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))
    executable.set_save_xsl_message(True)
    result = str(executable.transform_to_string(xdm_node=node))
    messages = executable.get_xsl_messages()
    for message in messages or ():
        text = " ".join(str(message.string_value if hasattr(message, "string_value") else message).split())
        if text:
            notes.append(text)
    return result


def compile_schematron(source: Path, pack_dir: Path, notes: list[str] | None = None) -> tuple[bytes, str]:
    """Compile the schematron at ``source`` (inside ``pack_dir``) to SVRL-producing XSLT bytes.

    Returns the stylesheet and the effective queryBinding; skeleton messages go to ``notes``.
    """
    notes = [] if notes is None else notes
    if not SKELETON_DIR.is_dir():
        raise ConfigurationError(f"lxml's ISO schematron skeleton is missing at {SKELETON_DIR}")
    tree = parse_local_file(source, root=pack_dir, entities=True)
    schema = tree.getroot()
    if schema.tag != f"{{{ISO_NS}}}schema":
        raise InvalidInputError(f"{source.name} is not an ISO schematron (root element {schema.tag})")
    _expand_includes(tree, pack_dir)
    binding = schema.get("queryBinding", "").strip().lower()
    if binding not in _XSLT1_BINDINGS | _XSLT2_BINDINGS:
        raise InvalidInputError(f"{source.name}: queryBinding {binding!r} is not supported")
    if binding in _XSLT2_BINDINGS:
        schema.set("queryBinding", "xslt")
    text = etree.tostring(schema, encoding="unicode")
    try:
        with _saxon_lock:
            expanded = _transform(SKELETON_DIR / "iso_abstract_expand.xsl", text, source.as_uri(), notes)
            compiled = _transform(SKELETON_DIR / "iso_svrl_for_xslt1.xsl", expanded, source.as_uri(), notes)
    except PySaxonApiError as exc:
        raise InvalidInputError(f"{source.name} does not compile: {exc}") from exc
    stylesheet = etree.fromstring(compiled.encode("utf-8"))
    if binding in _XSLT2_BINDINGS:
        stylesheet.set("version", "2.0")
    return etree.tostring(stylesheet, xml_declaration=True, encoding="UTF-8"), binding or "xslt"


def install_schematron_pack(
    name: str, source: Path, packs_dir: Path, *, applies_to: Iterable[DocumentFamily] = ()
) -> InstalledPack:
    """Install the ISO schematron ``source`` (with the files it references) as pack ``name``."""
    validate_name(name)
    if not source.is_file():
        raise InvalidInputError(f"{source} is not a schematron file")
    base = source.parent.resolve()
    files = _referenced_files(source, base)
    target = packs_dir / PackKind.SCHEMATRON.value / name
    staged = staging_dir(target)
    try:
        for path in files:
            destination = staged / path.relative_to(base)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        entry = source.resolve().relative_to(base).as_posix()
        notes: list[str] = []
        compiled, binding = compile_schematron(staged / entry, staged, notes)
        (staged / COMPILED_XSLT).write_bytes(compiled)
        _load_executable(staged / COMPILED_XSLT, InvalidInputError)
        pack = InstalledPack(
            kind=PackKind.SCHEMATRON,
            name=name,
            directory=target,
            entry=entry,
            source=str(source.resolve()),
            installed_at=now_iso(),
            applies_to=tuple(dict.fromkeys(applies_to)),
            query_binding=binding,
            notes=tuple(notes),
        )
        write_manifest(staged, pack)
        swap_in(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return pack


# ------------------------------------------------------------------ run


def _load_executable(compiled: Path, error: type[HubError] = ConfigurationError) -> Any:
    """Compile the generated XSLT; at install a failure is bad input, later a broken installation."""
    try:
        with _saxon_lock:
            return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(compiled))
    except PySaxonApiError as exc:
        raise error(f"the compiled schematron does not load: {exc}") from exc


def _executable(pack: InstalledPack) -> Any:
    key = (str(pack.compiled_path), (pack.directory / MANIFEST).stat().st_mtime_ns)
    with _saxon_lock:
        found = _executables.get(key)
        if found is None:
            found = _load_executable(pack.compiled_path)
            _executables[key] = found
        return found


def _severity(element: etree._Element, text: str) -> IssueSeverity:
    marker = (element.get("flag") or element.get("role") or "").lower()
    if not marker:
        lowered = text.lower()
        marker = next((m for m in ("error", "warning", "note", "info") if lowered.startswith(m)), "")
    if marker in ("error", "fatal"):
        return IssueSeverity.ERROR
    if marker in ("warning", "warn"):
        return IssueSeverity.WARNING
    if marker in ("info", "information", "note"):
        return IssueSeverity.INFORMATION
    return IssueSeverity.ERROR if etree.QName(element).localname == "failed-assert" else IssueSeverity.WARNING


def _line(root: etree._Element, location: str) -> int | None:
    try:
        found = root.getroottree().xpath(location)
    except etree.XPathError:
        return None  # a location the XPath 1 engine cannot evaluate still goes into the issue's location
    first = found[0] if isinstance(found, list) and found else None
    if isinstance(first, etree._Element):
        return source_line(first)
    parent = first.getparent() if isinstance(first, etree._ElementUnicodeResult) else None
    return source_line(parent) if parent is not None else None


def svrl_issues(svrl: bytes, root: etree._Element, pack_name: str) -> list[Issue]:
    """Turn an SVRL report into issues located on ``root``."""
    report = parse_xml(svrl)
    issues: list[Issue] = []
    rule_id: str | None = None
    for element in report:
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local == "fired-rule":
            rule_id = element.get("id")
        elif local in ("failed-assert", "successful-report"):
            text = " ".join("".join(element.findtext(f"{{{SVRL_NS}}}text") or "").split())
            cited = _CITED_RULE.match(text)
            message_id = element.get("id") or rule_id or (cited.group(1) if cited else f"SCH-{pack_name}")
            location = element.get("location", "")
            issues.append(
                Issue(
                    severity=_severity(element, text),
                    code=IssueType.BUSINESS_RULE,
                    diagnostics=f"{message_id}: {text} [schematron {pack_name}]",
                    location=(location,) if location else (),
                    message_id=message_id,
                    line=_line(root, location) if location else None,
                )
            )
    return issues


def run_schematron(pack: InstalledPack, root: etree._Element) -> list[Issue]:
    """Validate ``root`` with the installed schematron ``pack``."""
    document = etree.tostring(root.getroottree(), encoding="unicode")
    try:
        with _saxon_lock:
            executable = _executable(pack)
            node = _processor().parse_xml(xml_text=document)
            svrl = str(executable.transform_to_string(xdm_node=node))
    except PySaxonApiError as exc:
        return [
            Issue(
                severity=IssueSeverity.ERROR,
                code=IssueType.EXCEPTION,
                diagnostics=f"schematron {pack.name} could not be evaluated on this document: {exc}",
                message_id=f"SCH-{pack.name}",
            )
        ]
    return svrl_issues(svrl.encode("utf-8"), root, pack.name)


__all__ = [
    "SKELETON_DIR",
    "compile_schematron",
    "install_schematron_pack",
    "run_schematron",
    "svrl_issues",
]
