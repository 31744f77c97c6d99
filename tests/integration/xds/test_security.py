"""The security seam at the SOAP doors (dev mode, real signed DGWS ID cards): no card or a replayed card is a
SOAP Fault with an audit record; roles decide; Danish negative consent hides documents inside ITI-18 and
ITI-43; every transaction is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from conformance.suites.xds_client import SOAP_XML, XdsClient
from hub.core.xml_safety import parse_xml
from hub.storage import audit_rows_txn
from security import DevCredentialRequest, PurposeOfUse, Role
from tests import xds_builders as b
from tests.integration.conftest import make_settings
from tests.integration.phmr.conftest import running_hub
from tests.xds_calls import APPROVED, block_organisation, patient_param
from xds import Action, DocumentRequest, build_envelope, envelope_bytes
from xds.stored_queries import StoredQueryId, adhoc_query_request_element

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOR = "123456789012"


@asynccontextmanager
async def serving(
    database_url: str, data_dir: Path, **security: str
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """One hub process (a worker) in dev security mode over ``database_url``; dev keys under ``data_dir``.
    Yields (services, http)."""
    settings = make_settings(database_url, data_dir, security={"mode": "dev", **security})
    async with running_hub(settings) as (http, services):
        yield services, http


@pytest.fixture
async def dev_app(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    async with serving(database_url, tmp_path / "var") as served:
        yield served


def client(services: Any, http: httpx.AsyncClient, request: DevCredentialRequest | None) -> XdsClient:
    header = None
    if request is not None:
        card = services.xds.authenticator.dev_issuer.issue_id_card(request)
        header = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
        header.append(parse_xml(card))
    return XdsClient(http, security_header=header)


def system_card() -> DevCredentialRequest:
    return DevCredentialRequest(role=Role.SYSTEM)


def physician_card(sor: str = SOR) -> DevCredentialRequest:
    return DevCredentialRequest(role=Role.PHYSICIAN, sor=sor, purpose=PurposeOfUse.TREATMENT)


async def _audit(services: Any) -> list[tuple[str, str]]:
    await services.xds.runtime.audit.close()  # waits for a flush in flight, then flushes
    rows = await services.fhir.db.run("a", audit_rows_txn, 0, 1000)
    return [(r.action, r.outcome) for r in rows]


def _find() -> etree._Element:
    return adhoc_query_request_element(
        StoredQueryId.FIND_DOCUMENTS,
        {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]},
    )


async def test_missing_and_replayed_id_cards(dev_app: tuple[Any, httpx.AsyncClient]) -> None:
    services, http = dev_app
    anonymous = await client(services, http, None).query(_find())
    assert anonymous.status_code == 401 and anonymous.fault
    assert anonymous.payload is not None and b"wsse:FailedAuthentication" in etree.tostring(anonymous.payload)
    once = client(services, http, physician_card())
    assert (await once.query(_find())).status == "Success"
    replay = await once.query(_find())
    assert replay.status_code == 401 and replay.fault and "replay" in replay.fault.lower()
    assert await _audit(services) == [("login-failure", "4"), ("ITI-18", "0"), ("login-failure", "4")]


def _fixed_message(reused: XdsClient, message_id: str) -> bytes:
    assert reused.security_header is not None
    return envelope_bytes(
        build_envelope(Action.ITI_18, _find(), extra_headers=(reused.security_header,), message_id=message_id)
    )


async def _post(http: httpx.AsyncClient, envelope: bytes) -> httpx.Response:
    return await http.post("/xds/registry", content=envelope, headers={"content-type": SOAP_XML})


async def test_message_scope_lets_one_card_carry_many_messages(database_url: str, tmp_path: Path) -> None:
    """DGWS clients reuse an ID card for hours: in scope "message" each message (not card) is single-use."""
    async with serving(database_url, tmp_path / "var", saml_replay_scope="message") as (services, http):
        reused = client(services, http, physician_card())
        assert [(await reused.query(_find())).status for _ in range(3)] == ["Success"] * 3
        same = _fixed_message(reused, "urn:uuid:m-1")
        first, again = await _post(http, same), await _post(http, same)
        assert first.status_code == 200
        assert again.status_code == 401 and b"already used" in again.content
        assert (await _audit(services))[-2:] == [("ITI-18", "0"), ("login-failure", "4")]


@pytest.mark.parametrize("scope", ["card", "message"])
async def test_replay_is_refused_by_every_worker_and_after_a_restart(
    database_url: str, tmp_path: Path, scope: str
) -> None:
    """Each worker has its own in-memory cache; the database claim makes a replay fail on the others too."""
    data_dir = tmp_path / "var"  # shared: both workers trust the same dev STS key
    async with (
        serving(database_url, data_dir, saml_replay_scope=scope) as (services_a, http_a),
        serving(database_url, data_dir, saml_replay_scope=scope) as (services_b, http_b),
    ):
        card = client(services_a, http_a, physician_card())
        message = _fixed_message(card, "urn:uuid:w-1")
        assert (await _post(http_a, message)).status_code == 200
        on_b = await _post(http_b, message)
        assert on_b.status_code == 401 and b"another worker" in on_b.content
        assert (await _audit(services_b))[-1] == ("login-failure", "4")
    async with serving(database_url, data_dir, saml_replay_scope=scope) as (_, restarted):
        after = await _post(restarted, message)
        assert after.status_code == 401 and b"before a restart" in after.content
        fresh = await _post(restarted, _fixed_message(card, "urn:uuid:w-2"))
        assert fresh.status_code == (200 if scope == "message" else 401)


async def test_roles_decide(dev_app: tuple[Any, httpx.AsyncClient]) -> None:
    services, http = dev_app
    content = b.cda_document()
    request = b.submission()
    as_physician = await client(services, http, physician_card()).provide_and_register(
        request, {"Document01": (content, "text/xml")}
    )
    assert as_physician.status_code == 403 and as_physician.fault
    stored = await client(services, http, system_card()).provide_and_register(
        request, {"Document01": (content, "text/xml")}
    )
    assert stored.status == "Success"
    as_system = await client(services, http, system_card()).query(_find())
    assert as_system.status_code == 403
    citizen = DevCredentialRequest(role=Role.CITIZEN, cpr=b.PATIENT)
    own = await client(services, http, citizen).query(_find())
    assert (
        own.status == "Success"
        and own.payload is not None
        and len(list(own.payload.iter("{*}ObjectRef"))) == 1
    )
    actions = await _audit(services)
    assert ("ITI-41", "0") in actions and ("ITI-41", "4") in actions and ("ITI-18", "4") in actions


async def test_consent_blocks_inside_query_and_retrieve(dev_app: tuple[Any, httpx.AsyncClient]) -> None:
    services, http = dev_app
    content = b.cda_document()
    request = b.submission()
    uid = request.objects.document_entries[0].unique_id or ""
    stored = await client(services, http, system_card()).provide_and_register(
        request, {"Document01": (content, "text/xml")}
    )
    assert stored.status == "Success"

    await block_organisation(services.fhir.db, b.PATIENT, SOR)
    blocked = await client(services, http, physician_card()).query(_find())
    assert blocked.status == "Success" and blocked.payload is not None
    assert not list(blocked.payload.iter("{*}ObjectRef")) and blocked.error_codes == ("XDSRegistryError",)
    hidden = await client(services, http, physician_card()).retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])
    assert hidden.status == "Failure" and hidden.error_codes == ("XDSDocumentUniqueIdError",)
    elsewhere = await client(services, http, physician_card(sor="999999")).retrieve(
        [DocumentRequest(b.REPOSITORY_ID, uid)]
    )
    assert elsewhere.documents() == {uid: content}
    override = DevCredentialRequest(
        role=Role.PHYSICIAN, sor=SOR, purpose=PurposeOfUse.EMERGENCY, reason="acute: unconscious patient"
    )
    lifted = await client(services, http, override).retrieve([DocumentRequest(b.REPOSITORY_ID, uid)])
    assert lifted.documents() == {uid: content}
