"""MHD ITI-68 Retrieve Document (IHE MHD 2.3.68): the bytes behind a DocumentReference's ``attachment.url``.

The DocumentReference view of the registry (xds.phmr.document_reference) names ``[base]/Binary/<id>`` for
each entry, ``<id>`` being its entryUUID without ``urn:uuid:``.  Retrieving it is ITI-43 for one document
reached by entryUUID instead of uniqueId: the same authorisation (``retrieve-document``), the same Danish
negative consent and citizen scope decided INSIDE the repository query, and an ITI-68 audit record that the
citizen's access log lists.  An unknown entry, a Folder's or SubmissionSet's id, and a document the caller may
not see are the same "not found", so nothing is disclosed about what was withheld.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import HubError, NotFoundError, StorageError
from hub.core.registry_query import RepositoryDocument
from hub.storage import BlobStore, ConsentBlock, objects_by_uuid_txn, repository_documents_txn
from security import Action, AuditAction, AuditOutcome
from xds.model import DocumentEntry
from xds.services.audit_records import AuditFacts
from xds.services.registry_rows import decode
from xds.services.retrieve import missing_bytes
from xds.services.runtime import Caller, XdsRuntime

URN_UUID = "urn:uuid:"


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EntryDocument:
    """A document to stream: its media type, size and SHA-1 (as in its DocumentEntry), and where its bytes
    are (:meth:`open` reads them)."""

    entry_id: str
    unique_id: str
    mime_type: str
    size: int
    sha1: str
    sha256: str
    blobs: BlobStore

    def open(self) -> Iterator[bytes]:
        """The document's chunks (opens the file: call it only to send them); bytes that vanished since the
        lookup are a StorageError naming the damage."""
        try:
            return self.blobs.chunks(self.sha256)
        except NotFoundError as exc:
            raise StorageError(missing_bytes(self.unique_id), message_id="TH-XDS-BLOB-MISSING") from exc


async def _document_of_entry_txn(
    conn: AsyncConnection, entry_uuid: str, consent: ConsentBlock | None, patient_key: str | None
) -> RepositoryDocument | None:
    entry = next(
        (o for o in decode(await objects_by_uuid_txn(conn, [entry_uuid])) if isinstance(o, DocumentEntry)),
        None,
    )
    if entry is None or not entry.unique_id:
        return None
    found = await repository_documents_txn(conn, [entry.unique_id], consent=consent, patient_key=patient_key)
    return found.get(entry.unique_id)


async def retrieve_entry_document(
    rt: XdsRuntime, caller: Caller, entry_id: str, negotiate: Callable[[EntryDocument], T]
) -> tuple[EntryDocument, T]:
    """The document of the DocumentEntry ``urn:uuid:<entry_id>`` and what ``negotiate`` (the door's content
    negotiation) chose for it; NotFoundError when there is none to show.

    ``negotiate`` runs before the release is audited and may refuse by raising: a refused document is audited
    as a failure, not as released."""
    decision = rt.authorize(caller, Action.RETRIEVE_DOCUMENT, AuditAction.ITI_68)
    stored = await rt.db.run(
        "mhd_retrieve",
        _document_of_entry_txn,
        URN_UUID + entry_id.lower(),
        rt.consent(caller),
        decision.patient_scope,
    )
    if stored is None:
        rt.record(
            caller, AuditFacts(AuditAction.ITI_68, AuditOutcome.MINOR_FAILURE, detail=f"Binary/{entry_id}")
        )
        raise NotFoundError(f"Binary/{entry_id} is not known", message_id="TH-REST-NOT-FOUND")
    if not rt.blobs.exists(stored.sha256):
        detail = missing_bytes(stored.unique_id)
        rt.record(caller, AuditFacts(AuditAction.ITI_68, AuditOutcome.SERIOUS_FAILURE, detail=detail))
        raise StorageError(detail, message_id="TH-XDS-BLOB-MISSING")
    document = EntryDocument(
        entry_id=entry_id,
        unique_id=stored.unique_id,
        mime_type=stored.mime_type,
        size=stored.size,
        sha1=stored.sha1,
        sha256=stored.sha256,
        blobs=rt.blobs,
    )
    keys = (stored.patient_key,) if stored.patient_key else ()
    try:
        chosen = negotiate(document)
    except HubError as refused:
        facts = AuditFacts(AuditAction.ITI_68, AuditOutcome.MINOR_FAILURE, patient_keys=keys)
        rt.record(caller, dataclasses.replace(facts, detail=refused.message))
        raise
    await rt.release(
        caller,
        AuditFacts(
            AuditAction.ITI_68,
            AuditOutcome.SUCCESS,
            patient_keys=keys,
            documents=(stored.unique_id,),
            decision_reason=decision.reason,
            override=decision.override,
        ),
    )
    return document, chosen


__all__ = ["EntryDocument", "retrieve_entry_document"]
