"""entryUUID / logicalId / version rules for ITI-42 and ITI-57.

- ITI-42/41 (ITI TF-3 4.2.3.2.13 logicalId, 4.2.3.2.31 version): a new object's ``lid`` is absent or
  equals its entryUUID, and its version is absent or 1 (the registry assigns both).
- ITI-57 Update Document Set (ITI TF-2b 3.57.4.1.3.3): a new version carries the ``lid`` of a registered
  object; the SubmissionSet's HasMember to it has ``PreviousVersion`` equal to the latest registered version
  (else XDSMetadataVersionError); the previous version is Approved; uniqueId, objectType and patientId do
  not change (XDSMetadataUpdateError / XDSPatientIDReconciliationError).  An UpdateAvailabilityStatus
  association names a registered target whose status equals ``OriginalStatus`` and a ``NewStatus`` of
  Approved or Deprecated.
"""

from __future__ import annotations

from collections.abc import Iterator

from xds.codes import AssociationType, AvailabilityStatus
from xds.errors import RegistryError
from xds.model import Association, DocumentEntry, Folder, RegistryObject, RegistryObjectList, SubmissionSet
from xds.registry_rules import catalogue as rules
from xds.registry_rules.state import RegistryState

_NEW_STATUSES = (AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED)


def check_new_object_versions(objects: RegistryObjectList) -> list[RegistryError]:
    """ITI-42/41: logicalId equals entryUUID (or is absent) and version is absent or 1."""
    findings: list[RegistryError] = []
    for obj in objects.identified_objects():
        if obj.logical_id is not None and obj.logical_id != obj.entry_uuid:
            findings.append(
                rules.LOGICAL_ID_NEW_OBJECT.finding(
                    f"logicalId {obj.logical_id} differs from entryUUID {obj.entry_uuid} "
                    "(use ITI-57 to update)",
                    obj.entry_uuid,
                )
            )
        if obj.version not in (None, "1"):
            findings.append(
                rules.LOGICAL_ID_NEW_OBJECT.finding(
                    f"version {obj.version!r} on a new object", obj.entry_uuid
                )
            )
    return findings


def check_update(objects: RegistryObjectList, state: RegistryState) -> list[RegistryError]:
    """ITI-57 rules for new versions and status changes."""
    findings: list[RegistryError] = []
    if not objects.submission_sets:
        return findings
    ss_id = objects.submission_sets[0].entry_uuid
    members = {
        a.target: a
        for a in objects.associations
        if a.association_type is AssociationType.HAS_MEMBER and a.source == ss_id
    }
    for obj in objects.identified_objects():
        if isinstance(obj, SubmissionSet):
            continue
        if obj.logical_id and obj.logical_id != obj.entry_uuid:
            findings.extend(_new_version(obj, members.get(obj.entry_uuid), state))
        elif members.get(obj.entry_uuid) is not None and members[obj.entry_uuid].previous_version is not None:
            findings.append(
                rules.UPDATE_PREVIOUS_VERSION.finding(
                    f"PreviousVersion given but {obj.entry_uuid} carries no logicalId of a registered object",
                    obj.entry_uuid,
                )
            )
    for association in objects.associations:
        if association.association_type is AssociationType.UPDATE_AVAILABILITY_STATUS:
            findings.extend(_status_change(association, ss_id, state))
    return findings


def _new_version(
    obj: DocumentEntry | Folder, membership: Association | None, state: RegistryState
) -> Iterator[RegistryError]:
    where = obj.entry_uuid
    previous = state.latest_by_logical_id.get(obj.logical_id or "")
    if previous is None:
        yield rules.UPDATE_PREVIOUS_VERSION.finding(
            f"no registered object has logicalId {obj.logical_id}", where
        )
        return
    if membership is None or membership.previous_version is None:
        yield rules.UPDATE_OPERATION.finding(
            "the HasMember of a new version needs a PreviousVersion slot", where
        )
    elif membership.previous_version != (previous.version or "1"):
        registered = previous.version or "1"
        yield rules.UPDATE_PREVIOUS_VERSION.finding(
            f"PreviousVersion {membership.previous_version} but the registered version is {registered}", where
        )
    if type(previous) is not type(obj):
        yield rules.UPDATE_TARGET.finding(
            f"logicalId {obj.logical_id} belongs to a {type(previous).__name__}", where
        )
        return
    yield from _identity(obj, previous, where)


def _identity(obj: DocumentEntry | Folder, previous: RegistryObject, where: str) -> Iterator[RegistryError]:
    if previous.availability_status is not AvailabilityStatus.APPROVED:
        yield rules.UPDATE_TARGET.finding(
            f"the previous version {previous.entry_uuid} is not Approved", where
        )
    if previous.entry_uuid == obj.entry_uuid:
        yield rules.UPDATE_TARGET.finding("a new version needs a new entryUUID", where)
    assert isinstance(previous, DocumentEntry | Folder)
    if previous.unique_id != obj.unique_id:
        yield rules.UPDATE_TARGET.finding(
            f"uniqueId changes from {previous.unique_id} to {obj.unique_id}", where
        )
    if (
        isinstance(obj, DocumentEntry)
        and isinstance(previous, DocumentEntry)
        and previous.object_type != obj.object_type
    ):
        yield rules.UPDATE_TARGET.finding("objectType may not change", where)
    old, new = previous.patient_id, obj.patient_id
    if (
        old is not None
        and new is not None
        and (old.id, old.assigning_authority) != (new.id, new.assigning_authority)
    ):
        yield rules.UPDATE_PATIENT.finding(f"patientId changes from {old.format()} to {new.format()}", where)


def _status_change(association: Association, ss_id: str, state: RegistryState) -> Iterator[RegistryError]:
    where = association.entry_uuid or association.target
    if association.source != ss_id:
        yield rules.UPDATE_OPERATION.finding(
            "UpdateAvailabilityStatus must start at the SubmissionSet", where
        )
    target = state.objects.get(association.target)
    if target is None:
        yield rules.STATUS_CHANGE.finding(f"{association.target} is not registered", where)
        return
    if association.original_status is None or association.new_status is None:
        yield rules.UPDATE_OPERATION.finding("OriginalStatus and NewStatus slots are required", where)
        return
    if association.original_status is not target.availability_status:
        current = target.availability_status.name if target.availability_status else "unknown"
        yield rules.STATUS_CHANGE.finding(
            f"OriginalStatus {association.original_status.name} but {association.target} is {current}", where
        )
    if association.new_status not in _NEW_STATUSES:
        yield rules.STATUS_CHANGE.finding(f"NewStatus {association.new_status.name} is not allowed", where)
