"""Submission-level rules: one SubmissionSet, membership, one patient, uniqueness and associations.

ITI TF-3 4.1.4 (submission requirements), 4.2.2 (associations: HasMember and its SubmissionSetStatus,
document relationships RPLC/APND/XFRM/XFRM_RPLC/signs), 4.2.4 (error codes); ITI TF-2b 3.42.4.1.3
(registry behaviour: uniqueId re-registration with identical hash and size).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from xds.codes import AssociationType, AvailabilityStatus, SubmissionSetStatus
from xds.errors import RegistryError
from xds.hl7v2 import CX
from xds.model import Association, DocumentEntry, Folder, RegistryObject, RegistryObjectList, SubmissionSet
from xds.registry_rules import catalogue as rules
from xds.registry_rules.state import RegistryState

_RELATIONSHIPS = (
    AssociationType.RPLC,
    AssociationType.APND,
    AssociationType.XFRM,
    AssociationType.XFRM_RPLC,
    AssociationType.SIGNS,
)


def _patient_key(patient: CX | None) -> tuple[str, str] | None:
    return (patient.id, patient.assigning_authority) if patient is not None else None


def _patient_of(obj: RegistryObject | None) -> CX | None:
    if isinstance(obj, DocumentEntry | SubmissionSet | Folder):
        return obj.patient_id
    return None


def check_structure(objects: RegistryObjectList) -> list[RegistryError]:
    """Exactly one SubmissionSet; every new DocumentEntry and Folder is one of its HasMembers."""
    findings: list[RegistryError] = []
    if len(objects.submission_sets) != 1:
        findings.append(
            rules.ONE_SUBMISSION_SET.finding(f"found {len(objects.submission_sets)} SubmissionSets", None)
        )
        return findings
    ss_id = objects.submission_sets[0].entry_uuid
    members = {
        a.target
        for a in objects.associations
        if a.association_type is AssociationType.HAS_MEMBER and a.source == ss_id
    }
    for obj in objects.identified_objects():
        if isinstance(obj, SubmissionSet):
            continue
        if obj.entry_uuid not in members:
            findings.append(
                rules.MEMBER_OF_SUBMISSION_SET.finding(
                    f"{type(obj).__name__} {obj.entry_uuid} is not a HasMember of SubmissionSet {ss_id}",
                    obj.entry_uuid,
                )
            )
    return findings


def check_patients(objects: RegistryObjectList, state: RegistryState) -> list[RegistryError]:
    """All objects carry the SubmissionSet's patientId; the patient is known when a registry is configured."""
    findings: list[RegistryError] = []
    if not objects.submission_sets:
        return findings
    expected = objects.submission_sets[0].patient_id
    if expected is None:
        return findings  # reported by the required-attribute rules
    for obj in objects.identified_objects():
        if isinstance(obj, SubmissionSet):
            continue
        if obj.patient_id is not None and _patient_key(obj.patient_id) != _patient_key(expected):
            findings.append(
                rules.SAME_PATIENT.finding(
                    f"{type(obj).__name__} patientId {obj.patient_id.format()} differs from "
                    f"the SubmissionSet's {expected.format()}",
                    obj.entry_uuid,
                )
            )
    if not state.knows_patient(expected):
        findings.append(
            rules.UNKNOWN_PATIENT.finding(f"patientId {expected.format()} is not known", expected.format())
        )
    return findings


def check_uniqueness(objects: RegistryObjectList, state: RegistryState) -> list[RegistryError]:
    """entryUUIDs and uniqueIds unique in the message; registry duplicates only as identical resubmissions."""
    findings: list[RegistryError] = []
    ids = Counter(obj.entry_uuid for obj in objects.objects() if obj.entry_uuid)
    for entry_uuid, count in ids.items():
        if count > 1:
            findings.append(
                rules.DUPLICATE_ENTRY_UUID.finding(f"entryUUID {entry_uuid} used {count} times", entry_uuid)
            )
        elif entry_uuid in state.objects and not _is_reference_only(entry_uuid, objects):
            findings.append(
                rules.DUPLICATE_ENTRY_UUID.finding(
                    f"entryUUID {entry_uuid} is already registered", entry_uuid
                )
            )
    unique_ids = Counter(obj.unique_id for obj in objects.identified_objects() if obj.unique_id)
    for unique_id, count in unique_ids.items():
        if count > 1:
            findings.append(
                rules.UNIQUE_ID_IN_MESSAGE.finding(f"uniqueId {unique_id} used {count} times", unique_id)
            )
    for entry in objects.document_entries:
        findings.extend(_resubmission(entry, state))
    for package in objects.identified_objects():
        if isinstance(package, DocumentEntry):
            continue
        if package.unique_id and package.unique_id in state.packages_by_unique_id:
            findings.append(
                rules.UNIQUE_ID_IN_REGISTRY.finding(
                    f"{type(package).__name__} uniqueId {package.unique_id} is already registered",
                    package.entry_uuid,
                )
            )
    return findings


def _is_reference_only(entry_uuid: str, objects: RegistryObjectList) -> bool:
    return any(ref.id == entry_uuid for ref in objects.object_refs)


