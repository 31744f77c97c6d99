"""Hostile and malformed input against the single XML entry point (hub.core.xml_safety)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from hub.core.errors import InvalidInputError, UnsafeXmlError
from hub.core.issues import IssueSeverity, IssueType
from hub.core.xml_safety import (
    DEFAULT_MAX_DEPTH,
    ConfinedResolver,
    local_file_parser,
    parse_local_file,
    parse_xml,
    source_line,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""


def _quadratic_blowup() -> bytes:
    entity = "A" * 50_000
    refs = "&a;" * 50_000
    return f'<?xml version="1.0"?><!DOCTYPE kaboom [<!ENTITY a "{entity}">]><kaboom>{refs}</kaboom>'.encode()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A real local HTTP server that records every request, to prove the parser never calls out."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"REMOTE-CONTENT"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_parses_plain_document_and_keeps_line_numbers() -> None:
    root = parse_xml(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<a>\n  <b>\xc3\xa6\xc3\xb8\xc3\xa5</b>\n'
        b"  <!-- kept -->\n</a>"
    )
    b = root.find("b")
    assert b is not None and b.text == "æøå"
    assert source_line(b) == 3
    assert any(isinstance(child, etree._Comment) for child in root)
    assert source_line(etree.Element("built")) is None


def test_billion_laughs_is_rejected_with_clear_message() -> None:
    with pytest.raises(UnsafeXmlError) as info:
        parse_xml(BILLION_LAUGHS)
    assert "DOCTYPE" in info.value.message
    assert info.value.issues[0].code is IssueType.SECURITY
    assert info.value.issues[0].message_id == "XML-DOCTYPE-FORBIDDEN"


def test_quadratic_blowup_is_rejected() -> None:
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        parse_xml(_quadratic_blowup())


def test_external_file_entity_is_rejected_and_never_read(secret_file: Path) -> None:
    doc = f'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]><foo>&xxe;</foo>'.encode()
    with pytest.raises(UnsafeXmlError) as info:
        parse_xml(doc)
    assert "TOP-SECRET" not in str(info.value)


def test_external_passwd_entity_is_rejected() -> None:
    doc = b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>'
    with pytest.raises(UnsafeXmlError):
        parse_xml(doc)


def test_external_http_entity_is_rejected_without_network(http_server: tuple[str, list[str]]) -> None:
    base, hits = http_server
    doc = f'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "{base}/entity">]><foo>&xxe;</foo>'.encode()
    with pytest.raises(UnsafeXmlError):
        parse_xml(doc)
    assert hits == []


def test_external_parameter_entity_is_refused(secret_file: Path, http_server: tuple[str, list[str]]) -> None:
    base, hits = http_server
    for target in (secret_file.as_uri(), f"{base}/dtd"):
        doc = f'<!DOCTYPE foo [<!ENTITY % p SYSTEM "{target}"> %p;]><foo/>'.encode()
        with pytest.raises(UnsafeXmlError) as info:
            parse_xml(doc)
        assert "TOP-SECRET" not in str(info.value)
    assert hits == []


def test_internal_parameter_entity_is_refused() -> None:
    doc = b"<!DOCTYPE foo [<!ENTITY % p \"<!ENTITY x 'boom'>\"> %p;]><foo>&x;</foo>"
    with pytest.raises(UnsafeXmlError):
        parse_xml(doc)


def test_external_dtd_subset_is_refused(http_server: tuple[str, list[str]]) -> None:
    base, hits = http_server
    with pytest.raises(UnsafeXmlError):
        parse_xml(f'<!DOCTYPE foo SYSTEM "{base}/x.dtd"><foo/>'.encode())
    assert hits == []


def test_bare_doctype_is_refused() -> None:
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        parse_xml(b"<!DOCTYPE foo><foo/>")


def test_xinclude_is_never_processed(secret_file: Path) -> None:
    doc = (
        '<a xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret_file.as_uri()}" parse="text"/></a>'
    ).encode()
    root = parse_xml(doc)
    assert b"TOP-SECRET" not in etree.tostring(root)
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"


def test_deep_nesting_is_rejected() -> None:
    depth = DEFAULT_MAX_DEPTH + 1
    with pytest.raises(UnsafeXmlError, match="nested deeper"):
        parse_xml(b"<a>" * depth + b"</a>" * depth)


def test_depth_exactly_at_limit_is_accepted() -> None:
    root = parse_xml(b"<a>" * 10 + b"</a>" * 10, max_depth=10)
    assert root.tag == "a"
    with pytest.raises(UnsafeXmlError):
        parse_xml(b"<a>" * 11 + b"</a>" * 11, max_depth=10)


def test_very_deep_nesting_beyond_libxml2_limit_is_a_security_error() -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(b"<a>" * 100_000 + b"</a>" * 100_000, max_bytes=10_000_000)


def test_oversize_is_rejected_before_parsing() -> None:
    doc = b"<a>" + b"x" * 2_000 + b"</a>"
    with pytest.raises(UnsafeXmlError, match="exceeds the limit of 1000") as info:
        parse_xml(doc, max_bytes=1000)
    assert info.value.issues[0].message_id == "XML-TOO-LARGE"


def test_invalid_utf8_reports_line_and_column() -> None:
    doc = b'<?xml version="1.0" encoding="UTF-8"?>\n<a>\n<b>\xff\xfe</b></a>'
    with pytest.raises(InvalidInputError) as info:
        parse_xml(doc)
    assert not isinstance(info.value, UnsafeXmlError)
    issue = info.value.issues[0]
    assert issue.line == 3
    assert issue.column is not None
    assert "line 3" in issue.diagnostics
    assert issue.severity is IssueSeverity.FATAL


def test_malformed_xml_reports_position() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_xml(b"<a>\n  <b>\n</a>")
    assert info.value.issues[0].line == 3
    assert info.value.issues[0].code is IssueType.STRUCTURE


@pytest.mark.parametrize("doc", [b"", b"   ", b"not xml", b"<a>", b"<a></b>"])
def test_garbage_is_invalid_input(doc: bytes) -> None:
    with pytest.raises(InvalidInputError):
        parse_xml(doc)


def test_undeclared_entity_is_invalid() -> None:
    with pytest.raises(InvalidInputError):
        parse_xml(b"<a>&nope;</a>")


def test_str_input_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_xml("<a/>")  # type: ignore[arg-type]


def test_parse_is_thread_safe() -> None:
    results: list[str] = []

    def work(i: int) -> None:
        for _ in range(50):
            results.append(parse_xml(f"<r><v>{i}</v></r>".encode()).findtext("v") or "")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(results)) == ["0", "1", "2", "3"]
    assert len(results) == 200


# ------------------------------------------------------------------ local pack files


def test_local_parser_resolves_relative_xsd_includes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "types.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:simpleType name="code"><xs:restriction base="xs:string">'
        '<xs:pattern value="[A-Z]+"/></xs:restriction></xs:simpleType></xs:schema>'
    )
    (tmp_path / "main.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="sub/types.xsd"/>'
        '<xs:element name="c" type="code"/></xs:schema>'
    )
    schema = etree.XMLSchema(parse_local_file(tmp_path / "main.xsd", root=tmp_path))
    assert schema.validate(parse_xml(b"<c>ABC</c>").getroottree())
    assert not schema.validate(parse_xml(b"<c>abc</c>").getroottree())


def test_local_parser_refuses_includes_outside_the_pack(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (tmp_path / "outside.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')
    (pack / "main.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="../outside.xsd"/></xs:schema>'
    )
    doc = parse_local_file(pack / "main.xsd", root=pack)
    # lxml reports a refused schema include as a schema parse error (it does not re-raise the resolver's)
    with pytest.raises((UnsafeXmlError, etree.XMLSchemaParseError)):
        etree.XMLSchema(doc)
    # the same include compiles when the confinement root contains it
    assert etree.XMLSchema(parse_local_file(pack / "main.xsd", root=tmp_path)) is not None


def test_local_parser_refuses_network_includes(tmp_path: Path, http_server: tuple[str, list[str]]) -> None:
    base, hits = http_server
    (tmp_path / "main.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:include schemaLocation="{base}/remote.xsd"/></xs:schema>'
    )
    doc = parse_local_file(tmp_path / "main.xsd", root=tmp_path)
    with pytest.raises((UnsafeXmlError, etree.XMLSchemaParseError)):
        etree.XMLSchema(doc)
    assert hits == []


def test_local_parser_expands_entities_only_inside_the_pack(tmp_path: Path, secret_file: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "templates").mkdir(parents=True)
    (pack / "templates" / "part.ent").write_text("<rule>inner</rule>")
    (pack / "ok.sch").write_text(
        "<!DOCTYPE schema [<!ENTITY part SYSTEM 'templates/part.ent'>]><schema>&part;</schema>"
    )
    tree = parse_local_file(pack / "ok.sch", root=pack, entities=True)
    assert tree.getroot().findtext("rule") == "inner"
    (pack / "bad.sch").write_text(
        f"<!DOCTYPE schema [<!ENTITY part SYSTEM '{secret_file.as_uri()}'>]><schema>&part;</schema>"
    )
    with pytest.raises(UnsafeXmlError):
        parse_local_file(pack / "bad.sch", root=pack, entities=True)


def test_local_parser_without_entities_keeps_them_unexpanded(tmp_path: Path) -> None:
    (tmp_path / "part.ent").write_text("<rule>inner</rule>")
    (tmp_path / "x.sch").write_text(
        "<!DOCTYPE schema [<!ENTITY part SYSTEM 'part.ent'>]><schema>&part;</schema>"
    )
    tree = etree.parse(str(tmp_path / "x.sch"), local_file_parser(tmp_path))
    assert tree.getroot().find("rule") is None


def test_local_file_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.xsd").write_text("<xs:schema")
    with pytest.raises(InvalidInputError):
        parse_local_file(tmp_path / "broken.xsd", root=tmp_path)
    with pytest.raises(InvalidInputError):
        parse_local_file(tmp_path / "missing.xsd", root=tmp_path)


def test_confined_resolver_decisions(tmp_path: Path) -> None:
    resolver = ConfinedResolver(tmp_path)
    with pytest.raises(UnsafeXmlError, match="network"):
        resolver.resolve("http://example.org/x.xsd", None, None)
    with pytest.raises(UnsafeXmlError, match="outside the pack"):
        resolver.resolve("/etc/passwd", None, None)


def test_confined_resolver_rejects_empty_url(tmp_path: Path) -> None:
    with pytest.raises(UnsafeXmlError):
        ConfinedResolver(tmp_path).resolve(None, None, None)
