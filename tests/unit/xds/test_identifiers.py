"""Registry-assigned identities (ITI TF-3 4.2.3.2.8, 4.2.3.2.13, 4.2.3.2.31)."""

from __future__ import annotations

import dataclasses
import itertools

from xds.codes import AvailabilityStatus
from xds.identifiers import assign_identities, entry_uuid_of, is_uuid_urn
from xds.model import SubmitObjectsRequest


def test_symbolic_ids_become_uuids_and_references_follow(dk_request: SubmitObjectsRequest) -> None:
    counter = itertools.count(1)
    objects, mapping = assign_identities(
        dk_request.objects, new_id=lambda: f"urn:uuid:00000000-0000-4000-8000-{next(counter):012d}"
    )
    assert set(mapping) == {
        "Document01",
        "SubmissionSet01",
        "Folder01",
        "Assoc01",
        "Assoc02",
        "Assoc03",
        "Assoc04",
    }
    entry = objects.document_entries[0]
    assert (
        entry.entry_uuid
        == mapping["Document01"]
        == entry_uuid_of(dk_request.objects.document_entries[0], mapping)
    )
    assert entry.logical_id == entry.entry_uuid and entry.version == "1"
    assert entry.availability_status is AvailabilityStatus.APPROVED
    assert all(is_uuid_urn(o.entry_uuid) for o in objects.objects())
    ends = {(a.source, a.target) for a in objects.associations}
    assert (mapping["SubmissionSet01"], mapping["Assoc03"]) in ends
    assert (mapping["Folder01"], mapping["Document01"]) in ends
    # every child element got an id; ids that were UUIDs are kept
    assert entry.authors[0].id == "urn:uuid:4e0a1d0a-0d3b-4c55-9d1a-7c1b3c5a0001"
    assert (
        entry.class_code is not None and entry.class_code.id is not None and is_uuid_urn(entry.class_code.id)
    )
    assert entry.extra_classifications[0].classified_object == entry.entry_uuid
    assert dict(entry.identifier_ids)["urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"] == (
        "urn:uuid:4e0a1d0a-0d3b-4c55-9d1a-7c1b3c5a0002"
    )
    assert len(entry.identifier_ids) == 2
    assert len(objects.submission_sets[0].identifier_ids) == 3
    assert objects.submission_sets[0].node_classification_id is not None
    assert is_uuid_urn(objects.submission_sets[0].node_classification_id)


def test_uuid_ids_are_kept(dk_request: SubmitObjectsRequest) -> None:
    first, _ = assign_identities(dk_request.objects)
    second, mapping = assign_identities(first)
    assert mapping == {}
    assert [o.entry_uuid for o in second.objects()] == [o.entry_uuid for o in first.objects()]


def test_uuid_urn_syntax() -> None:
    assert is_uuid_urn("urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1")
    assert is_uuid_urn("URN:UUID:7edca82f-054d-47f2-a032-9b2a5b5186c1")
    assert not is_uuid_urn("urn:uuid:xyz") and not is_uuid_urn("Document01") and not is_uuid_urn("")


def test_objects_without_id_get_distinct_uuids(dk_request: SubmitObjectsRequest) -> None:
    anonymous = tuple(dataclasses.replace(a, entry_uuid="") for a in dk_request.objects.associations[1:3])
    objects = dataclasses.replace(
        dk_request.objects, associations=(*dk_request.objects.associations[:1], *anonymous)
    )
    assigned, mapping = assign_identities(objects)
    ids = [a.entry_uuid for a in assigned.associations]
    assert len(set(ids)) == 3 and all(is_uuid_urn(i) for i in ids)
    assert "" not in mapping
