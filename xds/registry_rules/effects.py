"""What an accepted submission changes besides inserting its objects (pure planning; storage applies it).

- RPLC / XFRM_RPLC (ITI TF-3 4.2.2.2.2, 4.2.2.2.4): the original is deprecated, and so - recursively - are
  the APND and XFRM documents that hang off it; the replacement joins every Folder the original is in (a new
  Folder HasMember association), and those Folders get a new lastUpdateTime.
- Folders (ITI TF-3 4.2.3.4.3): a new Folder's lastUpdateTime is the submission time; so is that of any
  registered Folder that receives a new member.
- ITI-57 (ITI TF-2b 3.57.4.1.3.3): a new version gets ``version = previous + 1`` and the previous version is
  deprecated; UpdateAvailabilityStatus associations become status changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from xds.codes import AssociationType, AvailabilityStatus
from xds.identifiers import new_uuid_urn
from xds.model import Association, DocumentEntry, Folder, RegistryObjectList
from xds.registry_rules.state import MAX_RELATIONSHIP_DEPTH, RegistryState

_CHILDREN = (AssociationType.APND, AssociationType.XFRM)
_T = TypeVar("_T", DocumentEntry, Folder)


@dataclass(frozen=True, slots=True)
class RegistryChanges:
    """Changes to registered objects: status updates and Folders whose lastUpdateTime becomes ``now``."""

    status_changes: tuple[tuple[str, AvailabilityStatus], ...] = ()
    touched_folders: tuple[str, ...] = ()

    @property
    def deprecated(self) -> tuple[str, ...]:
        return tuple(uuid for uuid, status in self.status_changes if status is AvailabilityStatus.DEPRECATED)


def plan_changes(
    objects: RegistryObjectList,
    state: RegistryState,
    *,
    now: str,
    new_id: Callable[[], str] = new_uuid_urn,
) -> tuple[RegistryObjectList, RegistryChanges]:
    """The objects to insert (completed) and the changes to registered objects, for ``objects`` that passed
    every rule and went through :func:`xds.identifiers.assign_identities`."""
    status: dict[str, AvailabilityStatus] = {}
    touched: set[str] = set()
    added: list[Association] = []
    for association in objects.associations:
        if association.association_type.replaces and association.target in state.objects:
            for uuid in _with_descendants(association.target, state):
                status[uuid] = AvailabilityStatus.DEPRECATED
            for folder_id in _folders_of(association.target, state):
                added.append(_membership(folder_id, association.source, new_id()))
                touched.add(folder_id)
        elif association.association_type is AssociationType.HAS_MEMBER:
            if isinstance(state.objects.get(association.source), Folder):
                touched.add(association.source)
        elif (
            association.association_type is AssociationType.UPDATE_AVAILABILITY_STATUS
            and association.new_status
        ):
            status[association.target] = association.new_status
    entries = tuple(_next_version(e, state, status) for e in objects.document_entries)
    folders = tuple(
        dataclasses.replace(_next_version(f, state, status), last_update_time=now) for f in objects.folders
    )
    completed = dataclasses.replace(
        objects, document_entries=entries, folders=folders, associations=(*objects.associations, *added)
    )
    return completed, RegistryChanges(tuple(status.items()), tuple(sorted(touched)))


def _with_descendants(original: str, state: RegistryState) -> list[str]:
    found = [original]
    frontier = [original]
    for _ in range(MAX_RELATIONSHIP_DEPTH):
        if not frontier:
            break
        children = [a.source for target in frontier for a in state.associations_to(target, _CHILDREN)]
        frontier = [c for c in children if c not in found]
        found.extend(frontier)
    return found


def _folders_of(document: str, state: RegistryState) -> list[str]:
    return [
        a.source
        for a in state.associations_to(document, (AssociationType.HAS_MEMBER,))
        if isinstance(state.objects.get(a.source), Folder)
    ]


def _membership(folder_id: str, document_id: str, entry_uuid: str) -> Association:
    return Association(
        entry_uuid=entry_uuid,
        logical_id=entry_uuid,
        version="1",
        availability_status=AvailabilityStatus.APPROVED,
        association_type=AssociationType.HAS_MEMBER,
        source=folder_id,
        target=document_id,
    )


def _next_version(obj: _T, state: RegistryState, status: dict[str, AvailabilityStatus]) -> _T:
    previous = state.latest_by_logical_id.get(obj.logical_id or "")
    if previous is None or previous.entry_uuid == obj.entry_uuid:
        return obj
    status[previous.entry_uuid] = AvailabilityStatus.DEPRECATED
    number = int(previous.version) + 1 if previous.version and previous.version.isdigit() else 2
    return dataclasses.replace(obj, version=str(number))
