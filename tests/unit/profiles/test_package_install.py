"""Installing packages into the hub's package folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from profiles import PackageError, PackageLoader
from profiles.package_install import install, installed_packages, load_installed
from tests.unit.profiles.package_builder import manifest, value_set, write_folder, write_tgz


def test_install_tgz_with_dependency_from_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write_folder(
        cache / "dep.x#1.0.0" / "package", manifest("dep.x", "1.0.0"), {"vs.json": value_set("http://dep/x")}
    )
    source = write_tgz(
        tmp_path / "main.tgz",
        manifest("main.x", "0.2.0", {"dep.x": "1.0.0"}),
        {"package/a.json": value_set("http://main/x")},
    )
    target = tmp_path / "installed"
    done = install(source, target, cache_dir=cache)
    assert [p.manifest.spec for p in done] == ["dep.x#1.0.0", "main.x#0.2.0"]
    assert {p.manifest.spec for p in installed_packages(target)} == {"dep.x#1.0.0", "main.x#0.2.0"}
    assert (target / "main.x#0.2.0" / "package" / "a.json").is_file()
    loader = PackageLoader()
    load_installed(loader, target)
    assert (
        loader.registry.resolve("http://dep/x") is not None
        and loader.registry.resolve("http://main/x") is not None
    )


def test_install_by_id_from_a_configured_folder(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    write_tgz(
        folder / "some.ig#1.1.0.tgz",
        manifest("some.ig", "1.1.0"),
        {"package/vs.json": value_set("http://ig")},
    )
    done = install("some.ig#1.1.0", tmp_path / "installed", search_dirs=[folder])
    assert done[0].manifest.spec == "some.ig#1.1.0"


def test_missing_dependency_installs_nothing(tmp_path: Path) -> None:
    source = write_tgz(tmp_path / "m.tgz", manifest("m", "1.0.0", {"hl7.fhir.r4.core": "4.0.1"}), {})
    target = tmp_path / "installed"
    with pytest.raises(PackageError, match=r"hl7\.fhir\.r4\.core#4\.0\.1.*Install hl7\.fhir\.r4\.core"):
        install(source, target)
    assert installed_packages(target) == []


def test_unknown_id_says_no_network_registry(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="no network registry"):
        install("hl7.fhir.us.core#3.1.0", tmp_path / "installed", cache_dir=tmp_path / "empty")
