"""Calling an XdsService directly in tests: ITI-41 with documents, stored queries by name and parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import BlockRow, Database, insert_new_txn, replace_blocks_txn
from xds import MimePart, ProvideAndRegisterRequest, SubmitObjectsRequest
from xds.services import Caller, QueryAnswer, SubmissionResult, XdsService
from xds.stored_queries import (
    ReturnType,
    StoredQueryId,
    adhoc_query_request_element,
    parse_adhoc_query_request,
)

APPROVED = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"
BOTH_STATUSES = (
    "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',"
    "'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"
)


async def provide(
    service: XdsService, caller: Caller, request: SubmitObjectsRequest, documents: Mapping[str, bytes]
) -> SubmissionResult:
    parts = {doc_id: MimePart.from_bytes(None, data, "text/xml") for doc_id, data in documents.items()}
    try:
        return await service.provide_and_register(caller, ProvideAndRegisterRequest(request, parts))
    finally:
        for part in parts.values():
            part.close()


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def query(
    service: XdsService,
    caller: Caller,
    query_id: StoredQueryId,
    parameters: Mapping[str, Sequence[str]],
    *,
    leaf: bool = False,
) -> QueryAnswer:
    element = adhoc_query_request_element(
        query_id, parameters, return_type=ReturnType.LEAF_CLASS if leaf else ReturnType.OBJECT_REF
    )
    return await service.stored_query(caller, parse_adhoc_query_request(element))


def patient_param(cpr: str) -> str:
    return quoted(f"{cpr}^^^&1.2.208.176.1.2&ISO")


async def block_organisation(db: Database, patient: str, sor: str) -> None:
    """Record that ``patient`` blocks the organisation ``sor`` (a Consent head and its block row, as the
    Consent door stores them), straight in the database."""

    async def write(conn: AsyncConnection) -> None:
        rid = await insert_new_txn(
            conn,
            res_type="Consent",
            res_id=f"block-{sor}",
            last_updated=1,
            patient_key=patient,
            data=b"{}",
            method="POST",
            index=(),
        )
        await replace_blocks_txn(conn, rid, [BlockRow(patient, "organisation-sor", sor, None, None)])

    await db.run_write("block", write)
