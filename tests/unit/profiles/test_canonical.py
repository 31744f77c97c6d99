"""CanonicalRegistry: url|version resolution, run-time changes, listeners."""

from __future__ import annotations

import pytest

from hub.core.errors import InvalidInputError
from profiles import CanonicalRegistry, split_canonical


def _vs(version: str | None, name: str = "X") -> dict[str, object]:
    resource: dict[str, object] = {"resourceType": "ValueSet", "url": "http://x/vs", "name": name}
    if version:
        resource["version"] = version
    return resource


def test_resolve_newest_exact_and_partial_versions() -> None:
    registry = CanonicalRegistry()
    for version in ("1.0.0", "1.0.10", "1.0.9", "2.0.0-ballot"):
        registry.add(_vs(version, name=version))
    assert registry.resolve("http://x/vs|1.0.9")["name"] == "1.0.9"  # type: ignore[index]
    assert registry.resolve("http://x/vs", "1.0")["name"] == "1.0.10"  # type: ignore[index]
    assert registry.resolve("http://x/vs")["name"] == "2.0.0-ballot"  # type: ignore[index]
    assert registry.resolve("http://x/vs|3") is None
    assert registry.versions("http://x/vs") == ["1.0.0", "1.0.9", "1.0.10", "2.0.0-ballot"]


def test_fragment_and_unknown_urls() -> None:
    registry = CanonicalRegistry()
    registry.add(_vs(None))
    assert registry.resolve("http://x/vs#part") is not None
    assert registry.resolve("http://nothing") is None
    assert "http://x/vs" in registry and "http://nothing" not in registry
    assert split_canonical("http://a|1.2#f") == ("http://a", "1.2")


def test_add_remove_bump_generation_and_notify() -> None:
    registry = CanonicalRegistry()
    seen: list[str] = []
    registry.subscribe(seen.append)
    start = registry.generation
    registry.add(_vs("1"))
    registry.add(_vs("2"))
    registry.remove("http://x/vs|1")
    assert registry.versions("http://x/vs") == ["2"]
    registry.remove("http://x/vs")
    registry.remove("http://never-there")
    assert registry.resolve("http://x/vs") is None
    assert registry.generation == start + 4
    assert seen == ["http://x/vs"] * 4
    assert list(registry.all("ValueSet")) == []


def test_all_by_type_and_copy_is_independent() -> None:
    registry = CanonicalRegistry()
    registry.add(_vs("1"))
    registry.add({"resourceType": "CodeSystem", "url": "http://x/cs", "content": "complete"})
    copied = registry.copy()
    copied.add({"resourceType": "CodeSystem", "url": "http://x/other", "content": "complete"})
    assert [r["url"] for r in registry.all("CodeSystem")] == ["http://x/cs"]
    assert len(copied) == 3 and len(registry) == 2


@pytest.mark.parametrize(
    "resource", [{"resourceType": "ValueSet"}, {"url": "http://x"}, {"resourceType": "ValueSet", "url": ""}]
)
def test_add_refuses_resources_without_url_or_type(resource: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        CanonicalRegistry().add(resource)


def test_structure_definition_for_type(core_registry: CanonicalRegistry) -> None:
    patient = core_registry.structure_definition_for_type("Patient")
    assert patient is not None and patient["snapshot"]["element"][0]["path"] == "Patient"
    assert core_registry.structure_definition_for_type("HumanName")["kind"] == "complex-type"  # type: ignore[index]
    assert core_registry.structure_definition_for_type("NoSuchType") is None
