"""ITI-62 Delete Document Set rules (ITI TF-2b 3.62.4.1.3).

- every entryUUID to delete is registered, else UnresolvedReferenceException;
- no association that stays refers to a deleted object, else ReferencesExistException (the submitter
  must delete the associations too);
- deleting a SubmissionSet HasMember association must not leave its DocumentEntry, Folder or Association
  without any SubmissionSet membership, else XDSUnreferencedObjectException.
"""

from __future__ import annotations

from collections.abc import Collection

from xds.codes import AssociationType
from xds.errors import RegistryError
from xds.model import Association, SubmissionSet
from xds.registry_rules.catalogue import REFERENCES_EXIST, UNREFERENCED, UNRESOLVED
from xds.registry_rules.state import RegistryLookup, RegistryState


async def gather_delete_state(entry_uuids: Collection[str], lookup: RegistryLookup) -> RegistryState:
    """The objects to delete, every association touching them, and the associations of their members."""
    objects = {o.entry_uuid: o for o in await lookup.objects_by_uuid(sorted(entry_uuids))}
    associations = {a.entry_uuid: a for a in await lookup.associations_touching(sorted(entry_uuids))}
    members = {
        o.target for o in objects.values() if isinstance(o, Association) and o.target not in entry_uuids
    }
    if members:
        for association in await lookup.associations_touching(sorted(members)):
            associations[association.entry_uuid] = association
    sources = {a.source for a in associations.values()} - set(objects)
    if sources:
        for obj in await lookup.objects_by_uuid(sorted(sources)):
            objects.setdefault(obj.entry_uuid, obj)
    return RegistryState(objects=objects, associations=tuple(associations.values()))


def check_delete(entry_uuids: Collection[str], state: RegistryState) -> list[RegistryError]:
    deleting = set(entry_uuids)
    findings = [
        UNRESOLVED.finding(f"{u} is not registered", u) for u in entry_uuids if u not in state.objects
    ]
    for association in state.associations:
        if association.entry_uuid in deleting:
            continue
        for end in (association.source, association.target):
            if end in deleting:
                findings.append(
                    REFERENCES_EXIST.finding(
                        f"association {association.entry_uuid} still refers to {end}", association.entry_uuid
                    )
                )
    for uuid in deleting:
        removed = state.objects.get(uuid)
        if not isinstance(removed, Association) or not _is_ss_membership(removed, state):
            continue
        if removed.target in deleting:
            continue
        remaining = [
            a
            for a in state.associations_to(removed.target, (AssociationType.HAS_MEMBER,))
            if a.entry_uuid not in deleting and _is_ss_membership(a, state)
        ]
        if not remaining:
            findings.append(
                UNREFERENCED.finding(f"{removed.target} would belong to no SubmissionSet", removed.target)
            )
    return findings


def _is_ss_membership(association: Association, state: RegistryState) -> bool:
    return association.association_type is AssociationType.HAS_MEMBER and isinstance(
        state.objects.get(association.source), SubmissionSet
    )