def _resubmission(entry: DocumentEntry, state: RegistryState) -> Iterator[RegistryError]:
    """A registered uniqueId may come again only for the same document (ITI TF-2b 3.42.4.1.3.3);
    an ITI-57 update (logicalId of a registered object) keeps its uniqueId by design."""
    existing = state.documents_by_unique_id.get(entry.unique_id or "", ())
    if not existing or (entry.logical_id and entry.logical_id in state.latest_by_logical_id):
        return
    previous = existing[-1]
    if entry.hash is not None and previous.hash is not None and entry.hash.lower() != previous.hash.lower():
        yield rules.RESUBMISSION_HASH.finding(
            f"uniqueId {entry.unique_id} is registered with hash {previous.hash}, not {entry.hash}",
            entry.entry_uuid,
        )
    if entry.size is not None and previous.size is not None and entry.size != previous.size:
        yield rules.RESUBMISSION_SIZE.finding(
            f"uniqueId {entry.unique_id} is registered with size {previous.size}, not {entry.size}",
            entry.entry_uuid,
        )


def check_associations(
    objects: RegistryObjectList, state: RegistryState, *, update: bool = False
) -> list[RegistryError]:
    """Association endpoints resolve, shapes fit the type, patients agree, relationship targets are valid.

    ``update`` (ITI-57) also accepts a non-replacing relationship (APND, XFRM, signs) between two registered
    DocumentEntries, both Approved (ITI-57 Submit Association operation; NIST MU test 21004)."""
    local = objects.by_id()
    findings: list[RegistryError] = []
    replaced: Counter[str] = Counter()
    for association in objects.associations:
        where = association.entry_uuid or f"{association.source}->{association.target}"
        source = local.get(association.source) or state.objects.get(association.source)
        target = local.get(association.target) or state.objects.get(association.target)
        for end, obj in (("sourceObject", source), ("targetObject", target)):
            if obj is None:
                name = association.source if end == "sourceObject" else association.target
                findings.append(
                    rules.ASSOCIATION_REFERENCE.finding(
                        f"{end} {name} is neither in the message nor registered", where
                    )
                )
        if source is None or target is None:
            continue
        if association.association_type is AssociationType.HAS_MEMBER:
            findings.extend(_has_member(association, source, target, local, where))
        elif association.association_type in _RELATIONSHIPS:
            findings.extend(_relationship(association, source, target, local, where, update=update))
            if association.association_type.replaces:
                replaced[association.target] += 1
        source_patient, target_patient = _patient_of(source), _patient_of(target)
        if source_patient and target_patient and _patient_key(source_patient) != _patient_key(target_patient):
            findings.append(
                rules.ASSOCIATION_PATIENT.finding(
                    f"{association.association_type.name} links patient {source_patient.format()} "
                    f"to patient {target_patient.format()}",
                    where,
                )
            )
    for target_id, count in replaced.items():
        if count > 1:
            findings.append(rules.REPLACE_TWICE.finding(f"{target_id} is replaced {count} times", target_id))
    return findings


def _has_member(
    association: Association,
    source: RegistryObject,
    target: RegistryObject,
    local: dict[str, RegistryObject],
    where: str,
) -> Iterator[RegistryError]:
    if isinstance(source, SubmissionSet):
        if not isinstance(target, DocumentEntry | Folder | Association):
            yield rules.ASSOCIATION_SHAPE.finding(
                "a SubmissionSet may hold DocumentEntries, Folders, Associations", where
            )
            return
        if isinstance(target, DocumentEntry):
            expected = (
                SubmissionSetStatus.ORIGINAL if target.entry_uuid in local else SubmissionSetStatus.REFERENCE
            )
            status = association.submission_set_status
            if status is None:
                yield rules.SUBMISSION_SET_STATUS.finding(
                    "HasMember to a DocumentEntry needs SubmissionSetStatus", where
                )
            elif status is not expected:
                yield rules.SUBMISSION_SET_STATUS.finding(
                    f"SubmissionSetStatus must be {expected.value} for {target.entry_uuid}", where
                )
    elif isinstance(source, Folder):
        if not isinstance(target, DocumentEntry):
            yield rules.ASSOCIATION_SHAPE.finding("a Folder may hold only DocumentEntries", where)
    else:
        yield rules.ASSOCIATION_SHAPE.finding("HasMember must start at a SubmissionSet or Folder", where)


def _relationship(
    association: Association,
    source: RegistryObject,
    target: RegistryObject,
    local: dict[str, RegistryObject],
    where: str,
    *,
    update: bool,
) -> Iterator[RegistryError]:
    kind = association.association_type.name
    if not isinstance(source, DocumentEntry):
        yield rules.ASSOCIATION_SHAPE.finding(f"{kind} must start at a DocumentEntry", where)
    elif source.entry_uuid not in local:
        if not update or association.association_type.replaces:
            yield rules.ASSOCIATION_SHAPE.finding(
                f"{kind} must start at a DocumentEntry of this submission", where
            )
        elif source.availability_status is not AvailabilityStatus.APPROVED:
            status = source.availability_status.name if source.availability_status else "unknown"
            yield rules.RELATIONSHIP_DEPRECATED.finding(
                f"{kind} source {source.entry_uuid} is {status}", where
            )
    if not isinstance(target, DocumentEntry):
        yield rules.RELATIONSHIP_TARGET.finding(
            f"{kind} target {association.target} is not a DocumentEntry", where
        )
        return
    if association.association_type is AssociationType.SIGNS:
        return  # a signature may sign a document of the same submission
    if target.entry_uuid in local:
        yield rules.RELATIONSHIP_TARGET.finding(
            f"{kind} target {target.entry_uuid} must already be registered", where
        )
    elif target.availability_status is not AvailabilityStatus.APPROVED:
        status = target.availability_status.name if target.availability_status else "unknown"
        yield rules.RELATIONSHIP_DEPRECATED.finding(f"{kind} target {target.entry_uuid} is {status}", where)
