"""Registry rows and query filters shared by the XDS services (which build them) and storage (which runs SQL).

The XDS registry (IHE ITI TF-3 4.1 metadata, ITI TF-2a 3.18 stored queries) is stored in native tables
(``hub.storage.schema``, revision 0003).  Storage sits below ``xds`` in the layering, so it cannot see the
XDS model: these plain values are the contract.  ``xds.services`` turns model objects into
:class:`EntryRow` & co (with the registry form ebRIM bytes kept whole for lossless responses) and stored
query specs into :class:`EntryFilter` & co.

Conventions: status values are the last segment of the ebRIM status URN (``Approved``, ``Deprecated``),
object types ``stable`` / ``on-demand``; times are DTM start keys (:func:`xds.dtm.dtm_start_key`,
``YYYYMMDDhhmmss`` as an integer); codes are ``(code, codingScheme)`` pairs; ``patient_key`` is the CPR
(or the canonical CX string for other assigning authorities).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

Codes = tuple[tuple[str, str], ...]


class ObjectKind(enum.Enum):
    """The four kinds of registry object (ITI TF-3 4.1.1)."""

    DOCUMENT_ENTRY = "document-entry"
    SUBMISSION_SET = "submission-set"
    FOLDER = "folder"
    ASSOCIATION = "association"


class EntryCodeField(enum.Enum):
    """Single-valued DocumentEntry codes, each an indexed column pair (code, scheme)."""

    CLASS = "class"
    TYPE = "type"
    FORMAT = "format"
    FACILITY = "facility"
    PRACTICE = "practice"


class EntryCodeList(enum.Enum):
    """Multi-valued DocumentEntry codes, rows of the entry code table."""

    EVENT = "event"
    CONFIDENTIALITY = "confidentiality"


# ------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class ObjectHeader:
    """What every stored registry object has: identity, version, status, patient and its ebRIM bytes."""

    entry_uuid: str
    logical_id: str
    version: int
    status: str
    patient_key: str | None
    ebrim: bytes  # the object's registry-form ebRIM 3.0 XML, as it is returned by queries
    updated_us: int | None = None  # when the stored object last changed (read back; writes stamp their own)


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One DocumentEntry to insert."""

    header: ObjectHeader
    unique_id: str
    object_type: str
    codes: tuple[tuple[EntryCodeField, str, str], ...] = ()
    code_lists: tuple[tuple[EntryCodeList, str, str], ...] = ()
    creation_key: int | None = None
    service_start_key: int | None = None
    service_stop_key: int | None = None
    mime_type: str | None = None
    hash: str | None = None
    size: int | None = None
    repository_unique_id: str | None = None
    authors: tuple[str, ...] = ()
    reference_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubmissionSetRow:
    header: ObjectHeader
    unique_id: str
    source_id: str | None = None
    submission_key: int | None = None
    content_type: tuple[str, str] | None = None
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FolderRow:
    header: ObjectHeader
    unique_id: str
    last_update_key: int | None = None
    codes: Codes = ()


