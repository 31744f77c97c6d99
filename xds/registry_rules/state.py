"""What the rules need to know about the registry, fetched once per submission.

The rules are pure and synchronous; they see the registry only through a :class:`RegistryState` snapshot.
:func:`gather_registry_state` fills it through the :class:`RegistryLookup` Protocol (implemented by
``hub.storage``), asking in batches for exactly the objects a submission refers to: association endpoints
outside the message, uniqueIds, logicalIds of updates, the APND/XFRM descendants and folders of documents
being replaced (ITI TF-3 4.2.2.2.2), and - when a patient registry is configured - the patient ids.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from xds.codes import AssociationType
from xds.hl7v2 import CX
from xds.model import (
    Association,
    DocumentEntry,
    Folder,
    RegistryObject,
    RegistryObjectList,
    SubmissionSet,
)

# Replacement chains longer than this are treated as a data problem rather than followed forever.
MAX_RELATIONSHIP_DEPTH = 64


class RegistryLookup(Protocol):
    """Read access to the registry that the rules need (all methods take batches)."""

    async def objects_by_uuid(self, entry_uuids: Collection[str]) -> Sequence[RegistryObject]:
        """DocumentEntries, SubmissionSets, Folders and Associations with these entryUUIDs."""
        ...

    async def document_entries_by_unique_id(self, unique_ids: Collection[str]) -> Sequence[DocumentEntry]:
        """Every version of the DocumentEntries with these uniqueIds."""
        ...

    async def packages_by_unique_id(self, unique_ids: Collection[str]) -> Sequence[SubmissionSet | Folder]:
        """SubmissionSets and Folders with these uniqueIds."""
        ...

    async def latest_by_logical_id(self, logical_ids: Collection[str]) -> Sequence[RegistryObject]:
        """The highest version of each logical object (ITI-57)."""
        ...

    async def associations_touching(self, entry_uuids: Collection[str]) -> Sequence[Association]:
        """Associations whose source or target is one of these entryUUIDs."""
        ...

    async def known_patients(self, patient_ids: Collection[CX]) -> Collection[CX]:
        """The subset of ``patient_ids`` the hub knows (only called when a patient registry is configured)."""
        ...


@dataclass(frozen=True, slots=True)
class RegistryState:
    """A snapshot of the registry objects a submission touches."""

    objects: Mapping[str, RegistryObject] = field(default_factory=dict)
    documents_by_unique_id: Mapping[str, tuple[DocumentEntry, ...]] = field(default_factory=dict)
    packages_by_unique_id: Mapping[str, SubmissionSet | Folder] = field(default_factory=dict)
    latest_by_logical_id: Mapping[str, RegistryObject] = field(default_factory=dict)
    associations: tuple[Association, ...] = ()
    # None: no patient registry configured, every patient id is acceptable.
    known_patients: frozenset[tuple[str, str]] | None = None

    def knows_patient(self, patient: CX) -> bool:
        return self.known_patients is None or (patient.id, patient.assigning_authority) in self.known_patients

    def associations_to(self, target: str, types: Iterable[AssociationType]) -> list[Association]:
        wanted = set(types)
        return [a for a in self.associations if a.target == target and a.association_type in wanted]


def _external_references(objects: RegistryObjectList) -> set[str]:
    local = {obj.entry_uuid for obj in objects.objects()}
    refs = {ref.id for ref in objects.object_refs}
    for association in objects.associations:
        refs.update({association.source, association.target})
    return refs - local


async def gather_registry_state(
    objects: RegistryObjectList, lookup: RegistryLookup, *, check_patients: bool = False
) -> RegistryState:
    """Fetch everything the rules and :mod:`xds.registry_rules.effects` need for ``objects``."""
    referenced = _external_references(objects) | {o.entry_uuid for o in objects.objects()}
    found = {o.entry_uuid: o for o in await lookup.objects_by_uuid(sorted(referenced))}

    doc_uids = sorted({d.unique_id for d in objects.document_entries if d.unique_id})
    by_uid: dict[str, tuple[DocumentEntry, ...]] = {}
    for entry in await lookup.document_entries_by_unique_id(doc_uids) if doc_uids else ():
        by_uid[entry.unique_id or ""] = (*by_uid.get(entry.unique_id or "", ()), entry)

    package_uids = sorted(
        {
            p.unique_id
            for p in objects.identified_objects()
            if p.unique_id and not isinstance(p, DocumentEntry)
        }
    )
    packages = (
        {p.unique_id or "": p for p in await lookup.packages_by_unique_id(package_uids)}
        if package_uids
        else {}
    )

    lids = sorted({o.logical_id for o in objects.objects() if o.logical_id and o.logical_id != o.entry_uuid})
    latest = (
        {o.logical_id or o.entry_uuid: o for o in await lookup.latest_by_logical_id(lids)} if lids else {}
    )
    for obj in latest.values():
        found.setdefault(obj.entry_uuid, obj)

    associations = await _relationship_closure(objects, found, lookup)

    known: frozenset[tuple[str, str]] | None = None
    if check_patients:
        patients = _patients(objects)
        known = frozenset((p.id, p.assigning_authority) for p in await lookup.known_patients(patients))
    return RegistryState(found, by_uid, packages, latest, associations, known)


async def _relationship_closure(
    objects: RegistryObjectList, found: dict[str, RegistryObject], lookup: RegistryLookup
) -> tuple[Association, ...]:
    """Existing associations around every registered object the submission references, following
    APND/XFRM children of replaced documents recursively (they are deprecated with the original)."""
    frontier = {a.target for a in objects.associations if a.target in found} | {
        a.source for a in objects.associations if a.source in found
    }
    seen: set[str] = set()
    collected: dict[str, Association] = {}
    depth = 0
    while frontier and depth < MAX_RELATIONSHIP_DEPTH:
        depth += 1
        seen |= frontier
        batch = await lookup.associations_touching(sorted(frontier))
        frontier = set()
        for association in batch:
            key = association.entry_uuid or f"{association.source}>{association.target}"
            collected[key] = association
            child = association.association_type in (AssociationType.APND, AssociationType.XFRM)
            if child and association.source not in seen:
                frontier.add(association.source)
    children = {a.source for a in collected.values()} - set(found)
    if children:
        for obj in await lookup.objects_by_uuid(sorted(children)):
            found.setdefault(obj.entry_uuid, obj)
    return tuple(collected.values())


def _patients(objects: RegistryObjectList) -> list[CX]:
    seen: dict[tuple[str, str], CX] = {}
    for obj in objects.identified_objects():
        if obj.patient_id is not None:
            seen.setdefault((obj.patient_id.id, obj.patient_id.assigning_authority), obj.patient_id)
    return list(seen.values())
