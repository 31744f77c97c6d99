"""Registry side effects of accepted submissions (ITI TF-3 4.2.2.2.2, 4.2.3.4.3; ITI TF-2b 3.57.4.1.3.3)."""

from __future__ import annotations

import asyncio
import dataclasses

from tests.unit.xds.registry_rules.conftest import (
    InMemoryRegistry,
    document_only,
    has_member,
    registered,
    relationship,
    rename,
)
from xds.codes import AssociationType, AvailabilityStatus
from xds.identifiers import assign_identities
from xds.model import Association, Folder, RegistryObjectList
from xds.registry_rules import RegistryChanges, gather_registry_state, plan_changes

NOW = "20240401120000"


def _plan(
    objects: RegistryObjectList, registry: InMemoryRegistry
) -> tuple[RegistryObjectList, RegistryChanges]:
    state = asyncio.run(gather_registry_state(objects, registry))
    assigned, _ = assign_identities(objects)
    return plan_changes(assigned, state, now=NOW)


def test_new_folder_gets_last_update_time(dk_objects: RegistryObjectList) -> None:
    completed, changes = _plan(dk_objects, InMemoryRegistry())
    assert completed.folders[0].last_update_time == NOW
    assert changes == RegistryChanges()  # nothing registered changes


def test_replace_deprecates_original_and_descendants_and_moves_folders(
    dk_objects: RegistryObjectList,
) -> None:
    stored = registered(dk_objects)  # document in a folder
    original = stored.document_entries[0]
    folder = stored.folders[0]
    addendum = registered(rename(document_only(dk_objects), 5))
    appendix_link = dataclasses.replace(
        relationship(addendum.document_entries[0].entry_uuid, original.entry_uuid, AssociationType.APND),
        entry_uuid="urn:uuid:00000000-0000-4000-8000-0000000000a1",
    )
    transform = registered(rename(document_only(dk_objects), 6))
    transform_link = dataclasses.replace(
        relationship(
            transform.document_entries[0].entry_uuid,
            addendum.document_entries[0].entry_uuid,
            AssociationType.XFRM,
        ),
        entry_uuid="urn:uuid:00000000-0000-4000-8000-0000000000a2",
    )
    registry = InMemoryRegistry(
        (*stored.objects(), *addendum.objects(), *transform.objects(), appendix_link, transform_link)
    )
    replacement = rename(document_only(dk_objects), 7)
    rplc = relationship(replacement.document_entries[0].entry_uuid, original.entry_uuid, AssociationType.RPLC)
    submission = dataclasses.replace(replacement, associations=(*replacement.associations, rplc))
    completed, changes = _plan(submission, registry)
    assert set(changes.deprecated) == {
        original.entry_uuid,
        addendum.document_entries[0].entry_uuid,
        transform.document_entries[0].entry_uuid,
    }
    assert changes.touched_folders == (folder.entry_uuid,)
    new_links = [a for a in completed.associations if a.source == folder.entry_uuid]
    (link,) = new_links
    assert link.association_type is AssociationType.HAS_MEMBER
    assert link.target == completed.document_entries[0].entry_uuid
    assert link.entry_uuid.startswith("urn:uuid:") and link.availability_status is AvailabilityStatus.APPROVED


def test_adding_to_a_registered_folder_touches_it(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects())
    second = rename(document_only(dk_objects), 2)
    link = has_member(stored.folders[0].entry_uuid, second.document_entries[0].entry_uuid, "Add")
    _, changes = _plan(dataclasses.replace(second, associations=(*second.associations, link)), registry)
    assert changes.touched_folders == (stored.folders[0].entry_uuid,)


def test_new_version_and_status_change(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    old = stored.document_entries[0]
    registry = InMemoryRegistry(stored.objects())
    update = rename(document_only(dk_objects), 3)
    entry = dataclasses.replace(
        update.document_entries[0], logical_id=old.logical_id, unique_id=old.unique_id
    )
    change = Association(
        entry_uuid="Change",
        association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
        source=update.submission_sets[0].entry_uuid,
        target=stored.folders[0].entry_uuid,
        original_status=AvailabilityStatus.APPROVED,
        new_status=AvailabilityStatus.DEPRECATED,
    )
    objects = dataclasses.replace(
        update, document_entries=(entry,), associations=(*update.associations, change)
    )
    completed, changes = _plan(objects, registry)
    assert completed.document_entries[0].version == "2"
    assert completed.document_entries[0].logical_id == old.entry_uuid
    assert dict(changes.status_changes) == {
        old.entry_uuid: AvailabilityStatus.DEPRECATED,
        stored.folders[0].entry_uuid: AvailabilityStatus.DEPRECATED,
    }
    assert isinstance(registry.objects[stored.folders[0].entry_uuid], Folder)
