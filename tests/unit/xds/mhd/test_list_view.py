"""SubmissionSets and Folders rendered as MHD Lists (the inverse of what ITI-65 reads)."""

from __future__ import annotations

from xds.codes import AvailabilityStatus
from xds.hl7v2 import CX
from xds.mhd.list_metadata import folder, submission_set
from xds.mhd.list_view import folder_list, submission_set_list
from xds.model import Author, Code, Folder, InternationalString, SubmissionSet

CPR = CX(id="2512484916", assigning_authority="1.2.208.176.1.2")


def test_a_submission_set_list_round_trips_through_the_iti65_reader() -> None:
    original = SubmissionSet(
        entry_uuid="urn:uuid:7d5bb8ac-68ee-4926-85e7-b0f3e1a6b7c1",
        availability_status=AvailabilityStatus.APPROVED,
        unique_id="2.25.42",
        source_id="1.2.208.176.9",
        patient_id=CPR,
        submission_time="20240301110000",
        content_type_code=Code.of("53576-5", "2.16.840.1.113883.6.1", "PHMR"),
        authors=(Author(person="^Holm^Anne"),),
        title=InternationalString.of("Målinger"),
        comments=InternationalString.of("uge 9"),
    )
    listed = submission_set_list(original, ["DocumentReference/a", "List/b"])
    assert listed["id"] == "7d5bb8ac-68ee-4926-85e7-b0f3e1a6b7c1"
    assert listed["date"] == "2024-03-01T11:00:00Z" and listed["source"]["display"] == "Anne Holm"
    assert [e["item"]["reference"] for e in listed["entry"]] == ["DocumentReference/a", "List/b"]
    read_back = submission_set(listed, original.entry_uuid, "List", {}, "20990101000000")
    assert read_back.unique_id == original.unique_id and read_back.source_id == original.source_id
    assert read_back.patient_id == CPR and read_back.submission_time == original.submission_time
    assert read_back.content_type_code == original.content_type_code
    assert (read_back.title, read_back.comments) == (original.title, original.comments)


def test_a_deprecated_empty_folder_is_retired_with_an_empty_reason() -> None:
    original = Folder(
        entry_uuid="urn:uuid:0b9e4c2d-7a61-4f3b-9c55-1d2e3f4a5b6c",
        availability_status=AvailabilityStatus.DEPRECATED,
        unique_id="2.25.7",
        patient_id=CPR,
        codes=(Code.of("001", "1.2.208.184.100.9", "Klinisk rapport"),),
        last_update_time="20240302",
    )
    listed = folder_list(original, [])
    assert listed["status"] == "retired" and "entry" not in listed and listed["emptyReason"]["text"]
    assert listed["code"]["coding"][0]["code"] == "folder" and listed["date"] == "2024-03-02"
    read_back = folder(listed, original.entry_uuid, "List", {})
    assert read_back.codes == original.codes and read_back.unique_id == "2.25.7"
