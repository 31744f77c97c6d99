"""Definitions written through the REST API reach the validator (and search) for the next request, survive a
restart, reach other workers, and leave again when deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from hub.core.settings import Settings
from hub.fhir import DefinitionWatcher, reindex
from tests.integration.validation.conftest import OpenHub, errors, message_ids, post_json

EXAMPLE = "http://example.org/fhir"
PATIENT_PROFILE = f"{EXAMPLE}/StructureDefinition/test-patient"
COLOUR_EXT = f"{EXAMPLE}/StructureDefinition/colour"


def patient_profile(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": PATIENT_PROFILE,
        "name": "TestPatient",
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient", "path": "Patient"}, *rules]},
    }


BIRTH_DATE_REQUIRED = {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}
GENDER_REQUIRED = {"id": "Patient.gender", "path": "Patient.gender", "min": 1}


async def validate(client: httpx.AsyncClient, resource: dict[str, Any], profile: str) -> dict[str, Any]:
    r = await post_json(client, f"/fhir/{resource['resourceType']}/$validate?profile={profile}", resource)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_profile_written_through_the_api_is_used_at_once(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    settings = core_settings(levels={"Patient": "profiles"}, required_profiles={"Patient": [PATIENT_PROFILE]})
    async with hub(settings) as (client, _):
        too_early = await post_json(client, "/fhir/Patient", {"resourceType": "Patient"})
        assert too_early.status_code == 422  # a required profile that is not loaded refuses the write
        assert "VAL_PROFILE_UNKNOWN" in message_ids(too_early.json())
        created = await post_json(client, "/fhir/StructureDefinition", patient_profile(BIRTH_DATE_REQUIRED))
        assert created.status_code == 201, created.text
        sd_id = created.json()["id"]
        outcome = await validate(client, {"resourceType": "Patient", "gender": "male"}, PATIENT_PROFILE)
        assert any("birthDate" in i["diagnostics"] for i in errors(outcome))
        assert (await post_json(client, "/fhir/Patient", {"resourceType": "Patient"})).status_code == 422
        ok = await post_json(client, "/fhir/Patient", {"resourceType": "Patient", "birthDate": "1961-07-07"})
        assert ok.status_code == 201, ok.text
        # an update of the profile applies to the next request
        changed = {**patient_profile(GENDER_REQUIRED), "id": sd_id}
        r = await client.put(f"/fhir/StructureDefinition/{sd_id}", json=changed)
        assert r.status_code == 200, r.text
        now = await validate(client, {"resourceType": "Patient", "birthDate": "1961-07-07"}, PATIENT_PROFILE)
        assert any("gender" in i["diagnostics"] for i in errors(now))
        assert not any("birthDate" in i["diagnostics"] for i in errors(now))
    # a restart (a new app on the same database) replays stored definitions before the first request
    async with hub(settings) as (client, _):
        again = await validate(
            client, {"resourceType": "Patient", "birthDate": "1961-07-07"}, PATIENT_PROFILE
        )
        assert any("gender" in i["diagnostics"] for i in errors(again))
        assert (await client.delete(f"/fhir/StructureDefinition/{sd_id}")).status_code == 204
        gone = await validate(client, {"resourceType": "Patient"}, PATIENT_PROFILE)
        assert "VAL_PROFILE_UNKNOWN" in message_ids(gone)


async def test_terminology_written_in_a_transaction_binds_at_once(core_hub: Any) -> None:
    client, _ = core_hub
    code_system = {
        "resourceType": "CodeSystem",
        "url": f"{EXAMPLE}/CodeSystem/colour",
        "status": "active",
        "content": "complete",
        "concept": [{"code": "red"}, {"code": "blue"}],
    }
    value_set = {
        "resourceType": "ValueSet",
        "url": f"{EXAMPLE}/ValueSet/colour",
        "status": "active",
        "compose": {"include": [{"system": f"{EXAMPLE}/CodeSystem/colour"}]},
    }
    profile = {
        **patient_profile(
            {
                "id": "Patient.maritalStatus",
                "path": "Patient.maritalStatus",
                "binding": {"strength": "required", "valueSet": f"{EXAMPLE}/ValueSet/colour"},
            }
        ),
        "url": f"{EXAMPLE}/StructureDefinition/colour-patient",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in (code_system, value_set, profile)
        ],
    }
    r = await post_json(client, "/fhir", bundle)
    assert r.status_code == 200, r.text

    def married(code: str) -> dict[str, Any]:
        coding = {"system": f"{EXAMPLE}/CodeSystem/colour", "code": code}
        return {"resourceType": "Patient", "maritalStatus": {"coding": [coding]}}

    assert errors(await validate(client, married("red"), profile["url"])) == []
    assert errors(await validate(client, married("green"), profile["url"]))
    # deleting the profile inside a transaction takes it out of the validator too
    sd_id = r.json()["entry"][2]["response"]["location"].split("/")[1]
    deletion = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "DELETE", "url": f"StructureDefinition/{sd_id}"}}],
    }
    assert (await post_json(client, "/fhir", deletion)).status_code == 200
    assert "VAL_PROFILE_UNKNOWN" in message_ids(await validate(client, married("red"), profile["url"]))


async def test_search_parameter_written_through_the_api_indexes_new_writes(core_hub: Any) -> None:
    client, services = core_hub

    def coloured(colour: str) -> dict[str, Any]:
        return {"resourceType": "Patient", "extension": [{"url": COLOUR_EXT, "valueCode": colour}]}

    before = await post_json(client, "/fhir/Patient", coloured("red"))
    assert before.status_code == 201
    strict = {"prefer": "handling=strict"}
    assert (await client.get("/fhir/Patient", params={"colour": "red"}, headers=strict)).status_code == 400
    parameter = {
        "resourceType": "SearchParameter",
        "url": f"{EXAMPLE}/SearchParameter/patient-colour",
        "name": "colour",
        "status": "active",
        "description": "favourite colour",
        "code": "colour",
        "base": ["Patient"],
        "type": "token",
        "expression": f"Patient.extension.where(url = '{COLOUR_EXT}').value",
    }
    assert (await post_json(client, "/fhir/SearchParameter", parameter)).status_code == 201
    after = await post_json(client, "/fhir/Patient", coloured("red"))
    found = await client.get("/fhir/Patient", params={"colour": "red"}, headers=strict)
    assert found.status_code == 200, found.text
    # new writes are indexed; resources stored before the parameter existed only after a re-index
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [after.json()["id"]]
    result = await reindex(services.fhir, ["Patient"])
    assert (result.resources, result.replaced) == (2, 2)
    found = await client.get("/fhir/Patient", params={"colour": "red"}, headers=strict)
    assert sorted(e["resource"]["id"] for e in found.json()["entry"]) == sorted(
        [before.json()["id"], after.json()["id"]]
    )
    metadata = (await client.get("/fhir/metadata")).json()
    patient = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "Patient")
    assert "colour" in {p["name"] for p in patient["searchParam"]}
    assert services.validation is not None and services.validation.registry.resolve(parameter["url"])


async def test_another_worker_sees_definitions_after_a_poll(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    settings = core_settings()
    async with hub(settings) as (writer, _), hub(settings) as (reader, reader_services):
        watcher = DefinitionWatcher(reader_services.fhir, interval=3600)
        await watcher.poll()
        created = await post_json(writer, "/fhir/StructureDefinition", patient_profile(BIRTH_DATE_REQUIRED))
        sd_id = created.json()["id"]
        assert "VAL_PROFILE_UNKNOWN" in message_ids(
            await validate(reader, {"resourceType": "Patient"}, PATIENT_PROFILE)
        )
        assert await watcher.poll() == 1
        seen = await validate(reader, {"resourceType": "Patient"}, PATIENT_PROFILE)
        assert any("birthDate" in i["diagnostics"] for i in errors(seen))
        assert await watcher.poll() == 0  # applied once
        assert (await writer.delete(f"/fhir/StructureDefinition/{sd_id}")).status_code == 204
        assert await watcher.poll() == 1
        assert "VAL_PROFILE_UNKNOWN" in message_ids(
            await validate(reader, {"resourceType": "Patient"}, PATIENT_PROFILE)
        )


async def test_a_restart_replays_only_the_newest_version_of_each_definition(
    core_settings: Callable[..., Settings], hub: OpenHub
) -> None:
    settings = core_settings()
    parameter = {
        "resourceType": "SearchParameter",
        "url": f"{EXAMPLE}/SearchParameter/patient-shoe",
        "name": "shoe",
        "status": "active",
        "description": "shoe size",
        "code": "shoe",
        "base": ["Patient"],
        "type": "number",
        "expression": f"Patient.extension.where(url = '{EXAMPLE}/shoe').value",
    }
    async with hub(settings) as (client, _):
        created = await post_json(client, "/fhir/SearchParameter", parameter)
        assert (await client.delete(f"/fhir/SearchParameter/{created.json()['id']}")).status_code == 204
        kept = await post_json(client, "/fhir/StructureDefinition", patient_profile(BIRTH_DATE_REQUIRED))
        sd_id = kept.json()["id"]
        changed = {**patient_profile(GENDER_REQUIRED), "id": sd_id, "url": PATIENT_PROFILE + "-v2"}
        assert (await client.put(f"/fhir/StructureDefinition/{sd_id}", json=changed)).status_code == 200
    async with hub(settings) as (client, services):
        strict = {"prefer": "handling=strict"}
        assert (await client.get("/fhir/Patient", params={"shoe": "42"}, headers=strict)).status_code == 400
        assert services.validation is not None
        assert PATIENT_PROFILE not in services.validation.registry
        now = await validate(client, {"resourceType": "Patient"}, PATIENT_PROFILE + "-v2")
        assert any("gender" in i["diagnostics"] for i in errors(now))
