"""Fixtures reading the official R4 examples and core package in place (skipped when absent)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import testdata_path


@pytest.fixture(scope="session")
def core_search_parameters() -> list[dict[str, Any]]:
    """Every SearchParameter resource of hl7.fhir.r4.core 4.0.1, read from the .tgz without unpacking."""
    package = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    found: list[dict[str, Any]] = []
    with tarfile.open(package, "r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.startswith("package/SearchParameter-"):
                handle = archive.extractfile(member)
                assert handle is not None
                found.append(json.load(handle))
    return found


@pytest.fixture(scope="session")
def core_structure_definitions() -> dict[str, dict[str, Any]]:
    """The R4 core StructureDefinitions of resources, by type, read from the .tgz."""
    package = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    found: dict[str, dict[str, Any]] = {}
    with tarfile.open(package, "r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.startswith("package/StructureDefinition-"):
                handle = archive.extractfile(member)
                assert handle is not None
                definition = json.load(handle)
                if definition.get("kind") == "resource" and definition.get("derivation") == "specialization":
                    found[definition["type"]] = definition
    return found


@pytest.fixture(scope="session")
def example() -> Callable[[str], dict[str, Any]]:
    """Loader of one official R4 example by file name."""

    def load(name: str) -> dict[str, Any]:
        return json.loads(testdata_path("fhir", "examples", name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    return load
