"""Fixtures: the built-in package's resources, read through importlib.resources as a wheel would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from profiles.builtin import package_files


@pytest.fixture(scope="session")
def builtin_resources() -> dict[str, dict[str, Any]]:
    """Every resource of the built-in package, keyed by file name."""
    folder = package_files()
    return {
        entry.name: json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and entry.name != "package.json"
    }


@pytest.fixture(scope="session")
def structure_definitions(builtin_resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in builtin_resources.values() if r["resourceType"] == "StructureDefinition"}
