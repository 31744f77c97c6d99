"""MedCom PHMR examples round-trip through the SOAP doors: metadata derived from the CDA header,
ITI-41 -> ITI-18 FindDocuments (patient + classCode + creationTime range) -> ITI-43, bytes identical."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from conformance.suites.xds_client import XdsClient
from hub.core.xml_safety import parse_xml
from tests import xds_builders as b
from tests.conftest import TESTDATA
from xds import DocumentRequest, RegistryObjectList, SubmitObjectsRequest
from xds.cda_metadata import derive_document_entry
from xds.stored_queries import ReturnType, StoredQueryId, adhoc_query_request_element

EXAMPLES = sorted(
    [
        *(TESTDATA / "dk/fut/decoded-examples").glob("*PHMR*.xml"),
        *(
            p
            for p in (TESTDATA / "dk/medcom-cda/test/resources/PHMR").glob("*.xml")
            if ".invalid." not in p.name
        ),
    ]
)


# HL7 (non-Danish) PHMR samples among the MedCom test resources: the PHMR processor rejects them (no MedCom
# templateId, no CPR patient), and the hub must then store nothing.
NOT_DANISH = {"CombinedSampleCDAPHM.xml", "PHMR_Nancy.xml"}


@pytest.fixture
def xds_options() -> dict[str, Any]:
    return {"danish_profile_strictness": "warning"}


@pytest.mark.skipif(not EXAMPLES, reason="../shared/testdata (MedCom PHMR examples) not available")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
async def test_phmr_round_trip(xds: XdsClient, path: Path) -> None:
    raw = path.read_bytes()
    entry = derive_document_entry(
        parse_xml(raw),
        raw,
        facility_type=b.FACILITY,
        practice_setting=b.PRACTICE,
        repository_unique_id=b.REPOSITORY_ID,
        entry_uuid="Document01",
    )
    assert entry.patient_id is not None and entry.unique_id and entry.creation_time and entry.class_code
    sset = dataclasses.replace(b.submission_set(), patient_id=entry.patient_id)
    request = SubmitObjectsRequest(
        RegistryObjectList(
            document_entries=(entry,),
            submission_sets=(sset,),
            associations=(b.has_member(sset.entry_uuid, "Document01", "SSMember01"),),
        )
    )
    reply = await xds.provide_and_register(request, {"Document01": (raw, "text/xml")})
    if path.name in NOT_DANISH:
        assert reply.status == "Failure" and reply.response is not None
        assert any("CONF-PHMR-DK" in e.code_context for e in reply.response.errors)
    else:
        assert reply.status == "Success", reply.fault or reply.response
    year = entry.creation_time[:4]
    found = await xds.query(
        adhoc_query_request_element(
            StoredQueryId.FIND_DOCUMENTS,
            {
                "$XDSDocumentEntryPatientId": [f"'{entry.patient_id.format()}'"],
                "$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
                "$XDSDocumentEntryClassCode": [f"('{entry.class_code.code}^^{entry.class_code.scheme}')"],
                "$XDSDocumentEntryCreationTimeFrom": [year],
                "$XDSDocumentEntryCreationTimeTo": [str(int(year) + 1)],
            },
            return_type=ReturnType.LEAF_CLASS,
        )
    )
    assert found.response is not None and found.response.objects is not None
    entries = found.response.objects.document_entries
    if path.name in NOT_DANISH:
        assert entries == ()
        missing = await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, entry.unique_id or "")])
        assert missing.error_codes == ("XDSDocumentUniqueIdError",)
        return
    assert [e.unique_id for e in entries] == [entry.unique_id]
    assert entries[0].hash == entry.hash and entries[0].size == len(raw)
    retrieved = await xds.retrieve(
        [DocumentRequest(entries[0].repository_unique_id or "", entry.unique_id or "")]
    )
    assert retrieved.documents() == {entry.unique_id: raw}
