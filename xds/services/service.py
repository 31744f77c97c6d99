"""The XDS.b registry + repository service: one object the doors call for every transaction.

IHE ITI TF-2b 3.41 (Provide and Register), 3.42 (Register), 3.43 (Retrieve), 3.57 (Update), 3.62 (Delete);
ITI TF-2a 3.18 (Registry Stored Query).  Registry and repository run in one process over one database
(``Settings.xds`` names their ids).  Built once in the composition root (``hub.app``) from Settings; the
document processors (e.g. PHMR -> Observations) are given at construction or added with
:meth:`XdsService.add_processor` before serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from hub.core.errors import AuthenticationError
from hub.core.settings import ReadAudit, Settings
from hub.fhir import AuditWriter
from hub.storage import BlobStore, Database, FileBlobStore, claim_replay_key_txn
from security import AuditAction, AuditOutcome, Authenticator, Principal, ReplayClaim
from xds.messages import DocumentRequest, ProvideAndRegisterRequest, RemoveObjectsRequest
from xds.model import DocumentEntry, SubmitObjectsRequest
from xds.services.audit_records import AuditFacts, audit_rows
from xds.services.delete import DeleteResult, delete
from xds.services.document_retrieve import EntryDocument, retrieve_entry_document
from xds.services.processing import DocumentProcessor, ProcessorRegistry
from xds.services.provide_and_register import provide_and_register
from xds.services.register import register
from xds.services.retrieve import RetrieveResult, retrieve
from xds.services.runtime import Caller, XdsRuntime
from xds.services.stored_query import QueryAnswer, stored_query
from xds.services.submission import SubmissionResult
from xds.services.submit_document import submit_document
from xds.services.update import update
from xds.stored_queries import StoredQueryRequest

T = TypeVar("T")
_REPLAY_PURGE_SECONDS = 60.0  # how often a worker deletes expired replay_guard rows


class XdsService:
    """Registry and repository transactions over storage, with authorisation, consent and audit."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        authenticator: Authenticator | None = None,
        blobs: BlobStore | None = None,
        processors: ProcessorRegistry | None = None,
        audit: AuditWriter | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.authenticator = authenticator or Authenticator(settings)
        self.runtime = XdsRuntime(
            db=db,
            blobs=blobs or FileBlobStore(settings.blob_dir),
            settings=settings,
            processors=processors or ProcessorRegistry(),
            audit=audit or AuditWriter(db, durable=settings.security.read_audit is ReadAudit.DURABLE),
        )
        self._replay_purged = 0.0

    @property
    def processors(self) -> ProcessorRegistry:
        return self.runtime.processors

    def add_processor(self, processor: DocumentProcessor) -> None:
        """Append a document processor (lowest preference); call before serving requests."""
        self.runtime.processors = self.runtime.processors.with_processor(processor)

    @staticmethod
    def caller(principal: Principal, client_address: str = "") -> Caller:
        return Caller(principal, client_address)

    async def provide_and_register(
        self, caller: Caller, request: ProvideAndRegisterRequest
    ) -> SubmissionResult:
        """ITI-41: store the documents and register their metadata (all or nothing)."""
        return await provide_and_register(self.runtime, caller, request)

    async def register(self, caller: Caller, request: SubmitObjectsRequest) -> SubmissionResult:
        """ITI-42: register metadata."""
        return await register(self.runtime, caller, request)

    async def update(self, caller: Caller, request: SubmitObjectsRequest) -> SubmissionResult:
        """ITI-57: metadata update (new versions, status changes, new associations)."""
        return await update(self.runtime, caller, request)

    async def delete(self, caller: Caller, request: RemoveObjectsRequest) -> DeleteResult:
        """ITI-62: delete registry objects."""
        return await delete(self.runtime, caller, request)

    async def stored_query(self, caller: Caller, request: StoredQueryRequest) -> QueryAnswer:
        """ITI-18: run a stored query."""
        return await stored_query(self.runtime, caller, request)

    async def retrieve(self, caller: Caller, requests: Sequence[DocumentRequest]) -> RetrieveResult:
        """ITI-43: the requested documents (streamed from the blob store) and per-document errors."""
        return await retrieve(self.runtime, caller, requests)

    async def retrieve_entry_document(
        self, caller: Caller, entry_id: str, negotiate: Callable[[EntryDocument], T]
    ) -> tuple[EntryDocument, T]:
        """MHD ITI-68: the document of DocumentEntry ``urn:uuid:<entry_id>`` (NotFoundError if not shown) and
        what ``negotiate`` chose for it; ``negotiate`` may refuse before the release is audited."""
        return await retrieve_entry_document(self.runtime, caller, entry_id, negotiate)

    async def submit_document(
        self, caller: Caller, data: bytes, mime_type: str, *, entry: DocumentEntry | None = None
    ) -> SubmissionResult:
        """A document without (or with) metadata: processors derive it, then the ITI-41 pipeline runs."""
        return await submit_document(self.runtime, caller, data, mime_type, entry=entry)

    async def claim_replay(self, claim: ReplayClaim) -> None:
        """Claim an ID card's replay key in the database (all workers, across restarts): a second use of the
        same card (scope ``card``) or message (scope ``message``) before it expires is refused."""
        now = time.time()
        purge = now - self._replay_purged >= _REPLAY_PURGE_SECONDS
        if purge:
            self._replay_purged = now
        claimed = await self.db.run_write(
            "replay-claim",
            claim_replay_key_txn,
            claim.key_hash,
            expires_us=int(claim.expires_at.timestamp() * 1_000_000),
            now_us=int(now * 1_000_000),
            purge=purge,
        )
        if not claimed:
            raise AuthenticationError(
                "ID card already used (replay refused: seen by another worker or before a restart)"
            )

    def record_login_failure(self, detail: str, client_address: str = "") -> None:
        """Audit a refused credential (no Principal exists for it)."""
        facts = AuditFacts(AuditAction.LOGIN_FAILURE, AuditOutcome.MINOR_FAILURE, detail=detail)
        self.runtime.audit.submit(audit_rows(None, facts, client_address=client_address))

    async def close(self) -> None:
        """Flush queued audit records (call on shutdown, before closing the database)."""
        await self.runtime.audit.close()
