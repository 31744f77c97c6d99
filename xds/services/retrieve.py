"""ITI-43 Retrieve Document Set at the repository (IHE ITI TF-2b 3.43.4.1.3).

Every DocumentRequest names a repositoryUniqueId and a document uniqueId.  A request for another
repository gets XDSUnknownRepositoryId; an unknown uniqueId - or one the requester may not see (Danish
negative consent, or a citizen asking for another CPR's document, both decided INSIDE the query) - gets
XDSDocumentUniqueIdError, never a hint of what was withheld.  The response status is Success, PartialSuccess
(some found) or Failure (none found).  Documents are streamed from the blob store into the MTOM response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from hub.storage import repository_documents_txn
from security import Action, AuditAction, AuditOutcome
from xds.errors import RegistryError, XdsErrorCode
from xds.messages import DocumentRequest
from xds.mtom_write import Attachment, new_content_id
from xds.responses import RetrievedDocument
from xds.services.audit_records import AuditFacts
from xds.services.runtime import Caller, XdsRuntime


@dataclass(frozen=True, slots=True)
class RetrieveResult:
    documents: tuple[RetrievedDocument, ...]
    errors: tuple[RegistryError, ...]


def missing_bytes(unique_id: str) -> str:
    """Why a registered document cannot be served: its row commits only after its bytes are stored, so this
    is damage to the blob store (a deleted file), named as such."""
    return f"the bytes of document {unique_id} are missing from the repository store"


def _source(rt: XdsRuntime, sha256: str) -> Callable[[], Iterator[bytes]]:
    return lambda: rt.blobs.chunks(sha256)


async def retrieve(rt: XdsRuntime, caller: Caller, requests: Sequence[DocumentRequest]) -> RetrieveResult:
    decision = rt.authorize(caller, Action.RETRIEVE_DOCUMENT, AuditAction.ITI_43)
    repository_id = rt.settings.xds.repository_unique_id
    home = rt.settings.xds.home_community_id
    errors: list[RegistryError] = []
    wanted: list[DocumentRequest] = []
    for request in requests:
        if request.repository_unique_id != repository_id:
            errors.append(
                RegistryError(
                    XdsErrorCode.XDS_UNKNOWN_REPOSITORY_ID,
                    f"repository {request.repository_unique_id} is not this repository ({repository_id})",
                    request.repository_unique_id,
                )
            )
        else:
            wanted.append(request)
    found = await rt.db.run(
        "xds_retrieve",
        repository_documents_txn,
        [r.document_unique_id for r in wanted],
        consent=rt.consent(caller),
        patient_key=decision.patient_scope,
    )
    documents: list[RetrievedDocument] = []
    for request in wanted:
        stored = found.get(request.document_unique_id)
        if stored is not None and not rt.blobs.exists(stored.sha256):
            errors.append(
                RegistryError(
                    XdsErrorCode.XDS_REPOSITORY_ERROR, missing_bytes(stored.unique_id), stored.unique_id
                )
            )
            continue
        if stored is None:
            errors.append(
                RegistryError(
                    XdsErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR,
                    f"document {request.document_unique_id} is not available in this repository",
                    request.document_unique_id,
                )
            )
            continue
        attachment = Attachment(
            new_content_id("doc"), stored.mime_type, _source(rt, stored.sha256), stored.size
        )
        documents.append(
            RetrievedDocument(
                repository_unique_id=repository_id,
                document_unique_id=stored.unique_id,
                mime_type=stored.mime_type,
                attachment=attachment,
                home_community_id=home if request.home_community_id else None,
            )
        )
    outcome = AuditOutcome.SUCCESS if documents or not errors else AuditOutcome.SERIOUS_FAILURE
    patients = tuple(d.patient_key for d in found.values() if d.patient_key)
    await rt.release(
        caller,
        AuditFacts(
            AuditAction.ITI_43,
            outcome,
            patient_keys=patients,
            documents=tuple(d.document_unique_id for d in documents),
            decision_reason=decision.reason,
            override=decision.override,
            detail="; ".join(e.code_context for e in errors) or None,
        ),
    )
    return RetrieveResult(tuple(documents), tuple(errors))
