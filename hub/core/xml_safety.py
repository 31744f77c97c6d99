"""The single XML entry point of telehub: safe parsing of untrusted XML and of locally installed packs.

Every XML document that reaches the hub (CDA/PHMR, ebRIM/SOAP, SAML, FHIR XML) is parsed by
:func:`parse_xml`.  The parser follows the OWASP XML External Entity Prevention Cheat Sheet
(https://cheatsheetseries.owasp.org/cheatsheets/XML_External_Entity_Prevention_Cheat_Sheet.html):

* no DTD loading, no entity expansion, no network access, no XInclude processing (XInclude is only
  ever performed by an explicit ``xinclude()`` call, which telehub never makes);
* ANY document type declaration is rejected with :class:`~hub.core.errors.UnsafeXmlError` - this
  covers billion laughs, quadratic blowup, parameter entities and XXE (``file://`` and ``http://``);
  HL7 CDA R2, IHE ITI TF-2x (SOAP 1.2, V.3) and FHIR XML all forbid or never need a DTD;
* a byte-size limit (checked before parsing) and an element-depth limit (checked after parsing);
* malformed XML and invalid UTF-8 raise :class:`~hub.core.errors.InvalidInputError` whose issue carries
  the line and column; parsed elements keep ``sourceline`` so validators can report line numbers.

Installed packs (CDA XSDs, ISO schematrons, XSLT) are operator-provided files on local disk.  They are
read with :func:`local_file_parser`, which never touches the network and only resolves relative
includes / external entities to files *inside the pack folder* (see :class:`ConfinedResolver`).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lxml import etree

from hub.core.errors import InvalidInputError, UnsafeXmlError
from hub.core.issues import Issue, IssueSeverity, IssueType

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Default size limit of one XML document (matches ``Settings.max_body_bytes``)."""

DEFAULT_MAX_DEPTH = 128
"""Default element-nesting limit; real CDA, ebRIM and SAML documents stay well below 60."""

_SECURITY_MESSAGES = {
    "doctype": "XML-DOCTYPE-FORBIDDEN",
    "size": "XML-TOO-LARGE",
    "depth": "XML-TOO-DEEP",
    "resolve": "XML-RESOLVE-FORBIDDEN",
}

REFUSED_XML_MESSAGE_IDS = frozenset({"XML-MALFORMED", *_SECURITY_MESSAGES.values()})
"""The ``message_id`` of every issue :func:`parse_xml` raises: the bytes are not well-formed, safe XML."""

_DOCTYPE_MESSAGE = (
    "XML document refused: a DOCTYPE declaration is not allowed "
    "(DTDs and entities are never processed; this blocks entity-expansion and XXE attacks)"
)

_local = threading.local()


