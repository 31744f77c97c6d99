"""The CapabilityStatement states what is really loaded: $validate, formats, profiles per type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from hub.core.settings import Settings
from tests.integration.validation.conftest import DK, DK_OBSERVATION, OpenHub

VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"


def resource(statement: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in statement["rest"][0]["resource"] if r["type"] == resource_type)
    return found


async def test_capabilities_with_the_core_package(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    settings = core_settings(required_profiles={"Patient": [DK + "dk-tm-patient"]})
    async with hub(settings) as (client, _):
        statement = (await client.get("/fhir/metadata")).json()
    assert {"application/fhir+json", "application/fhir+xml", "json", "xml"} <= set(statement["format"])
    assert [o["name"] for o in statement["rest"][0]["operation"]] == ["validate", "submit-document"]
    observation = resource(statement, "Observation")
    assert observation["profile"] == "http://hl7.org/fhir/StructureDefinition/Observation"
    assert {DK_OBSERVATION, VITAL_SIGNS} <= set(observation["supportedProfile"])
    assert observation["operation"][0]["definition"].endswith("Resource-validate")
    patient = resource(statement, "Patient")
    assert patient["supportedProfile"][0] == DK + "dk-tm-patient"  # required profiles first
    assert len(patient["supportedProfile"]) == len(set(patient["supportedProfile"]))


async def test_capabilities_without_the_core_package(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    assert "xml" not in statement["format"] and "application/fhir+xml" not in statement["format"]
    assert statement["rest"][0]["operation"][0]["name"] == "validate"
    observation = resource(statement, "Observation")
    assert "profile" not in observation  # no base definitions are loaded
    assert observation["supportedProfile"] == [DK_OBSERVATION]  # the built-in package still is
