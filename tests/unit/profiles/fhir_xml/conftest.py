"""Fixtures: the base R4 definitions (read in place from ../shared/testdata) and a codec over them."""

from __future__ import annotations

import json
import tarfile
from typing import Any

import pytest

from profiles.fhir_xml import FhirXmlCodec, StructureDefinitionTable
from tests.conftest import testdata_path


@pytest.fixture(scope="session")
def core_types() -> StructureDefinitionTable:
    """Every StructureDefinition of hl7.fhir.r4.core#4.0.1."""
    archive = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    definitions: list[dict[str, Any]] = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name.startswith("StructureDefinition-") and name.endswith(".json"):
                handle = tar.extractfile(member)
                assert handle is not None
                definitions.append(json.loads(handle.read()))
    return StructureDefinitionTable(definitions)


@pytest.fixture(scope="session")
def codec(core_types: StructureDefinitionTable) -> FhirXmlCodec:
    return FhirXmlCodec(core_types)
