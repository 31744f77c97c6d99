"""Validation on write: levels off / base / profiles per type, required profiles, 422 with every issue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.core.settings import Settings
from tests.integration.validation.conftest import (
    DK_OBSERVATION,
    OpenHub,
    errors,
    home_observation,
    message_ids,
    post_json,
)


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for r in resources
        ],
    }


async def test_required_profile_refuses_with_422_and_stores_nothing(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    settings = core_settings(
        levels={"Observation": "profiles"}, required_profiles={"Observation": [DK_OBSERVATION]}
    )
    async with hub(settings) as (client, _):
        broken = home_observation(valueQuantity={"value": 72.5, "unit": "kg"})
        del broken["subject"]
        refused = await post_json(client, "/fhir/Observation", broken)
        assert refused.status_code == 422, refused.text
        outcome = refused.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert len(errors(outcome)) >= 2  # every issue, not the first one
        assert all(i.get("expression") for i in errors(outcome))
        in_bundle = await post_json(client, "/fhir", _bundle(home_observation(), broken))
        assert in_bundle.status_code == 422
        assert (await client.get("/fhir/Observation")).json()["total"] == 0
        accepted = await post_json(client, "/fhir/Observation", home_observation())
        assert accepted.status_code == 201, accepted.text
        oid = accepted.json()["id"]
        broken_update = {**broken, "id": oid}
        assert (
            await client.put(
                f"/fhir/Observation/{oid}",
                json=broken_update,
                headers={"content-type": "application/fhir+json"},
            )
        ).status_code == 422
        patch = await client.patch(
            f"/fhir/Observation/{oid}",
            json=[{"op": "remove", "path": "/subject"}],
            headers={"content-type": "application/json-patch+json"},
        )
        assert patch.status_code == 422
        assert (await client.get("/fhir/Observation")).json()["total"] == 1
        # a Patient (level base by default) is not held to the Observation profile
        assert (await post_json(client, "/fhir/Patient", {"resourceType": "Patient"})).status_code == 201


async def test_base_level_checks_the_core_definition(core_hub: Any) -> None:
    client, _ = core_hub
    bad_code = await post_json(client, "/fhir/Patient", {"resourceType": "Patient", "gender": "sometimes"})
    assert bad_code.status_code == 422, bad_code.text
    assert any("gender" in " ".join(i.get("expression", [])) for i in errors(bad_code.json()))
    # declared profiles are not applied at level base (a fast structural gate)
    declared = home_observation(meta={"profile": [DK_OBSERVATION]})
    del declared["subject"]
    assert (await post_json(client, "/fhir/Observation", declared)).status_code == 201
    # warnings of an accepted write are reported with Prefer: return=OperationOutcome
    quiet = {"resourceType": "Patient", "gender": "female"}  # no narrative: dom-6 warning
    r = await post_json(client, "/fhir/Patient", quiet, prefer="return=OperationOutcome")
    assert r.status_code == 201
    assert "VAL_INVARIANT" in message_ids(r.json())


async def test_profiles_level_applies_declared_profiles(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    async with hub(core_settings(levels={"Observation": "profiles"})) as (client, _):
        declared = home_observation(meta={"profile": [DK_OBSERVATION]})
        del declared["subject"]
        assert (await post_json(client, "/fhir/Observation", declared)).status_code == 422
        del declared["meta"]
        assert (await post_json(client, "/fhir/Observation", declared)).status_code == 201


async def test_level_off_stores_without_profile_checks(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    async with hub(core_settings(default_level="off")) as (client, _):
        r = await post_json(client, "/fhir/Patient", {"resourceType": "Patient", "gender": "sometimes"})
        assert r.status_code == 201
        # the hub's own structural checks still run at every level
        unknown = await post_json(client, "/fhir/Patient", {"resourceType": "Patient", "colour": "blue"})
        assert unknown.status_code == 400
