"""ITI-41 Provide and Register Document Set-b at the repository (IHE ITI TF-2b 3.41.4.1.3).

Order of work, so the database transaction stays short and a failure stores nothing visible:

1. authorise the submission (``security`` SUBMIT_DOCUMENTS for every patient in it);
2. measure every document (size, SHA-1 and SHA-256 were computed while the MIME part streamed in) and run
   the document processors' CPU phase (PHMR: validate, derive and cross-check metadata, extract
   Observations) - any error rejects the whole submission;
3. apply the repository rules (missing document / metadata, hash and size, repositoryUniqueId, size limit)
   and complete each DocumentEntry with hash, size and repositoryUniqueId;
4. write the bytes to the content-addressed blob store (an orphan blob after a later failure is harmless,
   see ``hub.storage.blob_store``);
5. ONE write transaction: registry rules and objects, repository rows, processor writes, audit.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.core.errors import HubError
from security import Action, AuditAction
from xds.errors import RegistryError, XdsError
from xds.messages import ProvideAndRegisterRequest
from xds.model import DocumentEntry, RegistryObjectList
from xds.mtom import MimePart
from xds.registry_rules import SubmittedDocument as MeasuredDocument
from xds.registry_rules import check_provide_and_register, with_repository_attributes
from xds.services.processing import ProcessorRegistry, SubmittedDocument
from xds.services.register import failure_facts, submission_patients, submit
from xds.services.runtime import MAX_PROCESSED_BYTES, Caller, XdsRuntime
from xds.services.submission import (
    ProcessedItem,
    StoredDocument,
    SubmissionKind,
    SubmissionPlan,
    SubmissionResult,
    error_summary,
)

DEFAULT_MIME_TYPE = "application/octet-stream"


def run_processors(
    processors: ProcessorRegistry,
    objects: RegistryObjectList,
    documents: Mapping[str, MimePart],
) -> tuple[list[ProcessedItem], list[RegistryError]]:
    """The CPU phase of every accepting processor (documents above the processing limit are skipped)."""
    if not len(processors):
        return [], []
    entries: dict[str, DocumentEntry] = {e.entry_uuid: e for e in objects.document_entries}
    items: list[ProcessedItem] = []
    findings: list[RegistryError] = []
    for document_id, part in documents.items():
        if part.size > MAX_PROCESSED_BYTES:
            continue
        entry = entries.get(document_id)
        mime = (entry.mime_type if entry else None) or part.content_type
        document = SubmittedDocument(document_id, mime, part.read_bytes(), entry)
        outcome = processors.process(document)
        if outcome is None:
            continue
        processor, processed = outcome
        findings.extend((*processed.errors, *processed.warnings))
        items.append(ProcessedItem(document_id, processor, processed))
    return items, findings


async def provide_and_register(
    rt: XdsRuntime,
    caller: Caller,
    request: ProvideAndRegisterRequest,
    *,
    processed_already: tuple[list[ProcessedItem], list[RegistryError]] | None = None,
    action: AuditAction = AuditAction.ITI_41,
) -> SubmissionResult:
    """Store and register one ITI-41 submission; XdsError (Failure response) when anything is wrong.

    ``processed_already`` carries the processors' results when the caller ran them (``$submit-document``
    derives its metadata that way), so no document is processed twice.
    """
    objects = request.submit.objects
    decision = rt.authorize(caller, Action.SUBMIT_DOCUMENTS, action, submission_patients(objects))
    try:
        measured = {
            doc_id: MeasuredDocument(part.size, part.sha1) for doc_id, part in request.documents.items()
        }
        processed, findings = processed_already or run_processors(rt.processors, objects, request.documents)
        findings = list(findings)
        findings.extend(check_provide_and_register(objects, measured, rt.options))
        if any(f.is_error for f in findings):
            raise XdsError(f"the documents or metadata were rejected: {error_summary(findings)}", findings)
        repository_id = rt.options.repository_unique_id
        completed = with_repository_attributes(objects, measured, repository_unique_id=repository_id)
        entries = {e.entry_uuid: e for e in completed.document_entries}
        stored: list[StoredDocument] = []
        for doc_id, part in request.documents.items():
            info = await rt.blobs.put(part.open())
            mime = entries[doc_id].mime_type or DEFAULT_MIME_TYPE
            stored.append(StoredDocument(doc_id, mime, info.sha1, info.sha256, info.size))
        plan = SubmissionPlan(
            kind=SubmissionKind.REGISTER,
            objects=completed,
            documents=tuple(stored),
            processed=tuple(processed),
            findings=tuple(findings),
            repository_unique_id=repository_id,
        )
        return await submit(rt, caller, plan, action, "xds_provide_and_register", decision.reason)
    except HubError as exc:
        rt.record(caller, failure_facts(action, objects, decision.reason, exc))
        raise
