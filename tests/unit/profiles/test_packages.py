"""Package loading: .tgz, folders, loose folders, dependencies, failures, hostile archives."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from profiles import BUILTIN_PACKAGE_DIR, PackageError, PackageLoader, has_core, load_registry, parse_spec
from profiles.package_reader import read_package
from profiles.packages import version_satisfies
from tests.conftest import testdata_path
from tests.unit.profiles.package_builder import manifest, value_set, write_folder, write_tgz


def test_core_package_loads_every_definition() -> None:
    loader = load_registry(
        [testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")], include_builtin=False
    )
    assert "hl7.fhir.r4.core#4.0.1" in loader.loaded
    assert loader.loaded["hl7.fhir.r4.core#4.0.1"].resource_count > 4500
    assert loader.failures == []
    assert has_core(loader)
    assert loader.registry.resolve("http://hl7.org/fhir/ValueSet/administrative-gender") is not None
    assert len(list(loader.registry.all("SearchParameter"))) > 1000


def test_tgz_with_bad_files_lists_them(tmp_path: Path) -> None:
    path = write_tgz(
        tmp_path / "p.tgz",
        manifest("test.bad", "1.0.0"),
        {
            "package/ValueSet-a.json": value_set("http://t/vs/a"),
            "package/broken.json": b"{not json",
            "package/not-a-resource.json": {"hello": "world"},
            "package/example/Patient-x.json": {"resourceType": "Patient"},
            "package/._ValueSet-a.json": b"\x00\x05junk",
        },
    )
    loader = PackageLoader()
    loaded = loader.load(path)
    assert loaded.resource_count == 1
    reasons = {f.file: f.reason for f in loaded.failures}
    assert set(reasons) == {"broken.json", "not-a-resource.json"}
    assert "invalid JSON" in reasons["broken.json"]
    assert loader.registry.resolve("http://t/vs/a") is not None


def test_hostile_archive_members_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "evil.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (
            ("package/package.json", b'{"name": "evil", "version": "1.0.0"}'),
            ("../../outside.json", b'{"resourceType": "ValueSet", "url": "http://evil/1"}'),
            ("package/../../x.json", b'{"resourceType": "ValueSet", "url": "http://evil/2"}'),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("package/link.json")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    loader = PackageLoader()
    assert loader.load(path).resource_count == 0
    assert not (tmp_path.parent / "outside.json").exists()


def test_not_a_package(tmp_path: Path) -> None:
    garbage = tmp_path / "x.tgz"
    garbage.write_bytes(b"definitely not gzip")
    with pytest.raises(PackageError, match="not a readable"):
        read_package(garbage)
    with pytest.raises(PackageError, match="no such package"):
        read_package(tmp_path / "missing.tgz")
    no_manifest = write_folder(tmp_path / "nomanifest", None, {})
    assert read_package(no_manifest).manifest.loose


def test_dependencies_resolved_from_search_folders(tmp_path: Path) -> None:
    write_tgz(
        tmp_path / "dep.a#1.2.0.tgz",
        manifest("dep.a", "1.2.0"),
        {"package/vs.json": value_set("http://dep/a")},
    )
    write_tgz(
        tmp_path / "dep.a#1.3.0.tgz",
        manifest("dep.a", "1.3.0"),
        {"package/vs.json": value_set("http://dep/a", "1.3.0")},
    )
    main = write_folder(
        tmp_path / "main",
        manifest("main.pkg", "0.1.0", {"dep.a": "1.2.x"}),
        {"vs.json": value_set("http://main")},
    )
    loader = PackageLoader(search_dirs=[tmp_path])
    loader.load(main)
    assert set(loader.loaded) == {"main.pkg#0.1.0", "dep.a#1.2.0"}
    assert loader.registry.resolve("http://dep/a") is not None


def test_missing_dependency_is_an_error_unless_lenient(tmp_path: Path) -> None:
    main = write_folder(tmp_path / "main", manifest("main.pkg", "0.1.0", {"not.there": "9.9.9"}), {})
    with pytest.raises(PackageError, match=r"not.there#9.9.9.*no network registry"):
        PackageLoader(search_dirs=[tmp_path]).load(main)
    loaded = PackageLoader().load(main, strict=False)
    assert loaded.missing_dependencies == ("not.there#9.9.9",)


def test_cyclic_dependencies_are_reported(tmp_path: Path) -> None:
    write_folder(tmp_path / "a#1.0.0", manifest("a", "1.0.0", {"b": "1.0.0"}), {})
    write_folder(tmp_path / "b#1.0.0", manifest("b", "1.0.0", {"a": "1.0.0"}), {})
    with pytest.raises(PackageError, match="Cyclic"):
        PackageLoader(search_dirs=[tmp_path]).load(tmp_path / "a#1.0.0")


def test_id_version_from_the_fhir_package_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write_folder(
        cache / "cached.pkg#2.0.0" / "package",
        manifest("cached.pkg", "2.0.0"),
        {"vs.json": value_set("http://c")},
    )
    loader = PackageLoader(cache_dir=cache)
    assert loader.load("cached.pkg#2.0.0").resource_count == 1
    with pytest.raises(PackageError, match="not found"):
        loader.load("cached.pkg#3.0.0")


def test_loose_folder_of_conformance_resources() -> None:
    folder = testdata_path("dk", "fut", "input", "resources")
    loaded = PackageLoader().load(folder)
    assert loaded.manifest.loose and loaded.resource_count > 50


def test_builtin_package_is_lenient_about_core() -> None:
    if not (BUILTIN_PACKAGE_DIR / "package.json").is_file():
        pytest.skip("built-in package not written yet")
    loader = PackageLoader()
    loaded = loader.load_builtin()
    assert loaded is not None and loaded.resource_count > 0
    assert any(m.startswith("hl7.fhir.r4.core") for m in loaded.missing_dependencies)


@pytest.mark.parametrize(
    ("wanted", "have", "ok"),
    [
        ("4.0.1", "4.0.1", True),
        ("4.0.x", "4.0.7", True),
        ("4.0.x", "4.1.0", False),
        ("current", "0.1", True),
        ("1.0", "1.0.1", False),
    ],
)
def test_version_satisfies(wanted: str, have: str, ok: bool) -> None:
    assert version_satisfies(wanted, have) is ok


def test_parse_spec_rejects_garbage() -> None:
    assert parse_spec("a.b#1.0") == ("a.b", "1.0")
    with pytest.raises(PackageError):
        parse_spec("no-version")


def test_folder_definitions_stay_on_disk_until_first_use(tmp_path: Path) -> None:
    profile = {
        "resourceType": "StructureDefinition",
        "url": "http://lazy/sd",
        "version": "1.0.0",
        "kind": "resource",
        "derivation": "constraint",
        "type": "Observation",
        "differential": {"element": [{"id": "Observation.status", "path": "Observation.status"}]},
    }
    folder = write_folder(
        tmp_path / "lazy",
        manifest("lazy.pkg", "1.0.0"),
        {"sd.json": profile, "vs.json": value_set("http://lazy/vs"), "sp.json": _search_parameter()},
    )
    loader = PackageLoader()
    assert loader.load(folder, strict=False).resource_count == 3
    registry = loader.registry
    lazy = {e.url: e for e in registry.entries()}
    assert not lazy["http://lazy/sd"].loaded and not lazy["http://lazy/vs"].loaded
    assert lazy["http://lazy/sp"].loaded  # SearchParameters are all needed at start-up anyway
    summary = next(iter(registry.summaries("StructureDefinition")))
    assert summary == {
        k: profile[k] for k in ("resourceType", "url", "version", "kind", "derivation", "type")
    }
    assert not lazy["http://lazy/sd"].loaded
    assert registry.resolve("http://lazy/sd|1.0.0") == profile
    assert lazy["http://lazy/sd"].loaded


def test_a_lazy_definition_changed_on_disk_is_a_clear_error(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "lazy", manifest("lazy.pkg", "1.0.0"), {"vs.json": value_set("http://a")}
    )
    loader = PackageLoader()
    loader.load(folder, strict=False)
    (folder / "vs.json").write_text('{"resourceType": "ValueSet", "url": "http://b"}')
    with pytest.raises(PackageError, match="no longer holds http://a"):
        loader.registry.resolve("http://a")
    (folder / "vs.json").unlink()
    with pytest.raises(PackageError, match="cannot re-read http://a"):
        loader.registry.resolve("http://a")


def _search_parameter() -> dict[str, object]:
    return {
        "resourceType": "SearchParameter",
        "url": "http://lazy/sp",
        "name": "x",
        "code": "x",
        "base": ["Observation"],
        "type": "token",
        "status": "active",
        "expression": "Observation.status",
    }
