"""An in-memory registry implementing RegistryLookup, and submissions built from the Danish sample."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence

import pytest

from xds.codes import AssociationType, AvailabilityStatus, SubmissionSetStatus
from xds.hl7v2 import CX
from xds.identifiers import assign_identities
from xds.model import (
    Association,
    DocumentEntry,
    Folder,
    RegistryObject,
    RegistryObjectList,
    SubmissionSet,
    SubmitObjectsRequest,
)
from xds.registry_rules import RuleOptions

OPTIONS = RuleOptions(repository_unique_id="1.2.208.176.43210.8.10.1")


class InMemoryRegistry:
    """The smallest real RegistryLookup: objects kept in a dict (what hub.storage does with SQL)."""

    def __init__(self, objects: Iterable[RegistryObject] = (), patients: Iterable[CX] = ()) -> None:
        self.objects: dict[str, RegistryObject] = {o.entry_uuid: o for o in objects}
        self.patients = {(p.id, p.assigning_authority) for p in patients}
        self.calls: list[str] = []

    def add(self, objects: RegistryObjectList) -> None:
        for obj in objects.objects():
            self.objects[obj.entry_uuid] = obj

    async def objects_by_uuid(self, entry_uuids: Collection[str]) -> Sequence[RegistryObject]:
        self.calls.append("objects_by_uuid")
        return [self.objects[u] for u in entry_uuids if u in self.objects]

    async def document_entries_by_unique_id(self, unique_ids: Collection[str]) -> Sequence[DocumentEntry]:
        self.calls.append("document_entries_by_unique_id")
        return [
            o for o in self.objects.values() if isinstance(o, DocumentEntry) and o.unique_id in unique_ids
        ]

    async def packages_by_unique_id(self, unique_ids: Collection[str]) -> Sequence[SubmissionSet | Folder]:
        self.calls.append("packages_by_unique_id")
        return [
            o
            for o in self.objects.values()
            if isinstance(o, SubmissionSet | Folder) and o.unique_id in unique_ids
        ]

    async def latest_by_logical_id(self, logical_ids: Collection[str]) -> Sequence[RegistryObject]:
        self.calls.append("latest_by_logical_id")
        latest: dict[str, RegistryObject] = {}
        for obj in self.objects.values():
            lid = obj.logical_id or obj.entry_uuid
            if lid not in logical_ids:
                continue
            if lid not in latest or int(obj.version or "1") > int(latest[lid].version or "1"):
                latest[lid] = obj
        return list(latest.values())

    async def associations_touching(self, entry_uuids: Collection[str]) -> Sequence[Association]:
        self.calls.append("associations_touching")
        return [
            o
            for o in self.objects.values()
            if isinstance(o, Association) and (o.source in entry_uuids or o.target in entry_uuids)
        ]

    async def known_patients(self, patient_ids: Collection[CX]) -> Collection[CX]:
        self.calls.append("known_patients")
        return [p for p in patient_ids if (p.id, p.assigning_authority) in self.patients]


def registered(objects: RegistryObjectList) -> RegistryObjectList:
    """``objects`` as the registry stores them: UUIDs, lid, version 1, Approved."""
    return assign_identities(objects)[0]


def rename(objects: RegistryObjectList, suffix: int) -> RegistryObjectList:
    """A second submission like ``objects`` with other symbolic ids and uniqueIds."""

    def uid(value: str | None) -> str | None:
        return f"{value}.{suffix}" if value and "^" not in value else (f"{value}{suffix}" if value else value)

    ids = {o.entry_uuid: f"{o.entry_uuid}-{suffix}" for o in objects.objects()}
    return RegistryObjectList(
        document_entries=tuple(
            dataclasses.replace(
                e, entry_uuid=ids[e.entry_uuid], unique_id=uid(e.unique_id), identifier_ids=()
            )
            for e in objects.document_entries
        ),
        submission_sets=tuple(
            dataclasses.replace(s, entry_uuid=ids[s.entry_uuid], unique_id=uid(s.unique_id))
            for s in objects.submission_sets
        ),
        folders=tuple(
            dataclasses.replace(f, entry_uuid=ids[f.entry_uuid], unique_id=uid(f.unique_id))
            for f in objects.folders
        ),
        associations=tuple(
            dataclasses.replace(
                a,
                entry_uuid=ids[a.entry_uuid],
                source=ids.get(a.source, a.source),
                target=ids.get(a.target, a.target),
            )
            for a in objects.associations
        ),
    )


def document_only(objects: RegistryObjectList) -> RegistryObjectList:
    """The Danish sample without its Folder: one SubmissionSet, one DocumentEntry, one HasMember."""
    return RegistryObjectList(
        document_entries=objects.document_entries,
        submission_sets=objects.submission_sets,
        associations=objects.associations[:1],
    )


def relationship(source: str, target: str, kind: AssociationType, entry_uuid: str = "Rel01") -> Association:
    return Association(entry_uuid=entry_uuid, association_type=kind, source=source, target=target)


def has_member(
    source: str, target: str, entry_uuid: str, status: SubmissionSetStatus | None = None
) -> Association:
    return Association(
        entry_uuid=entry_uuid,
        association_type=AssociationType.HAS_MEMBER,
        source=source,
        target=target,
        submission_set_status=status,
    )


def with_status(obj: RegistryObject, status: AvailabilityStatus) -> RegistryObject:
    return dataclasses.replace(obj, availability_status=status)


@pytest.fixture
def dk_objects(dk_request: SubmitObjectsRequest) -> RegistryObjectList:
    return dk_request.objects