@dataclass(frozen=True, slots=True)
class AssociationRow:
    header: ObjectHeader
    association_type: str  # the full type URN
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class RegistryWrite:
    """Every new object of one accepted submission."""

    entries: tuple[EntryRow, ...] = ()
    submission_sets: tuple[SubmissionSetRow, ...] = ()
    folders: tuple[FolderRow, ...] = ()
    associations: tuple[AssociationRow, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectUpdate:
    """A change to a registered object: new status and/or rewritten ebRIM, latest flag, folder time."""

    kind: ObjectKind
    entry_uuid: str
    status: str | None = None
    ebrim: bytes | None = None
    latest: bool | None = None
    last_update_key: int | None = None


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A registry object read back: kind, header, and for associations their ends and type."""

    kind: ObjectKind
    header: ObjectHeader
    unique_id: str | None = None
    association_type: str | None = None
    source: str | None = None
    target: str | None = None

    @property
    def entry_uuid(self) -> str:
        return self.header.entry_uuid


@dataclass(frozen=True, slots=True)
class RepositoryDocument:
    """A document held by the repository (ITI-41 stored it; ITI-43 retrieves it).  ``sha256`` is the
    content address of its bytes in the blob store."""

    unique_id: str
    repository_unique_id: str
    mime_type: str
    sha1: str
    sha256: str
    size: int
    patient_key: str | None
    stored_us: int


# ------------------------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class CodeCondition:
    """AND over ``groups`` (one per repeated stored-query parameter), OR within a group."""

    groups: tuple[Codes, ...]


@dataclass(frozen=True, slots=True)
class KeyRange:
    """``low`` <= key < ``high`` (either bound may be absent); a NULL key never matches."""

    low: int | None = None
    high: int | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """Objects named by entryUUID, uniqueId or logicalId (any non-empty tuple restricts, OR-combined)."""

    entry_uuids: tuple[str, ...] = ()
    unique_ids: tuple[str, ...] = ()
    logical_ids: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.entry_uuids or self.unique_ids or self.logical_ids)


@dataclass(frozen=True, slots=True)
class NameCondition:
    """MHD's author/source name search on the authorPerson: its ``family`` name, or any of its ``given``
    names, starts with one of ``prefixes`` (OR), all in FHIR string-search form (casefolded, no accents)."""

    part: str  # "family" | "given"
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReferenceKey:
    """MHD's ``related:identifier`` on the referenceIdList: a CXi whose CX.1 is ``value`` (None: any) and
    whose CX.4 universal id is ``authority`` (None: any; "": the CXi names none)."""

    value: str | None
    authority: str | None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """DocumentEntries to find (FindDocuments and the DocumentEntry half of the Get* queries)."""

    patient_key: str | None = None
    statuses: tuple[str, ...] = ()
    object_types: tuple[str, ...] = ()
    codes: tuple[tuple[EntryCodeField, CodeCondition], ...] = ()
    code_lists: tuple[tuple[EntryCodeList, CodeCondition], ...] = ()
    creation: KeyRange | None = None
    service_start: KeyRange | None = None
    service_stop: KeyRange | None = None
    author_patterns: tuple[str, ...] = ()  # SQL LIKE (case-sensitive), OR
    author_names: tuple[NameCondition, ...] = ()  # AND
    reference_ids: tuple[tuple[str, ...], ...] = ()  # AND of OR
    reference_keys: tuple[tuple[ReferenceKey, ...], ...] = ()  # AND of OR (MHD related)
    selection: Selection | None = None
    latest_only: bool = False
    updated: KeyRange | None = None  # when the object last changed, epoch µs (MHD ``_lastUpdated``)


@dataclass(frozen=True, slots=True)
class SubmissionSetFilter:
    patient_key: str | None = None
    statuses: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    submission_time: KeyRange | None = None
    author_patterns: tuple[str, ...] = ()
    author_names: tuple[NameCondition, ...] = ()  # AND
    content_types: CodeCondition | None = None
    selection: Selection | None = None
    latest_only: bool = False
    updated: KeyRange | None = None  # when the object last changed, epoch µs (MHD ``_lastUpdated``)


@dataclass(frozen=True, slots=True)
class FolderFilter:
    patient_key: str | None = None
    statuses: tuple[str, ...] = ()
    last_update: KeyRange | None = None
    codes: CodeCondition | None = None
    selection: Selection | None = None
    latest_only: bool = False
    updated: KeyRange | None = None  # when the object last changed, epoch µs (MHD ``_lastUpdated``)


@dataclass(frozen=True, slots=True)
class AssociationFilter:
    """Associations with ``source`` or ``target`` among ``ends`` (or both ends among them, with
    ``both_ends``), of the given types and statuses (empty tuple: any)."""

    ends: tuple[str, ...]
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    both_ends: bool = False
    sources_only: bool = False
    targets_only: bool = False
    patient_key: str | None = None  # a citizen's scope: associations of other patients stay hidden
