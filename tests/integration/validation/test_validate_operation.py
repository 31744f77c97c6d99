"""$validate through HTTP (https://hl7.org/fhir/R4/resource-operation-validate.html), on every engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.api import ApiServices
from security import DevCredentialRequest, DevIssuer, Role
from tests.integration.conftest import make_settings
from tests.integration.validation.conftest import (
    CPR,
    DK,
    DK_OBSERVATION,
    FHIR_JSON,
    OpenHub,
    errors,
    home_observation,
    message_ids,
    post_json,
)

Hub = tuple[httpx.AsyncClient, ApiServices]


def parameters(resource: dict[str, Any], *profiles: str, mode: str | None = None) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": "resource", "resource": resource}]
    params += [{"name": "profile", "valueCanonical": p} for p in profiles]
    if mode:
        params.append({"name": "mode", "valueCode": mode})
    return {"resourceType": "Parameters", "parameter": params}


async def test_home_observation_against_the_danish_profile(core_hub: Hub) -> None:
    client, _ = core_hub
    r = await post_json(client, "/fhir/$validate", parameters(home_observation(), DK_OBSERVATION))
    assert r.status_code == 200, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert errors(outcome) == []
    broken = home_observation(effectiveDateTime="2024-05-01")  # no time and time zone
    del broken["subject"]
    r = await post_json(client, "/fhir/$validate", parameters(broken, DK_OBSERVATION))
    assert r.status_code == 200  # an invalid resource is still a successful $validate
    found = errors(r.json())
    assert len(found) >= 2
    assert all(i["expression"] and i["details"]["coding"][0]["code"] for i in found)
    assert "VAL_CARDINALITY_MIN" in message_ids(r.json())
    assert any("subject" in i["diagnostics"] for i in found)


async def test_type_level_query_profile_and_declared_profile(core_hub: Hub) -> None:
    client, _ = core_hub
    bad = home_observation(valueQuantity={"value": 72.5, "unit": "kg"})  # no UCUM system/code
    plain = await post_json(client, "/fhir/Observation/$validate", bad)
    assert errors(plain.json()) == []  # the base definition allows it
    asked = await post_json(client, f"/fhir/Observation/$validate?profile={DK_OBSERVATION}", bad)
    assert errors(asked.json())
    declared = await post_json(
        client, "/fhir/Observation/$validate", {**bad, "meta": {"profile": [DK_OBSERVATION]}}
    )
    assert len(errors(declared.json())) == len(errors(asked.json()))


async def test_unknown_profile_is_an_error_issue(core_hub: Hub) -> None:
    client, _ = core_hub
    r = await post_json(client, "/fhir/$validate", parameters(home_observation(), DK + "nope"))
    assert r.status_code == 200
    assert "VAL_PROFILE_UNKNOWN" in message_ids(r.json())


async def test_request_errors_are_400(core_hub: Hub) -> None:
    client, _ = core_hub
    mismatch = await post_json(client, "/fhir/Patient/$validate", home_observation())
    assert mismatch.status_code == 400
    assert "TH-REST-TYPE-MISMATCH" in message_ids(mismatch.json())
    empty = await client.post("/fhir/$validate", content=b"", headers={"content-type": FHIR_JSON})
    assert empty.status_code == 400
    malformed = await client.post(
        "/fhir/$validate", content=b'{"resourceType":', headers={"content-type": FHIR_JSON}
    )
    assert malformed.status_code == 400 and "TH-JSON-SYNTAX" in message_ids(malformed.json())
    mode = await post_json(client, "/fhir/$validate", parameters(home_observation(), mode="sideways"))
    assert mode.status_code == 400 and "TH-VALIDATE-MODE" in message_ids(mode.json())
    delete = await post_json(client, "/fhir/$validate", parameters(home_observation(), mode="delete"))
    assert delete.status_code == 400
    twice = parameters(home_observation())
    twice["parameter"].append({"name": "resource", "resource": home_observation()})
    assert (await post_json(client, "/fhir/$validate", twice)).status_code == 400
    wrong_type = await client.post("/fhir/$validate", content=b"x", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415


async def test_mode_create_and_update_apply_the_write_rules(core_hub: Hub) -> None:
    client, _ = core_hub
    consent = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"identifier": {"system": CPR, "value": "0707614285"}},
    }
    general = await post_json(client, "/fhir/Consent/$validate", consent)
    create = await post_json(client, "/fhir/Consent/$validate", parameters(consent, mode="create"))
    assert create.status_code == 200
    assert len(errors(create.json())) > len(errors(general.json()))  # the negative-consent shape rules
    update = await post_json(client, "/fhir/$validate", parameters(home_observation(), mode="update"))
    assert "TH-REST-UPDATE-NO-ID" in message_ids(update.json())
    questionnaire = {"resourceType": "Questionnaire", "status": "draft"}
    assert errors((await post_json(client, "/fhir/$validate", questionnaire)).json()) == []
    stored_elsewhere = await post_json(client, "/fhir/$validate", parameters(questionnaire, mode="create"))
    assert "TH-REST-UNSUPPORTED-TYPE" in message_ids(stored_elsewhere.json())


async def test_a_parameters_resource_that_is_not_the_wrapper_is_validated_itself(core_hub: Hub) -> None:
    client, _ = core_hub
    own = {"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 3}]}
    r = await post_json(client, "/fhir/$validate", own)
    assert r.status_code == 200 and errors(r.json()) == []
    bad = {"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": "three"}]}
    assert errors((await post_json(client, "/fhir/$validate", bad)).json())


async def test_instance_level_validates_the_stored_resource(core_hub: Hub) -> None:
    client, services = core_hub
    created = await post_json(client, "/fhir/Patient", {"resourceType": "Patient", "gender": "female"})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    r = await client.get(f"/fhir/Patient/{pid}/$validate")
    assert r.status_code == 200 and errors(r.json()) == []
    danish = await client.get(f"/fhir/Patient/{pid}/$validate", params={"profile": DK + "dk-tm-patient"})
    assert errors(danish.json())  # no CPR identifier
    empty_post = await client.post(f"/fhir/Patient/{pid}/$validate")
    assert empty_post.status_code == 200 and errors(empty_post.json()) == []
    as_update = await post_json(
        client,
        f"/fhir/Patient/{pid}/$validate",
        parameters({"resourceType": "Patient", "id": "other"}, mode="update"),
    )
    assert "TH-REST-UPDATE-ID-MISMATCH" in message_ids(as_update.json())
    deletable = await post_json(
        client,
        f"/fhir/Patient/{pid}/$validate",
        {"resourceType": "Parameters", "parameter": [{"name": "mode", "valueCode": "delete"}]},
    )
    assert deletable.status_code == 200 and "TH-VALIDATE-DELETE-OK" in message_ids(deletable.json())
    missing = await client.get("/fhir/Patient/nope/$validate")
    assert missing.status_code == 404
    await services.fhir.audit.close()  # flush batched audit records
    audit = await client.get("/fhir/AuditEvent", params={"action": "validate"})
    assert audit.status_code == 200, audit.text
    assert audit.json()["total"] >= 4
    rendered = orjson.dumps(audit.json()).decode()
    assert pid in rendered  # instance-level validation names the instance


async def test_validate_without_the_core_package(client: httpx.AsyncClient) -> None:
    r = await post_json(client, "/fhir/$validate", home_observation())
    assert r.status_code == 200
    assert "VAL_CORE_NOT_INSTALLED" in message_ids(r.json())
    no_subject = home_observation()
    del no_subject["subject"]
    profiled = await post_json(client, "/fhir/$validate", parameters(no_subject, DK_OBSERVATION))
    assert errors(profiled.json())  # the built-in profile's own rules still run


async def test_validate_needs_authentication_in_dev_mode(
    database_url: str, tmp_path: Path, hub: OpenHub
) -> None:
    settings = make_settings(database_url, tmp_path / "var", security={"mode": "dev"})
    async with hub(settings) as (client, _):
        anonymous = await post_json(client, "/fhir/$validate", home_observation())
        assert anonymous.status_code == 401
        token = DevIssuer(settings).issue_token(DevCredentialRequest(role=Role.NURSE))
        allowed = await post_json(
            client, "/fhir/$validate", home_observation(), authorization=f"Bearer {token}"
        )
        assert allowed.status_code == 200, allowed.text
