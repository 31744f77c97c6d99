"""Installing CDA XSD packs and ISO schematron packs (profiles.cda.packs, schema_pack, schematron_pack)."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from hub.core.errors import ConfigurationError, InvalidInputError, UnsafeXmlError
from profiles.cda import DocumentFamily, PackKind, install_pack, list_packs
from profiles.cda.packs import MANIFEST, cda_pack, find_cda_entry, schematron_packs
from tests.conftest import testdata_path

ISO_HEADER = '<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="{binding}">'


def _zip_tree(tree: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                bundle.write(path, prefix + path.relative_to(tree).as_posix())
    return archive


def test_install_cda_folder_keeps_relative_paths(tmp_path: Path) -> None:
    source = testdata_path("cda", "schemas")
    pack = install_pack("cda-r2", source, tmp_path)
    assert pack.kind is PackKind.CDA_R2
    assert pack.entry == "sdtc/infrastructure/cda/CDA_SDTC.xsd"  # SDTC preferred over the normative CDA.xsd
    assert (
        tmp_path / "cda-r2" / "sdtc" / "processable" / "coreschemas" / "datatypes-base_SDTC.xsd"
    ).is_file()
    assert (tmp_path / "cda-r2" / "normative" / "infrastructure" / "cda" / "CDA.xsd").is_file()
    manifest = json.loads((tmp_path / "cda-r2" / MANIFEST).read_text())
    assert manifest["kind"] == "cda-r2" and manifest["source"] == str(source.resolve())
    assert cda_pack(tmp_path) == pack


def test_install_cda_zip_with_nested_folder(tmp_path: Path) -> None:
    archive = _zip_tree(testdata_path("cda", "schemas", "normative"), tmp_path / "cda.zip", "CDA-R2/")
    pack = install_pack("cda-r2", archive, tmp_path / "packs")
    assert pack.entry == "CDA-R2/infrastructure/cda/CDA.xsd"
    assert pack.entry_path.is_file()


def test_reinstall_replaces_the_pack(tmp_path: Path) -> None:
    install_pack("cda-r2", testdata_path("cda", "schemas"), tmp_path)
    pack = install_pack("cda-r2", testdata_path("cda", "schemas", "normative"), tmp_path)
    assert pack.entry == "infrastructure/cda/CDA.xsd"
    assert not (tmp_path / "cda-r2" / "sdtc").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cda-r2"]  # no staging or retired folders left


def test_failed_install_keeps_the_previous_pack(tmp_path: Path) -> None:
    install_pack("cda-r2", testdata_path("cda", "schemas"), tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match=r"no CDA_SDTC\.xsd or CDA\.xsd"):
        install_pack("cda-r2", empty, tmp_path)
    pack = cda_pack(tmp_path)
    assert pack is not None and pack.entry_path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cda-r2", "empty"]


def test_broken_schema_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "CDA.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="missing.xsd"/>'
        '<xs:element name="x" type="nope"/></xs:schema>'
    )
    with pytest.raises(ConfigurationError, match="does not compile"):
        install_pack("cda-r2", source, tmp_path / "packs")
    assert cda_pack(tmp_path / "packs") is None


def test_schema_including_files_outside_the_pack_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')
    source = tmp_path / "src"
    source.mkdir()
    (source / "CDA.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="../outside.xsd"/>'
        "</xs:schema>"
    )
    with pytest.raises(ConfigurationError):
        install_pack("cda-r2", source, tmp_path / "packs")


@pytest.mark.parametrize("member", ["../evil/CDA.xsd", "/abs/CDA.xsd", "C:/x/CDA.xsd"])
def test_zip_with_unsafe_paths_is_refused(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(member, "<x/>")
    with pytest.raises(InvalidInputError, match="unsafe member path"):
        install_pack("cda-r2", archive, tmp_path / "packs")
    assert not (tmp_path / "evil").exists()


def test_zip_with_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        info = zipfile.ZipInfo("CDA.xsd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(info, "/etc/passwd")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        install_pack("cda-r2", archive, tmp_path / "packs")


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK not really")
    with pytest.raises(InvalidInputError, match="not a valid zip"):
        install_pack("cda-r2", fake, tmp_path / "packs")


def test_single_file_or_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="neither a folder nor a zip"):
        install_pack(
            "cda-r2",
            testdata_path("cda", "schemas", "normative", "infrastructure", "cda", "CDA.xsd"),
            tmp_path,
        )
    with pytest.raises(InvalidInputError, match="does not exist"):
        install_pack("cda-r2", tmp_path / "nope", tmp_path)


def test_entry_preference(tmp_path: Path) -> None:
    for relative in ("b/deep/CDA.xsd", "a/CDA.xsd", "z/x/CDA_SDTC.xsd", "y/x/CDA_SDTC.xsd"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("<x/>")
    assert find_cda_entry(tmp_path).relative_to(tmp_path).as_posix() == "y/x/CDA_SDTC.xsd"


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        ("cda-r2", "x", "has no name"),
        ("schematron", None, "needs a name"),
        ("bogus", "x", "unknown pack kind"),
    ],
)
def test_install_argument_errors(tmp_path: Path, kind: str, name: str | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        install_pack(kind, tmp_path, tmp_path, name)


# ------------------------------------------------------------------ schematron packs


def test_install_medcom_schematron(tmp_path: Path, medcom_schematron: Path) -> None:
    pack = install_pack(
        "schematron", medcom_schematron, tmp_path, "medcom-phmr", applies_to=(DocumentFamily.PHMR,)
    )
    assert pack.query_binding == "xslt2"
    assert pack.applies_to == (DocumentFamily.PHMR,)
    assert sorted(p.name for p in pack.directory.iterdir()) == [
        "compiled.xsl",
        "conf-phmr-dk.sch.xml",
        MANIFEST,
    ]
    compiled = pack.compiled_path.read_text(encoding="utf-8")
    assert 'version="2.0"' in compiled and "svrl" in compiled
    assert schematron_packs(tmp_path) == [pack]


def test_install_schematron_with_entity_includes(tmp_path: Path) -> None:
    source = testdata_path(
        "dk", "medcom-cda", "main", "resources", "schematrons", "schematron", "cda_phmr", "PHMR.sch"
    )
    pack = install_pack("schematron", source, tmp_path, "ipf-phmr")
    copied = {p.relative_to(pack.directory).as_posix() for p in pack.directory.rglob("*.ent")}
    assert "templates/2.16.840.1.113883.10.20.9.8.ent" in copied
    assert len(copied) == 15
    # the schema activates a pattern it never declares; the compiler's note is kept, not lost
    assert any("not declared" in note for note in pack.notes)
    assert "CONF-PHMR-105" in pack.compiled_path.read_text(encoding="utf-8")


def _write_schematron(folder: Path, body: str, binding: str = "xslt2", doctype: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rules.sch"
    path.write_text(f"{doctype}{ISO_HEADER.format(binding=binding)}{body}</schema>", encoding="utf-8")
    return path


def test_schematron_with_sch_include(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "p.sch").write_text(
        '<pattern xmlns="http://purl.oclc.org/dsdl/schematron"><rule context="/*">'
        '<assert test="false()" id="INC-1">included</assert></rule></pattern>'
    )
    source = _write_schematron(folder, '<include href="parts/p.sch"/>', binding="xslt")
    pack = install_pack("schematron", source, tmp_path / "packs", "inc")
    assert (pack.directory / "parts" / "p.sch").is_file()
    assert "INC-1" in pack.compiled_path.read_text(encoding="utf-8")


def test_schematron_referencing_outside_its_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.ent").write_text("<pattern/>")
    doctype = "<!DOCTYPE schema [<!ENTITY e SYSTEM '../secret.ent'>]>"
    source = _write_schematron(tmp_path / "src", "&e;", doctype=doctype)
    with pytest.raises(InvalidInputError, match="outside"):
        install_pack("schematron", source, tmp_path / "packs", "bad")


def test_schematron_referencing_the_network_is_refused(tmp_path: Path) -> None:
    doctype = "<!DOCTYPE schema [<!ENTITY e SYSTEM 'http://example.org/x.ent'>]>"
    source = _write_schematron(tmp_path / "src", "&e;", doctype=doctype)
    with pytest.raises(InvalidInputError, match="local files"):
        install_pack("schematron", source, tmp_path / "packs", "net")


def test_schematron_referencing_a_missing_file_is_refused(tmp_path: Path) -> None:
    source = _write_schematron(tmp_path / "src", '<include href="gone.sch"/>')
    with pytest.raises(InvalidInputError, match="does not exist"):
        install_pack("schematron", source, tmp_path / "packs", "gone")


def test_non_iso_schematron_is_refused(tmp_path: Path) -> None:
    source = testdata_path("cda", "phmr-schematron", "PHMR.sch")
    with pytest.raises(InvalidInputError, match="not an ISO schematron"):
        install_pack("schematron", source, tmp_path / "packs", "old")
    assert schematron_packs(tmp_path / "packs") == []


def test_unsupported_query_binding_is_refused(tmp_path: Path) -> None:
    source = _write_schematron(tmp_path / "src", "", binding="stx")
    with pytest.raises(InvalidInputError, match="queryBinding 'stx'"):
        install_pack("schematron", source, tmp_path / "packs", "stx")


def test_schematron_with_a_bad_xpath_is_refused(tmp_path: Path) -> None:
    source = _write_schematron(
        tmp_path / "src", '<pattern><rule context="/*"><assert test="((">x</assert></rule></pattern>'
    )
    with pytest.raises(InvalidInputError, match="does not load"):
        install_pack("schematron", source, tmp_path / "packs", "badxpath")
    assert schematron_packs(tmp_path / "packs") == []


@pytest.mark.parametrize("name", ["", "../x", "a b", "-lead", "x" * 65])
def test_bad_pack_names(tmp_path: Path, medcom_schematron: Path, name: str) -> None:
    with pytest.raises(InvalidInputError, match="name"):
        install_pack("schematron", medcom_schematron, tmp_path, name)


def test_malformed_schematron_is_invalid_input(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "rules.sch").write_text("<schema")
    with pytest.raises(InvalidInputError):
        install_pack("schematron", folder / "rules.sch", tmp_path / "packs", "broken")


def test_schematron_entity_bomb_is_refused(tmp_path: Path) -> None:
    levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 12)]
    source = _write_schematron(
        tmp_path / "src", "<title>&l11;</title>", doctype=f"<!DOCTYPE schema [{''.join(levels)}]>"
    )
    with pytest.raises((InvalidInputError, UnsafeXmlError)):
        install_pack("schematron", source, tmp_path / "packs", "bomb")
    assert schematron_packs(tmp_path / "packs") == []


def test_list_packs_and_corrupt_manifest(tmp_path: Path, medcom_schematron: Path) -> None:
    assert list_packs(tmp_path) == []
    install_pack("cda-r2", testdata_path("cda", "schemas"), tmp_path)
    install_pack("schematron", medcom_schematron, tmp_path, "b-pack")
    install_pack("schematron", medcom_schematron, tmp_path, "a-pack")
    assert [(p.kind.value, p.name) for p in list_packs(tmp_path)] == [
        ("cda-r2", "cda-r2"),
        ("schematron", "a-pack"),
        ("schematron", "b-pack"),
    ]
    (tmp_path / "schematron" / "a-pack" / MANIFEST).write_text("{not json")
    with pytest.raises(ConfigurationError, match="corrupt pack manifest"):
        list_packs(tmp_path)
    shutil.rmtree(tmp_path / "schematron" / "a-pack")
    assert [p.name for p in schematron_packs(tmp_path)] == ["b-pack"]
