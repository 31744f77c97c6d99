"""Document processors: content-aware work a submission does besides registering metadata.

A :class:`DocumentProcessor` looks at one submitted document (ITI-41 Provide and Register, ITI TF-2b 3.41,
or FHIR ``$submit-document``), checks it and derives what the hub keeps from its content - for a MedCom
PHMR document (HL7 CDA R2 PHMR, MedCom DK profile) the FHIR Observations of its measurements.  The
submission runs in three phases so the database transaction stays short:

1. :meth:`DocumentProcessor.process` - CPU work before the transaction (parse, validate, extract); its
   error-severity findings reject the whole submission (all-or-nothing);
2. :meth:`DocumentProcessor.persist_txn` - inside the ONE submission transaction, with the final
   DocumentEntry (entryUUID, uniqueId, hash, size assigned);
3. :meth:`DocumentProcessor.lifecycle_txn` - inside any transaction that deprecates entries (RPLC,
   ITI-57 status change, ITI-62 delete), so derived data follows the document's life.

The :class:`ProcessorRegistry` is ordered: the first processor that accepts a document processes it; a
document no processor accepts is stored without processing.  The default registry is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.engines import StorageEngine
from security import Principal
from xds.errors import RegistryError
from xds.model import DocumentEntry, SubmissionSet

__all__ = [
    "DocumentProcessor",
    "ProcessedDocument",
    "ProcessorRegistry",
    "SubmissionContext",
    "SubmittedDocument",
]


@dataclass(frozen=True, slots=True)
class SubmittedDocument:
    """One document of an ITI-41 / ``$submit-document`` submission, as given to processors.

    ``document_id`` is the DocumentEntry id (symbolic id or urn:uuid) the document belongs to.  Large
    non-CDA documents are never read into memory for processors: only documents no larger than the
    processing limit are offered.
    """

    document_id: str
    mime_type: str
    data: bytes
    entry: DocumentEntry | None  # the submitted metadata; None when only the document was sent


@dataclass(frozen=True, slots=True)
class ProcessedDocument:
    """What :meth:`DocumentProcessor.process` found and derived."""

    errors: tuple[RegistryError, ...]  # any error-severity finding rejects the whole submission
    warnings: tuple[RegistryError, ...]
    derived_entry: DocumentEntry | None  # metadata derived from the document (used when none was submitted)
    payload: object = None  # whatever persist_txn needs (e.g. extracted Observations)


@dataclass(frozen=True, slots=True)
class SubmissionContext:
    """Facts about the running submission that processors may need inside the transaction.

    ``engine`` gives the storage engine for ``hub.storage`` ``*_txn`` functions; ``transaction`` is the
    IHE transaction or FHIR operation name (``"ITI-41"``, ``"$submit-document"``); ``now_us`` is the
    submission time (epoch microseconds) shared by every row the submission writes.
    """

    engine: StorageEngine
    principal: Principal
    transaction: str
    now_us: int
    submission_set: SubmissionSet | None = None


@runtime_checkable
class DocumentProcessor(Protocol):
    """Content-aware processing of one kind of document (see the module docstring for the phases)."""

    name: str

    def accepts(self, document: SubmittedDocument) -> bool:
        """Whether this processor handles ``document`` (cheap: mime type, a peek at the root element)."""
        ...

    def process(self, document: SubmittedDocument) -> ProcessedDocument:
        """CPU work before the transaction: validate and extract.  Must not touch the database."""
        ...

    async def persist_txn(
        self,
        conn: AsyncConnection,
        processed: ProcessedDocument,
        entry: DocumentEntry,
        ctx: SubmissionContext,
    ) -> None:
        """Write derived data inside the submission transaction; ``entry`` is final."""
        ...

    async def lifecycle_txn(
        self,
        conn: AsyncConnection,
        deprecated: Sequence[DocumentEntry],
        replaced_by: Mapping[str, DocumentEntry],
    ) -> None:
        """Follow deprecation/deletion of entries (``replaced_by`` maps an old entryUUID to its RPLC)."""
        ...


@dataclass(frozen=True, slots=True)
class ProcessorRegistry:
    """The configured processors, in order of preference (first that accepts wins)."""

    processors: tuple[DocumentProcessor, ...] = field(default=())

    @classmethod
    def of(cls, processors: Iterable[DocumentProcessor]) -> ProcessorRegistry:
        return cls(tuple(processors))

    def with_processor(self, processor: DocumentProcessor) -> ProcessorRegistry:
        """A registry with ``processor`` appended (lowest preference)."""
        return ProcessorRegistry((*self.processors, processor))

    def __iter__(self) -> Iterator[DocumentProcessor]:
        return iter(self.processors)

    def __len__(self) -> int:
        return len(self.processors)

    def processor_for(self, document: SubmittedDocument) -> DocumentProcessor | None:
        """The first processor accepting ``document``, or None (the document is stored unprocessed)."""
        for processor in self.processors:
            if processor.accepts(document):
                return processor
        return None

    def process(self, document: SubmittedDocument) -> tuple[DocumentProcessor, ProcessedDocument] | None:
        """Run the accepting processor's CPU phase; None when no processor accepts the document."""
        processor = self.processor_for(document)
        if processor is None:
            return None
        return processor, processor.process(document)

    async def lifecycle_txn(
        self,
        conn: AsyncConnection,
        deprecated: Sequence[DocumentEntry],
        replaced_by: Mapping[str, DocumentEntry],
    ) -> None:
        """Tell every processor about deprecated/deleted entries (each decides whether they are its own)."""
        if not deprecated:
            return
        for processor in self.processors:
            await processor.lifecycle_txn(conn, deprecated, replaced_by)
