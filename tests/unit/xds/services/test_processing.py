"""The document-processor seam: ordering, the three phases, all-or-nothing with the submission transaction,
lifecycle on replacement and deletion, and $submit-document deriving metadata."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import AuditRow, append_audit_txn, audit_rows_txn
from security import chain_hash
from tests import xds_builders as b
from tests.xds_calls import provide
from xds import AssociationType, DocumentEntry, RegistryError, RemoveObjectsRequest, XdsError, XdsErrorCode
from xds.services import (
    Caller,
    ProcessedDocument,
    ProcessorRegistry,
    SubmissionContext,
    SubmittedDocument,
    XdsService,
    document_entries_by_unique_id,
)

MARKER = b"<!--telehub-test-processor-->"


@dataclass
class MarkerProcessor:
    """A real processor: accepts documents carrying MARKER, derives metadata from a tiny header, writes an
    audit row as its derived data (so the test can see it commit or vanish with the submission)."""

    name: str = "marker"
    fail_persist: bool = False
    reject: bool = False
    deprecated: list[str] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)

    def accepts(self, document: SubmittedDocument) -> bool:
        return document.data.startswith(MARKER)

    def process(self, document: SubmittedDocument) -> ProcessedDocument:
        errors = (
            RegistryError(XdsErrorCode.XDS_REPOSITORY_METADATA_ERROR, "marker says no", document.document_id),
        )
        return ProcessedDocument(
            errors=errors if self.reject else (),
            warnings=(),
            derived_entry=b.document_entry(),
            payload=len(document.data),
        )

    async def persist_txn(
        self,
        conn: AsyncConnection,
        processed: ProcessedDocument,
        entry: DocumentEntry,
        ctx: SubmissionContext,
    ) -> None:
        assert entry.entry_uuid.startswith("urn:uuid:") and entry.hash is not None
        row = AuditRow(
            ctx.now_us,
            "processor",
            "0",
            None,
            ctx.principal.subject,
            None,
            None,
            False,
            entry.entry_uuid.encode(),
        )
        await append_audit_txn(conn, ctx.engine, [row], chain_hash)
        if self.fail_persist:
            raise XdsError.single(XdsErrorCode.XDS_REPOSITORY_ERROR, "derived data could not be stored")

    async def lifecycle_txn(
        self,
        conn: AsyncConnection,
        deprecated: Sequence[DocumentEntry],
        replaced_by: Mapping[str, DocumentEntry],
    ) -> None:
        self.deprecated.extend(e.entry_uuid for e in deprecated)
        self.replaced.update({old: new.entry_uuid for old, new in replaced_by.items()})


class NeverProcessor(MarkerProcessor):
    def accepts(self, document: SubmittedDocument) -> bool:
        return False


def test_registry_order_first_accepting_wins() -> None:
    first, second = MarkerProcessor(name="first"), MarkerProcessor(name="second")
    registry = ProcessorRegistry.of([NeverProcessor(name="never"), first]).with_processor(second)
    document = SubmittedDocument("Document01", "text/xml", MARKER + b"<x/>", None)
    assert registry.processor_for(document) is first
    assert registry.processor_for(dataclasses.replace(document, data=b"<x/>")) is None
    outcome = registry.process(document)
    assert outcome is not None and outcome[0] is first and outcome[1].payload == len(document.data)
    assert len(ProcessorRegistry()) == 0 and ProcessorRegistry().process(document) is None


async def _processor_rows(service: XdsService) -> list[AuditRow]:
    rows: list[AuditRow] = await service.db.run("a", audit_rows_txn, 0, 1000)
    return [r for r in rows if r.action == "processor"]


async def test_persist_runs_inside_the_submission_transaction(service: XdsService, system: Caller) -> None:
    processor = MarkerProcessor()
    service.add_processor(processor)
    content = MARKER + b.cda_document()
    result = await provide(service, system, b.submission(), {"Document01": content})
    rows = await _processor_rows(service)
    assert [r.record for r in rows] == [result.mapping["Document01"].encode()]

    processor.fail_persist = True
    request = b.submission()
    with pytest.raises(XdsError):
        await provide(service, system, request, {"Document01": MARKER + b.cda_document()})
    assert len(await _processor_rows(service)) == 1, "the failed submission left no derived data"
    uid = request.objects.document_entries[0].unique_id or ""
    assert await document_entries_by_unique_id(service.db, [uid]) == [], "and no registry entry"


async def test_processor_errors_reject_before_storing(service: XdsService, system: Caller) -> None:
    service.add_processor(MarkerProcessor(reject=True))
    request = b.submission()
    with pytest.raises(XdsError) as caught:
        await provide(service, system, request, {"Document01": MARKER + b.cda_document()})
    assert "marker says no" in str(caught.value.errors)
    assert await _processor_rows(service) == []


async def test_lifecycle_on_replacement_and_delete(
    service: XdsService, system: Caller, admin: Caller
) -> None:
    processor = MarkerProcessor()
    service.add_processor(processor)
    first = await provide(service, system, b.submission(), {"Document01": MARKER + b"one"})
    original = first.mapping["Document01"]
    rplc = b.relation(AssociationType.RPLC, "Document01", original, "Rplc01")
    second = await provide(service, system, b.submission(extra=(rplc,)), {"Document01": MARKER + b"two"})
    assert processor.deprecated == [original]
    assert processor.replaced == {original: second.mapping["Document01"]}
    ids = second.mapping
    await service.delete(
        admin,
        RemoveObjectsRequest((ids["Document01"], ids["SSMember01"], ids["Rplc01"], ids["SubmissionSet01"])),
    )
    assert processor.deprecated == [original, ids["Document01"]]


async def test_submit_document_derives_metadata(service: XdsService, system: Caller) -> None:
    with pytest.raises(XdsError) as caught:
        await service.submit_document(system, b"<plain/>", "text/xml")
    assert caught.value.errors[0].error_code is XdsErrorCode.XDS_MISSING_DOCUMENT_METADATA
    service.add_processor(MarkerProcessor())
    result = await service.submit_document(system, MARKER + b"<doc/>", "text/xml")
    entry = result.objects.document_entries[0]
    assert entry.size == len(MARKER + b"<doc/>") and result.objects.submission_sets[0].source_id
    assert len(await _processor_rows(service)) == 1
