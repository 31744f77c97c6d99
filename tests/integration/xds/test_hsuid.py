"""DGWS system ID card + HSUID header (DDS/KIH style) at the SOAP doors, each engine: a trusted system acts
for the professional or citizen the header names (roles, consent blocks on that user's organisation,
værdispring), an untrusted one stays a plain system, and a header that names nobody usable is a SOAP Fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from conformance.suites.xds_client import XdsClient
from hub.core.xml_safety import parse_xml
from hub.storage import audit_rows_txn
from security import DevCredentialRequest, Role, record_from_bytes
from security.saml.hsuid import HSUID_NAMESPACES
from tests import xds_builders as b
from tests.integration.xds.test_security import WSSE, serving
from tests.xds_calls import APPROVED, block_organisation, patient_param
from xds import DocumentRequest
from xds.stored_queries import StoredQueryId, adhoc_query_request_element

SYSTEM_PROVIDER = "987654321"  # the EHR vendor's system card (CareProviderID, SOR form in dev cards)
HOSPITAL_SOR = "123456789012"
ACTING_CPR = "0101701234"


def hsuid(namespace: str = HSUID_NAMESPACES[0], **attributes: str | tuple[str, str]) -> etree._Element:
    """An HSUID header; a tuple value is (value, NameFormat)."""
    header = etree.Element(f"{{{namespace}}}HsuidHeader", nsmap={"hsuid": namespace})
    assertion = etree.SubElement(header, f"{{{namespace}}}Assertion", Version="2.0", id="HSUID")
    etree.SubElement(assertion, f"{{{namespace}}}Issuer").text = "KIH test client"
    statement = etree.SubElement(assertion, f"{{{namespace}}}AttributeStatement", id="HSUIDdata")
    for name, given in attributes.items():
        value, name_format = given if isinstance(given, tuple) else (given, "")
        attribute = etree.SubElement(
            statement, f"{{{namespace}}}Attribute", Name=name, NameFormat=name_format
        )
        etree.SubElement(attribute, f"{{{namespace}}}AttributeValue").text = value
    return header


def professional(**more: str | tuple[str, str]) -> dict[str, str | tuple[str, str]]:
    return {
        "nsi:UserType": "nsi:HealthcareProfessional",
        "nsi:ActingUserCivilRegistrationNumber": ACTING_CPR,
        "nsi:OrgUsingID": (HOSPITAL_SOR, "nsi:sor"),
        "nsi:ResponsibleUserAuthorizationCode": "bcd12",
        "nsi:SystemName": "Hospital EHR",
        **more,
    }


def system_client(
    services: Any, http: httpx.AsyncClient, *headers: etree._Element, **http_headers: str
) -> XdsClient:
    card = services.xds.authenticator.dev_issuer.issue_id_card(
        DevCredentialRequest(role=Role.SYSTEM, sor=SYSTEM_PROVIDER, it_system="EHR gateway")
    )
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(parse_xml(card))
    return XdsClient(http, security_header=security, soap_headers=headers, headers=http_headers)


def find() -> etree._Element:
    return adhoc_query_request_element(
        StoredQueryId.FIND_DOCUMENTS,
        {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]},
    )


@pytest.fixture
async def trusting(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient, str]]:
    async with serving(database_url, tmp_path / "var", hsuid_trusted_providers=[SYSTEM_PROVIDER]) as (s, h):
        request = b.submission()
        content = b.cda_document()
        stored = await system_client(s, h, hsuid(**professional())).provide_and_register(
            request, {"Document01": (content, "text/xml")}
        )
        assert stored.status == "Success", stored.fault  # the system role stays: it may still submit
        yield s, h, request.objects.document_entries[0].unique_id or ""


async def test_a_trusted_system_reads_for_the_professional_it_names(
    trusting: tuple[Any, httpx.AsyncClient, str],
) -> None:
    services, http, _ = trusting
    for namespace in HSUID_NAMESPACES:  # the 2016/08 header and the older 2013/01 one
        found = await system_client(services, http, hsuid(namespace, **professional())).query(find())
        assert found.status == "Success" and found.payload is not None
        assert len(list(found.payload.iter("{*}ObjectRef"))) == 1
    plain = await system_client(services, http).query(find())  # no header: a system may not read
    assert plain.fault is not None and "may not" in plain.fault
    await services.xds.runtime.audit.close()
    rows = await services.fhir.db.run("a", audit_rows_txn, 0, 1000)
    query = next(record_from_bytes(r.record) for r in rows if r.action == "ITI-18" and r.outcome == "0")
    assert query.agent.cpr == ACTING_CPR and query.agent.authorisation_id == "BCD12"
    assert query.agent.organisation_sor == HOSPITAL_SOR and query.agent.it_system == "Hospital EHR"
    assert set(query.agent.roles) == {"system", "other_professional"}


async def test_consent_blocks_the_named_organisation_and_consent_override_lifts_it(
    trusting: tuple[Any, httpx.AsyncClient, str],
) -> None:
    services, http, uid = trusting

    await block_organisation(services.fhir.db, b.PATIENT, HOSPITAL_SOR)
    retrieve = [DocumentRequest(b.REPOSITORY_ID, uid)]
    hidden = await system_client(services, http, hsuid(**professional())).retrieve(retrieve)
    assert hidden.status == "Failure" and hidden.error_codes == ("XDSDocumentUniqueIdError",), hidden.fault
    override = hsuid(**professional(**{"nsi:ConsentOverride": "true"}))
    no_reason = await system_client(services, http, override).retrieve(retrieve)
    assert no_reason.fault and "needs an override reason" in no_reason.fault  # værdispring needs a reason
    reason = {"x-override-reason": "acute: unconscious patient"}
    lifted = await system_client(services, http, override, **reason).retrieve(retrieve)
    assert set(lifted.documents()) == {uid}


async def test_untrusted_systems_and_unusable_headers(
    database_url: str, tmp_path: Path, trusting: tuple[Any, httpx.AsyncClient, str]
) -> None:
    services, http, _ = trusting
    refusals = {
        "no SOR organisation": professional(**{"nsi:OrgUsingID": ("1234", "nsi:skskode")}),
        "bad CPR": professional(**{"nsi:ActingUserCivilRegistrationNumber": "123"}),
        "unknown user type": professional(**{"nsi:UserType": "nsi:Robot"}),
        "citizen for another": {
            "nsi:UserType": "nsi:Citizen",
            "nsi:ActingUserCivilRegistrationNumber": ACTING_CPR,
            "nsi:CitizenCivilRegistrationNumber": b.PATIENT,
            "nsi:CitizenUserRelation": "nsi:Guardian",
        },
        "control characters": professional(**{"nsi:SystemName": "EHR\tgateway"}),
    }
    for label, attributes in refusals.items():
        reply = await system_client(services, http, hsuid(**attributes)).query(find())
        assert reply.status_code == 401 and reply.fault and "HSUID" in reply.fault, label
    twice = await system_client(services, http, hsuid(**professional()), hsuid(**professional())).query(
        find()
    )
    assert twice.status_code == 401 and twice.fault and "more than one HSUID" in twice.fault
    citizen = {"nsi:UserType": "nsi:Citizen", "nsi:ActingUserCivilRegistrationNumber": b.PATIENT}
    own = await system_client(services, http, hsuid(**citizen)).query(find())
    assert own.status == "Success" and own.payload is not None
    assert len(list(own.payload.iter("{*}ObjectRef"))) == 1  # a citizen reads their own documents

    async with serving(database_url, tmp_path / "other") as (plain_services, plain_http):
        reply = await system_client(plain_services, plain_http, hsuid(**professional())).query(find())
        assert reply.fault is not None and "system may not" in reply.fault  # header not honoured
