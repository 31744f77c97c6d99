"""Fetching the registry snapshot the rules need, in batches, through the RegistryLookup Protocol."""

from __future__ import annotations

import asyncio
import dataclasses

from tests.unit.xds.registry_rules.conftest import (
    InMemoryRegistry,
    document_only,
    registered,
    relationship,
    rename,
)
from xds.codes import AssociationType
from xds.hl7v2 import CX
from xds.model import RegistryObjectList
from xds.registry_rules import RegistryLookup, RegistryState, gather_registry_state


def test_in_memory_registry_satisfies_the_protocol() -> None:
    lookup: RegistryLookup = InMemoryRegistry()
    assert asyncio.run(lookup.objects_by_uuid(["x"])) == []


def test_snapshot_of_a_new_submission_is_empty(dk_objects: RegistryObjectList) -> None:
    registry = InMemoryRegistry()
    state = asyncio.run(gather_registry_state(dk_objects, registry))
    assert state == RegistryState()
    assert state.knows_patient(CX("anyone", "1.2"))
    assert "known_patients" not in registry.calls


def test_snapshot_collects_referenced_objects(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects(), patients=[CX("2512489996", "1.2.208.176.1.2")])
    second = rename(document_only(dk_objects), 2)
    original = stored.document_entries[0]
    replacement = dataclasses.replace(second.document_entries[0], unique_id=original.unique_id)
    rplc = relationship(replacement.entry_uuid, original.entry_uuid, AssociationType.RPLC)
    objects = dataclasses.replace(
        second, document_entries=(replacement,), associations=(*second.associations, rplc)
    )
    state = asyncio.run(gather_registry_state(objects, registry, check_patients=True))
    assert original.entry_uuid in state.objects
    assert state.documents_by_unique_id[original.unique_id or ""] == (original,)
    folder_links = state.associations_to(original.entry_uuid, [AssociationType.HAS_MEMBER])
    assert {a.source for a in folder_links} >= {stored.folders[0].entry_uuid}
    assert state.known_patients == frozenset({("2512489996", "1.2.208.176.1.2")})
    assert state.knows_patient(CX("2512489996", "1.2.208.176.1.2"))
    assert not state.knows_patient(CX("0101010101", "1.2.208.176.1.2"))


def test_snapshot_finds_packages_and_logical_ids(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects())
    state = asyncio.run(gather_registry_state(dk_objects, registry))
    assert set(state.packages_by_unique_id) == {
        dk_objects.submission_sets[0].unique_id,
        dk_objects.folders[0].unique_id,
    }
    update = dataclasses.replace(
        dk_objects.document_entries[0],
        entry_uuid="NewVersion",
        logical_id=stored.document_entries[0].entry_uuid,
    )
    state = asyncio.run(
        gather_registry_state(dataclasses.replace(dk_objects, document_entries=(update,)), registry)
    )
    assert state.latest_by_logical_id[stored.document_entries[0].entry_uuid] == stored.document_entries[0]