def _untrusted_parser() -> etree.XMLParser:
    """One parser per thread: lxml parsers serialise concurrent use, so sharing one would be a bottleneck."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
            remove_pis=False,
            collect_ids=False,
        )
        # Anything libxml2 still tries to load (an external subset, an external entity) is refused
        # outright instead of being read from disk.
        parser.resolvers.add(_RefuseAllResolver())
        _local.parser = parser
    return parser


class _RefuseAllResolver(etree.Resolver):
    """Refuses every external load requested while parsing untrusted input."""

    # lxml-stubs omit the context argument that lxml passes, hence the override ignore
    def resolve(  # type: ignore[override]
        self, system_url: str | None, public_id: str | None, context: object
    ) -> None:
        raise _security_error(
            "resolve",
            f"XML document refused: its DOCTYPE references the external resource {system_url!r} "
            "(DTDs and entities are never processed)",
        )


def _security_error(kind: str, message: str, line: int | None = None) -> UnsafeXmlError:
    issue = Issue(
        severity=IssueSeverity.FATAL,
        code=IssueType.SECURITY,
        diagnostics=message,
        message_id=_SECURITY_MESSAGES[kind],
        line=line,
    )
    return UnsafeXmlError(message, issues=(issue,))


def _syntax_error(exc: etree.XMLSyntaxError) -> InvalidInputError:
    line, column = exc.position if exc.position else (exc.lineno, 0)
    detail = (exc.msg or str(exc)).strip()
    message = f"Malformed XML at line {line}, column {column}: {detail}"
    issue = Issue(
        severity=IssueSeverity.FATAL,
        code=IssueType.STRUCTURE,
        diagnostics=message,
        message_id="XML-MALFORMED",
        line=line or None,
        column=column or None,
    )
    return InvalidInputError(message, issues=(issue,))


@functools.lru_cache(maxsize=16)
def _depth_probe(max_depth: int) -> etree.XPath:
    """XPath that is true when an element sits deeper than ``max_depth`` (root = depth 1).

    One wildcard step per level keeps the check linear in the number of elements and runs in C.
    """
    return etree.XPath("boolean(/" + "/".join(["*"] * (max_depth + 1)) + ")")


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted XML bytes and return the root element (``root.getroottree()`` gives the document).

    Raises :class:`UnsafeXmlError` for a DOCTYPE, oversize input or excessive nesting, and
    :class:`InvalidInputError` (with line/column) for malformed XML or bad encoding.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_xml expects bytes, not {type(data).__name__}")
    size = len(data)
    if size > max_bytes:
        raise _security_error("size", f"XML document refused: {size} bytes exceeds the limit of {max_bytes}")
    if size == 0:
        raise InvalidInputError(
            "Malformed XML at line 1, column 1: the document is empty",
            issues=(
                Issue(
                    severity=IssueSeverity.FATAL,
                    code=IssueType.STRUCTURE,
                    diagnostics="Malformed XML at line 1, column 1: the document is empty",
                    message_id="XML-MALFORMED",
                    line=1,
                    column=1,
                ),
            ),
        )
    try:
        root = etree.fromstring(bytes(data), _untrusted_parser())
    except etree.XMLSyntaxError as exc:
        # libxml2's own hard limits (nesting 256, text node 10 MB without huge_tree) are limits, not syntax
        text = exc.msg or ""
        if "Excessive depth" in text:
            raise _security_error(
                "depth", f"XML document refused: elements are nested deeper than {max_depth}"
            ) from exc
        if "huge" in text.lower():
            raise _security_error("size", f"XML document refused: {text.strip()}") from exc
        if b"<!DOCTYPE" in data or "amplification" in text:
            # libxml2 aborts entity bombs itself (amplification limit) before our DOCTYPE check runs
            raise _security_error("doctype", _DOCTYPE_MESSAGE, line=exc.lineno or None) from exc
        raise _syntax_error(exc) from exc
    tree = root.getroottree()
    info: Any = tree.docinfo  # lxml-stubs lack doctype/internalDTD/externalDTD
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _security_error("doctype", _DOCTYPE_MESSAGE, line=1)
    if _depth_probe(max_depth)(tree):
        raise _security_error("depth", f"XML document refused: elements are nested deeper than {max_depth}")
    return root


def source_line(element: etree._Element) -> int | None:
    """The 1-based source line of ``element`` (``None`` for built elements); typed, unlike lxml-stubs."""
    line: object = element.sourceline
    return line if isinstance(line, int) else None


class ConfinedResolver(etree.Resolver):
    """Resolves includes/entities of an installed pack to local files below ``root``; refuses the rest."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root.resolve()

    def resolve(  # type: ignore[override]
        self, system_url: str | None, public_id: str | None, context: object
    ) -> object:
        if not system_url:
            raise _security_error("resolve", "pack file refused: a reference without a system URL")
        parsed = urlparse(system_url)
        if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
            raise _security_error("resolve", f"pack file refused: network reference {system_url!r}")
        target = Path(unquote(parsed.path)).resolve()
        if not target.is_relative_to(self._root):
            raise _security_error(
                "resolve", f"pack file refused: {system_url!r} lies outside the pack folder {self._root}"
            )
        return self.resolve_filename(str(target), context)  # type: ignore[attr-defined]


def local_file_parser(root: Path, *, entities: bool = False) -> etree.XMLParser:
    """A parser for operator-installed pack files (XSD, XSLT, schematron) below ``root``.

    Relative ``xs:include``/``xs:import``/``xsl:import`` and (with ``entities=True``) external entities
    declared in the file's own DTD resolve to files inside ``root`` only; the network is never used.
    """
    parser = etree.XMLParser(
        resolve_entities=entities,
        load_dtd=entities,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )
    parser.resolvers.add(ConfinedResolver(root))
    return parser


def parse_local_file(path: Path, *, root: Path, entities: bool = False) -> etree._ElementTree:
    """Parse a pack file with :func:`local_file_parser`; malformed files raise ``InvalidInputError``."""
    try:
        return etree.parse(str(path), local_file_parser(root, entities=entities))
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read pack file {path}: {exc}") from exc


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "REFUSED_XML_MESSAGE_IDS",
    "ConfinedResolver",
    "local_file_parser",
    "parse_local_file",
    "parse_xml",
    "source_line",
]
