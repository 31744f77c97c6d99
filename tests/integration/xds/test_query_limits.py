"""ITI-18 over the SOAP door: a query selecting more objects than ``xds.max_query_results`` is a Failure
with XDSTooManyResults (the registry never builds an answer of unbounded size)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.suites.xds_client import XdsClient
from tests import xds_builders as b
from tests.xds_calls import APPROVED, patient_param
from xds.stored_queries import ReturnType, StoredQueryId, adhoc_query_request_element


@pytest.fixture
def xds_options() -> dict[str, Any]:
    return {"max_query_results": 1}


async def test_too_many_results_through_the_door(xds: XdsClient) -> None:
    find = adhoc_query_request_element(
        StoredQueryId.FIND_DOCUMENTS,
        {"$XDSDocumentEntryPatientId": [patient_param(b.PATIENT)], "$XDSDocumentEntryStatus": [APPROVED]},
        return_type=ReturnType.LEAF_CLASS,
    )
    first = await xds.provide_and_register(b.submission(), {"Document01": (b.cda_document(), "text/xml")})
    assert first.status == "Success", first.fault
    assert (await xds.query(find)).status == "Success"  # one entry: within the limit
    second = await xds.provide_and_register(b.submission(), {"Document01": (b"<x>2</x>", "text/xml")})
    assert second.status == "Success", second.fault
    refused = await xds.query(find)
    assert refused.status_code == 200 and refused.status == "Failure"
    assert refused.error_codes == ("XDSTooManyResults",)
