"""Registry-assigned identity of accepted objects (ITI TF-3 4.2.3.2.8 entryUUID, 4.2.3.2.13 logicalId,
4.2.3.2.31 version; ITI TF-2b 3.42.4.1.3.2 "symbolic ids are replaced by UUIDs").

:func:`assign_identities` turns every symbolic id into a ``urn:uuid:`` (and rewrites the references to it
in associations and classifications), gives every Classification/ExternalIdentifier without an id one,
and sets ``lid`` (defaults to the entryUUID), ``version`` (defaults to 1) and ``Approved`` status, so the
stored ebRIM is complete and schema-valid.  Existing ``urn:uuid`` ids are kept.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import TypeVar

from xds.codes import AvailabilityStatus, IdentificationScheme
from xds.model import (
    Association,
    Author,
    Classification,
    Code,
    DocumentEntry,
    ExternalIdentifier,
    Folder,
    RegistryObject,
    RegistryObjectList,
    SubmissionSet,
)

_O = TypeVar("_O", DocumentEntry, SubmissionSet, Folder, Association)
_IS = IdentificationScheme


def new_uuid_urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def is_uuid_urn(value: str) -> bool:
    if not value.lower().startswith("urn:uuid:"):
        return False
    try:
        uuid.UUID(value[9:])
    except ValueError:
        return False
    return True


def assign_identities(
    objects: RegistryObjectList, *, new_id: Callable[[], str] = new_uuid_urn
) -> tuple[RegistryObjectList, dict[str, str]]:
    """The objects with registry identities, and the symbolic-id -> UUID mapping that was applied."""
    mapping = {
        obj.entry_uuid: new_id()
        for obj in objects.objects()
        if obj.entry_uuid and not is_uuid_urn(obj.entry_uuid)
    }

    def ref(value: str) -> str:
        return mapping.get(value, value)

    def child_id(value: str | None) -> str:
        return value if value and is_uuid_urn(value) else new_id()

    def codes(items: tuple[Code, ...]) -> tuple[Code, ...]:
        return tuple(dataclasses.replace(c, id=child_id(c.id)) for c in items)

    def code(item: Code | None) -> Code | None:
        return dataclasses.replace(item, id=child_id(item.id)) if item is not None else None

    def authors(items: tuple[Author, ...]) -> tuple[Author, ...]:
        return tuple(dataclasses.replace(a, id=child_id(a.id)) for a in items)

    def common(obj: _O) -> _O:
        # an object without any id (an id-less Association) cannot be referenced: it just gets a fresh one
        entry_uuid = ref(obj.entry_uuid) if obj.entry_uuid else new_id()
        classifications = tuple(
            dataclasses.replace(
                c,
                id=child_id(c.id),
                classified_object=ref(c.classified_object) if c.classified_object else None,
            )
            for c in obj.extra_classifications
        )
        identifiers = tuple(
            dataclasses.replace(
                e, id=child_id(e.id), registry_object=ref(e.registry_object) if e.registry_object else None
            )
            for e in obj.extra_external_identifiers
        )
        return dataclasses.replace(
            obj,
            entry_uuid=entry_uuid,
            logical_id=ref(obj.logical_id) if obj.logical_id else entry_uuid,
            version=obj.version or "1",
            availability_status=AvailabilityStatus.APPROVED,
            extra_classifications=classifications,
            extra_external_identifiers=identifiers,
            identifier_ids=_identifier_ids(obj, child_id),
        )

    entries = tuple(
        dataclasses.replace(
            common(e),
            class_code=code(e.class_code),
            type_code=code(e.type_code),
            format_code=code(e.format_code),
            healthcare_facility_type_code=code(e.healthcare_facility_type_code),
            practice_setting_code=code(e.practice_setting_code),
            confidentiality_codes=codes(e.confidentiality_codes),
            event_codes=codes(e.event_codes),
            authors=authors(e.authors),
        )
        for e in objects.document_entries
    )
    sets = tuple(
        dataclasses.replace(
            common(s),
            content_type_code=code(s.content_type_code),
            authors=authors(s.authors),
            node_classification_id=child_id(s.node_classification_id),
        )
        for s in objects.submission_sets
    )
    folders = tuple(
        dataclasses.replace(
            common(f), codes=codes(f.codes), node_classification_id=child_id(f.node_classification_id)
        )
        for f in objects.folders
    )
    associations = tuple(
        dataclasses.replace(common(a), source=ref(a.source), target=ref(a.target))
        for a in objects.associations
    )
    extra: list[Classification] = [
        dataclasses.replace(c, classified_object=ref(c.classified_object) if c.classified_object else None)
        for c in objects.classifications
    ]
    identifiers: list[ExternalIdentifier] = [
        dataclasses.replace(e, registry_object=ref(e.registry_object) if e.registry_object else None)
        for e in objects.external_identifiers
    ]
    result = RegistryObjectList(
        document_entries=entries,
        submission_sets=sets,
        folders=folders,
        associations=associations,
        object_refs=objects.object_refs,
        classifications=tuple(extra),
        external_identifiers=tuple(identifiers),
    )
    return result, mapping


def _identifier_ids(
    obj: RegistryObject, child_id: Callable[[str | None], str]
) -> tuple[tuple[str, str], ...]:
    """An id for the ExternalIdentifier behind every typed identifier that has a value."""
    known = dict(obj.identifier_ids)
    present: list[tuple[IdentificationScheme, object]] = []
    if isinstance(obj, DocumentEntry):
        present = [(_IS.DOC_PATIENT_ID, obj.patient_id), (_IS.DOC_UNIQUE_ID, obj.unique_id)]
    elif isinstance(obj, SubmissionSet):
        present = [
            (_IS.SS_UNIQUE_ID, obj.unique_id),
            (_IS.SS_SOURCE_ID, obj.source_id),
            (_IS.SS_PATIENT_ID, obj.patient_id),
        ]
    elif isinstance(obj, Folder):
        present = [(_IS.FOLDER_UNIQUE_ID, obj.unique_id), (_IS.FOLDER_PATIENT_ID, obj.patient_id)]
    return tuple((s.value, child_id(known.get(s.value))) for s, value in present if value is not None)


def entry_uuid_of(obj: RegistryObject, mapping: dict[str, str]) -> str:
    """The registry entryUUID of a submitted object (its symbolic id mapped, or its own UUID)."""
    return mapping.get(obj.entry_uuid, obj.entry_uuid)
