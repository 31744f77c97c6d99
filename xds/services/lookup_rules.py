"""Registry rules that need more of the registry than the submission's :class:`RegistryState` snapshot.

They run inside the submission's (or deletion's) transaction, after the pure rules of
``xds.registry_rules``, and read what they need through the same :class:`ConnectionLookup`:

- ITI-57 (ITI TF-2b 3.57.4.1.3.3.2): an UpdateAvailabilityStatus may only change the LATEST version of a
  logical object (NIST test 15802b) - XDSMetadataVersionError;
- ITI-57 (ITI TF-2b 3.57.4.1.3.3.3 item 4): an association may not be submitted again between the same
  objects with the same type while an Approved one exists (associations are not versioned; NIST 20008) -
  XDSMetadataUpdateError;
- ITI-62 (ITI TF-2b 3.62.4.1.3): a SubmissionSet that stays may not lose all its HasMember associations
  (NIST 30001, 30003) - XDSUnreferencedObjectException.
"""

from __future__ import annotations

from collections.abc import Collection

from xds.codes import AssociationType, AvailabilityStatus
from xds.errors import RegistryError, XdsErrorCode
from xds.model import Association, RegistryObjectList, SubmissionSet
from xds.registry_rules import RegistryLookup, RegistryState, Rule

STATUS_OF_LATEST = Rule(
    "XDS-SVC-01",
    XdsErrorCode.XDS_METADATA_VERSION_ERROR,
    "an availability status change must name the latest version",
    "ITI TF-2b 3.57.4.1.3.3.2",
)
DUPLICATE_ASSOCIATION = Rule(
    "XDS-SVC-02",
    XdsErrorCode.XDS_METADATA_UPDATE_ERROR,
    "an Approved association of this type already links these objects",
    "ITI TF-2b 3.57.4.1.3.3.3",
)
EMPTY_SUBMISSION_SET = Rule(
    "XDS-SVC-03",
    XdsErrorCode.XDS_UNREFERENCED_OBJECT_EXCEPTION,
    "a SubmissionSet that stays may not lose all its members",
    "ITI TF-2b 3.62.4.1.3",
)
_LINKS = frozenset({AssociationType.HAS_MEMBER, *(t for t in AssociationType if t.replaces)}) | {
    AssociationType.APND,
    AssociationType.XFRM,
    AssociationType.SIGNS,
}


async def check_update_lookups(
    objects: RegistryObjectList, state: RegistryState, lookup: RegistryLookup
) -> list[RegistryError]:
    findings: list[RegistryError] = []
    status_targets = [
        a for a in objects.associations if a.association_type is AssociationType.UPDATE_AVAILABILITY_STATUS
    ]
    lids = {
        state.objects[a.target].logical_id or a.target: a for a in status_targets if a.target in state.objects
    }
    if lids:
        latest = {
            o.logical_id or o.entry_uuid: o.entry_uuid for o in await lookup.latest_by_logical_id(list(lids))
        }
        for lid, association in lids.items():
            if lid in latest and latest[lid] != association.target:
                findings.append(
                    STATUS_OF_LATEST.finding(
                        f"{association.target} is not the latest version of {lid} ({latest[lid]} is)",
                        association.entry_uuid or association.target,
                    )
                )
    ss_ids = {s.entry_uuid for s in objects.submission_sets}
    links = [a for a in objects.associations if a.association_type in _LINKS and a.source not in ss_ids]
    if links:
        existing = await lookup.associations_touching(sorted({a.source for a in links}))
        approved = {
            (e.association_type, e.source, e.target)
            for e in existing
            if e.availability_status in (None, AvailabilityStatus.APPROVED)
        }
        for association in links:
            if (association.association_type, association.source, association.target) in approved:
                findings.append(
                    DUPLICATE_ASSOCIATION.finding(
                        f"{association.association_type.name} {association.source} -> {association.target} "
                        "is registered already",
                        association.entry_uuid,
                    )
                )
    return findings


async def check_delete_lookups(
    entry_uuids: Collection[str], state: RegistryState, lookup: RegistryLookup
) -> list[RegistryError]:
    deleting = set(entry_uuids)
    emptied = {
        obj.source
        for uuid in deleting
        if isinstance(obj := state.objects.get(uuid), Association)
        and obj.association_type is AssociationType.HAS_MEMBER
        and obj.source not in deleting
        and isinstance(state.objects.get(obj.source), SubmissionSet)
    }
    if not emptied:
        return []
    remaining: dict[str, int] = dict.fromkeys(emptied, 0)
    for association in await lookup.associations_touching(sorted(emptied)):
        if (
            association.source in remaining
            and association.association_type is AssociationType.HAS_MEMBER
            and association.entry_uuid not in deleting
        ):
            remaining[association.source] += 1
    return [
        EMPTY_SUBMISSION_SET.finding(f"SubmissionSet {ss} would keep no member", ss)
        for ss, count in sorted(remaining.items())
        if count == 0
    ]
