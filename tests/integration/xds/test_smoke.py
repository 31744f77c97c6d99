"""First end-to-end pass: ITI-41 -> ITI-18 -> ITI-43."""

from __future__ import annotations

from conformance.suites.xds_client import XdsClient
from tests import xds_builders as b
from xds import DocumentRequest


async def test_provide_query_retrieve(xds: XdsClient) -> None:
    content = b.cda_document()
    request = b.submission()
    entry = request.objects.document_entries[0]
    reply = await xds.provide_and_register(request, {entry.entry_uuid: (content, "text/xml")})
    assert reply.status == "Success", (reply.fault, reply.response)
    retrieved = await xds.retrieve([DocumentRequest(b.REPOSITORY_ID, entry.unique_id or "")])
    assert retrieved.status == "Success", (retrieved.fault, retrieved.response)
    assert retrieved.documents() == {entry.unique_id: content}
