"""Snapshot generation from differentials."""

from __future__ import annotations

from typing import Any

import pytest

from profiles import CanonicalRegistry
from profiles.snapshot import SnapshotError, SnapshotGenerator

BASE = "http://hl7.org/fhir/StructureDefinition/"


def _profile(url: str, base: str, diff: list[dict[str, Any]], type_: str = "Observation") -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[-1],
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": type_,
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": diff},
    }


@pytest.fixture
def registry(core_registry: CanonicalRegistry) -> CanonicalRegistry:
    return core_registry.copy()


def _by_id(sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in sd["snapshot"]["element"]}


def test_constraints_slices_and_type_children(registry: CanonicalRegistry) -> None:
    sd = _profile(
        "http://t/obs",
        BASE + "Observation",
        [
            {"id": "Observation.status", "path": "Observation.status", "fixedCode": "final"},
            {
                "id": "Observation.code.coding",
                "path": "Observation.code.coding",
                "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"},
            },
            {
                "id": "Observation.code.coding:npu",
                "path": "Observation.code.coding",
                "sliceName": "npu",
                "min": 1,
            },
            {"path": "Observation.code.coding.system", "fixedUri": "urn:oid:1.2.208.176.2.1"},
            {"path": "Observation.valueQuantity", "min": 1},
            {"path": "Observation.valueQuantity.system", "fixedUri": "http://unitsofmeasure.org"},
            {
                "path": "Observation.subject",
                "constraint": [
                    {"key": "t-1", "severity": "error", "human": "h", "expression": "reference.exists()"}
                ],
            },
        ],
    )
    registry.add(sd)
    result = SnapshotGenerator(registry).snapshot(sd)
    assert result.issues == ()
    elements = _by_id(result.structure)
    assert elements["Observation.status"]["fixedCode"] == "final"
    assert elements["Observation.code.coding:npu"]["min"] == 1
    assert elements["Observation.code.coding:npu.system"]["fixedUri"] == "urn:oid:1.2.208.176.2.1"
    assert [t["code"] for t in elements["Observation.value[x]"]["type"]] == ["Quantity"]
    assert elements["Observation.value[x].system"]["fixedUri"] == "http://unitsofmeasure.org"
    keys = [c["key"] for c in elements["Observation.subject"]["constraint"]]
    assert "t-1" in keys and "ele-1" in keys
    order = [e["id"] for e in result.structure["snapshot"]["element"]]
    assert order.index("Observation.code.coding:npu") > order.index("Observation.code.coding")
    assert order.index("Observation.code.coding:npu.system") == order.index("Observation.code.coding:npu") + 3
    assert SnapshotGenerator(registry).snapshot(sd).structure is not sd


def test_profile_of_a_profile_and_cache(registry: CanonicalRegistry) -> None:
    parent = _profile("http://t/p1", BASE + "Patient", [{"path": "Patient.name", "min": 1}], "Patient")
    child = _profile("http://t/p2", "http://t/p1", [{"path": "Patient.gender", "min": 1}], "Patient")
    registry.add(parent)
    registry.add(child)
    generator = SnapshotGenerator(registry)
    elements = _by_id(generator.snapshot(child).structure)
    assert elements["Patient.name"]["min"] == 1 and elements["Patient.gender"]["min"] == 1
    assert generator.snapshot(child) is generator.snapshot(child)


def test_unknown_and_cyclic_bases(registry: CanonicalRegistry) -> None:
    unknown = _profile("http://t/u", "http://t/missing", [])
    with pytest.raises(SnapshotError, match="not loaded"):
        SnapshotGenerator(registry).snapshot(unknown)
    a = _profile("http://t/a", "http://t/b", [])
    b = _profile("http://t/b", "http://t/a", [])
    registry.add(a)
    registry.add(b)
    with pytest.raises(SnapshotError, match="cyclic"):
        SnapshotGenerator(registry).snapshot(a)
    selfish = _profile("http://t/self", "http://t/self", [])
    registry.add(selfish)
    with pytest.raises(SnapshotError, match="cyclic"):
        SnapshotGenerator(registry).snapshot(selfish)


def test_unplaceable_differential_paths_are_issues(registry: CanonicalRegistry) -> None:
    sd = _profile("http://t/bad", BASE + "Observation", [{"path": "Observation.noSuchThing", "min": 1}])
    registry.add(sd)
    result = SnapshotGenerator(registry).snapshot(sd)
    assert [i.message_id for i in result.issues] == ["SNAPSHOT_PATH_NOT_FOUND"]
    assert "Observation.noSuchThing" in result.issues[0].diagnostics


def test_content_reference_children(registry: CanonicalRegistry) -> None:
    sd = _profile(
        "http://t/q",
        BASE + "Questionnaire",
        [{"path": "Questionnaire.item.item.linkId", "maxLength": 5}],
        "Questionnaire",
    )
    registry.add(sd)
    elements = _by_id(SnapshotGenerator(registry).snapshot(sd).structure)
    assert elements["Questionnaire.item.item.linkId"]["maxLength"] == 5
    assert "maxLength" not in elements["Questionnaire.item.linkId"]
