"""The XDS metadata model: DocumentEntry, SubmissionSet, Folder, Association and their parts.

IHE ITI TF-3 4.1 (metadata model) and 4.2 (ebRIM representation): every attribute of Tables
4.2.3.2-1 (DocumentEntry), 4.2.3.3-1 (SubmissionSet) and 4.2.3.4-1 (Folder) is a typed field here.
The model is framework-free and lossless with respect to ebRIM 3.0: everything the typed fields do not
cover (unknown slots, classifications, external identifiers, localized names with ``lang``/``charset``)
is kept in the ``extra_*`` fields so ``ebrim_write(ebrim_parse(x))`` parses back to an equal value.

Conventions:

- ``entry_uuid`` is the ebRIM ``id``: a ``urn:uuid:…`` or, inside a submission, a symbolic id.
- Times are DTM strings exactly as submitted (see :mod:`xds.dtm` for comparisons).
- HL7 v2 values of authors, legalAuthenticator and referenceIdList are kept as the submitted strings;
  :mod:`xds.hl7v2` parses and formats their components.  Patient ids are parsed :class:`CX` values.
- Required-ness is not enforced here (fields are optional); :mod:`xds.registry_rules` reports what is
  missing with the right XDS error code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from xds.codes import AssociationType, AvailabilityStatus, DocumentEntryType, SubmissionSetStatus
from xds.hl7v2 import CX

__all__ = [
    "CX",
    "Association",
    "AssociationType",
    "Author",
    "AvailabilityStatus",
    "Classification",
    "Code",
    "DocumentEntry",
    "DocumentEntryType",
    "ExternalIdentifier",
    "Folder",
    "InternationalString",
    "LocalizedString",
    "ObjectRef",
    "RegistryObject",
    "RegistryObjectList",
    "Slot",
    "SubmissionSet",
    "SubmissionSetStatus",
    "SubmitObjectsRequest",
]


@dataclass(frozen=True, slots=True)
class LocalizedString:
    """ebRIM 3.0 ``LocalizedString`` (``xml:lang`` and ``charset`` kept when given)."""

    value: str
    lang: str | None = None
    charset: str | None = None


@dataclass(frozen=True, slots=True)
class InternationalString:
    """ebRIM 3.0 ``InternationalString``: the ``Name`` / ``Description`` of an object."""

    strings: tuple[LocalizedString, ...] = ()

    @classmethod
    def of(cls, value: str, lang: str | None = None) -> InternationalString:
        return cls((LocalizedString(value, lang),))

    @property
    def text(self) -> str | None:
        """The first localized value (XDS puts exactly one), or None when empty."""
        return self.strings[0].value if self.strings else None


@dataclass(frozen=True, slots=True)
class Slot:
    """ebRIM 3.0 ``Slot``: a name with an ordered list of string values."""

    name: str
    values: tuple[str, ...] = ()
    slot_type: str | None = None


@dataclass(frozen=True, slots=True)
class Code:
    """A coded value: ``nodeRepresentation`` (code), slot ``codingScheme`` (scheme), ``Name`` (display).

    ITI TF-3 4.2.3.1.2.  ``id`` and any extra slots of the carrying Classification are kept for
    losslessness; two codes are the same concept when their :attr:`key` is equal.
    """

    code: str
    scheme: str | None
    display: InternationalString | None = None
    id: str | None = None
    extra_slots: tuple[Slot, ...] = ()

    @classmethod
    def of(cls, code: str, scheme: str, display: str | None = None) -> Code:
        return cls(code, scheme, InternationalString.of(display) if display is not None else None)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.code, self.scheme)

    @property
    def display_text(self) -> str | None:
        return self.display.text if self.display else None


@dataclass(frozen=True, slots=True)
class Author:
    """One author Classification (ITI TF-3 4.2.3.1.4): person (XCN), institutions (XON), roles,
    specialties and telecoms (XTN), each the submitted HL7 v2 string."""

    person: str | None = None
    institutions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    telecoms: tuple[str, ...] = ()
    id: str | None = None
    extra_slots: tuple[Slot, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    """A Classification the typed fields do not cover (kept verbatim)."""

    classification_scheme: str | None = None
    classification_node: str | None = None
    node_representation: str | None = None
    classified_object: str | None = None
    id: str | None = None
    name: InternationalString | None = None
    description: InternationalString | None = None
    slots: tuple[Slot, ...] = ()


@dataclass(frozen=True, slots=True)
class ExternalIdentifier:
    """An ExternalIdentifier the typed fields do not cover (kept verbatim)."""

    identification_scheme: str
    value: str
    registry_object: str | None = None
    id: str | None = None
    name: InternationalString | None = None
    description: InternationalString | None = None
    slots: tuple[Slot, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """ebRIM 3.0 ``ObjectRef``: a reference to an object that is not in the message."""

    id: str
    home: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryObject:
    """Attributes every ebRIM 3.0 RegistryObject carries (ebRIM 3.0 §2.5, ITI TF-3 4.2.3.1)."""

    entry_uuid: str
    logical_id: str | None = None  # lid (ITI TF-3 4.2.3.2.13, metadata update ITI-57)
    version: str | None = None  # VersionInfo/@versionName
    version_comment: str | None = None  # VersionInfo/@comment
    home_community_id: str | None = None  # @home
    availability_status: AvailabilityStatus | None = None  # @status
    extra_slots: tuple[Slot, ...] = ()
    extra_classifications: tuple[Classification, ...] = ()
    extra_external_identifiers: tuple[ExternalIdentifier, ...] = ()
    # ids of the ExternalIdentifiers behind typed fields (uniqueId, patientId, sourceId), keyed by
    # identificationScheme, so a round trip keeps them; None-id identifiers are simply absent.
    identifier_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentEntry(RegistryObject):
    """XDSDocumentEntry: an ``ExtrinsicObject`` (ITI TF-3 4.2.3.2, Table 4.2.3.2-1).

    ``title`` is ``Name``, ``comments`` is ``Description``.  ``hash`` is the lowercase hex SHA-1 and
    ``size`` the byte count, both set by the repository.  ``reference_ids`` is the CXi list of slot
    ``urn:ihe:iti:xds:2013:referenceIdList``.
    """

    object_type: DocumentEntryType = DocumentEntryType.STABLE
    unique_id: str | None = None
    patient_id: CX | None = None
    source_patient_id: CX | None = None
    source_patient_info: tuple[str, ...] = ()  # "PID-5|Family^Given^^^" lines
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    confidentiality_codes: tuple[Code, ...] = ()
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    event_codes: tuple[Code, ...] = ()
    language_code: str | None = None
    mime_type: str | None = None
    title: InternationalString | None = None
    comments: InternationalString | None = None
    creation_time: str | None = None
    service_start_time: str | None = None
    service_stop_time: str | None = None
    hash: str | None = None
    size: int | None = None
    repository_unique_id: str | None = None
    uri: str | None = None
    legal_authenticator: str | None = None
    authors: tuple[Author, ...] = ()
    reference_ids: tuple[str, ...] = ()
    limited_metadata: bool = False
    limited_metadata_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmissionSet(RegistryObject):
    """XDSSubmissionSet: a ``RegistryPackage`` classified as a submission set (ITI TF-3 4.2.3.3)."""

    unique_id: str | None = None
    source_id: str | None = None
    patient_id: CX | None = None
    submission_time: str | None = None
    content_type_code: Code | None = None
    authors: tuple[Author, ...] = ()
    intended_recipients: tuple[str, ...] = ()
    title: InternationalString | None = None
    comments: InternationalString | None = None
    limited_metadata: bool = False
    limited_metadata_id: str | None = None
    node_classification_id: str | None = None  # id of the Classification marking the package


@dataclass(frozen=True, slots=True, kw_only=True)
class Folder(RegistryObject):
    """XDSFolder: a ``RegistryPackage`` classified as a folder (ITI TF-3 4.2.3.4)."""

    unique_id: str | None = None
    patient_id: CX | None = None
    codes: tuple[Code, ...] = ()
    last_update_time: str | None = None
    title: InternationalString | None = None
    comments: InternationalString | None = None
    limited_metadata: bool = False
    limited_metadata_id: str | None = None
    node_classification_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Association(RegistryObject):
    """An ebRIM ``Association`` (ITI TF-3 4.2.2): ``source`` --type--> ``target``.

    Typed slots: ``SubmissionSetStatus`` (HasMember from a submission set), ``PreviousVersion``
    (ITI-57 HasMember), ``OriginalStatus`` / ``NewStatus`` (UpdateAvailabilityStatus) and
    ``AssociationPropagation`` (ITI-57, "yes"/"no").
    """

    association_type: AssociationType
    source: str
    target: str
    submission_set_status: SubmissionSetStatus | None = None
    previous_version: str | None = None
    original_status: AvailabilityStatus | None = None
    new_status: AvailabilityStatus | None = None
    association_propagation: bool | None = None
    name: InternationalString | None = None
    description: InternationalString | None = None


@dataclass(frozen=True, slots=True)
class RegistryObjectList:
    """The objects of one message, grouped by kind (order within each kind is kept)."""

    document_entries: tuple[DocumentEntry, ...] = ()
    submission_sets: tuple[SubmissionSet, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    object_refs: tuple[ObjectRef, ...] = ()
    # Top-level Classifications that classify no object of the list in a known way.
    classifications: tuple[Classification, ...] = ()
    external_identifiers: tuple[ExternalIdentifier, ...] = ()

    def objects(self) -> Iterator[RegistryObject]:
        """Every registry object in the list: entries, submission sets, folders, associations."""
        yield from self.document_entries
        yield from self.submission_sets
        yield from self.folders
        yield from self.associations

    def identified_objects(self) -> tuple[DocumentEntry | SubmissionSet | Folder, ...]:
        """The objects that carry a patientId and a uniqueId: entries, submission sets, folders."""
        return (*self.document_entries, *self.submission_sets, *self.folders)

    def by_id(self) -> dict[str, RegistryObject]:
        """Index of :meth:`objects` by ``entry_uuid`` (a later duplicate wins; rules report duplicates)."""
        return {obj.entry_uuid: obj for obj in self.objects()}

    @property
    def is_empty(self) -> bool:
        return not (
            self.document_entries
            or self.submission_sets
            or self.folders
            or self.associations
            or self.object_refs
            or self.classifications
            or self.external_identifiers
        )


@dataclass(frozen=True, slots=True)
class SubmitObjectsRequest:
    """``lcm:SubmitObjectsRequest`` (ITI-41 / ITI-42 / ITI-57 body) with its request slots."""

    objects: RegistryObjectList = field(default_factory=RegistryObjectList)
    request_slots: tuple[Slot, ...] = ()
    id: str | None = None
    comment: str | None = None
