"""FindDocuments, FindSubmissionSets and FindFolders statements are built once per filter shape with named
parameters (hub.storage.registry_search): the parameter names a statement needs are exactly those supplied,
for every kind of filter, and filters that differ only in their values share one statement."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.registry_query import (
    AssociationFilter,
    CodeCondition,
    EntryCodeField,
    EntryFilter,
    FolderFilter,
    KeyRange,
    NameCondition,
    ReferenceKey,
    Selection,
    SubmissionSetFilter,
)
from hub.storage.engines import engine_for_url
from hub.storage.registry_reads import association_statement
from hub.storage.registry_search import entry_params, entry_statement, folder_query, set_query
from hub.storage.search_sql import ConsentBlock

ENGINE = engine_for_url("sqlite+aiosqlite:///unused.db")
BLOCK = ConsentBlock(
    actor_keys=(("authorisation-id", "BCD12"), ("organisation-sor", "123456789012")), now_us=5
)
NAMES_FAMILY = NameCondition("family", ("jens", "hans"))
NAMES_GIVEN = NameCondition("given", ("søren",))
CLASS = ((EntryCodeField.CLASS, CodeCondition(((("001", "1.2.208.184.100.9"),),))),)

FILTERS = [
    EntryFilter(patient_key="2512484916", statuses=("Approved",), codes=CLASS, creation=KeyRange(1, 2)),
    EntryFilter(patient_key="2512484916", service_start=KeyRange(None, 9), service_stop=KeyRange(3, None)),
    EntryFilter(selection=Selection(entry_uuids=("a", "b"), logical_ids=("c",)), latest_only=True),
    EntryFilter(patient_key="1", reference_ids=(("r1", "r2"), ("r3",)), author_patterns=("%Jensen%",)),
    EntryFilter(patient_key="1", author_names=(NAMES_FAMILY, NAMES_GIVEN)),
    EntryFilter(
        patient_key="1",
        updated=KeyRange(4, 8),
        reference_keys=((ReferenceKey("v", "1.2"), ReferenceKey(None, "")), (ReferenceKey("w", None),)),
    ),
    EntryFilter(),
]


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("consent", [None, BLOCK])
def test_the_parameters_supplied_are_the_parameters_named(
    f: EntryFilter, consent: ConsentBlock | None
) -> None:
    statement = entry_statement(ENGINE, f, consent, "find", False)
    key = statement._generate_cache_key()
    assert key is not None
    named = {b.key for b in key.bindparams if not b.key.startswith("%")}  # "%(…)s": anonymous literals
    assert named == set(entry_params(f, consent))
    page = entry_statement(ENGINE, f, consent, "find", False, 11)  # a page: its offset is named too
    assert _named_parameters(page) == set(entry_params(f, consent)) | {"page_offset"}


def test_filters_that_differ_in_values_share_one_statement() -> None:
    first = EntryFilter(patient_key="2512484916", codes=CLASS, creation=KeyRange(1, 2))
    second = EntryFilter(patient_key="0101701234", codes=CLASS, creation=KeyRange(5, 6))
    assert entry_statement(ENGINE, first, BLOCK, "find", True) is entry_statement(
        ENGINE, second, BLOCK, "find", True
    )
    other_code = EntryFilter(
        patient_key="1", codes=((EntryCodeField.CLASS, CodeCondition(((("002", "x"),),))),)
    )
    assert entry_statement(ENGINE, other_code, BLOCK, "find", True) is not entry_statement(
        ENGINE, first, BLOCK, "find", True
    )


def test_names_are_parameters_with_like_wildcards_taken_literally() -> None:
    """Two name searches of one shape share a statement; a ``%`` or ``_`` in a name is a character, not a
    wildcard, and a given name may start any of the given names."""
    one = EntryFilter(patient_key="1", author_names=(NameCondition("given", ("a_b%",)),))
    two = EntryFilter(patient_key="2", author_names=(NameCondition("given", ("x",)),))
    assert entry_statement(ENGINE, one, None, "find", True) is entry_statement(
        ENGINE, two, None, "find", True
    )
    params = entry_params(one, None)
    assert params["author_name_0_0"] == "a\\_b\\%%"
    assert params["author_name_0_0_later"] == "% a\\_b\\%%"


def test_association_filters_that_differ_in_ends_or_patient_share_one_statement() -> None:
    first = AssociationFilter(ends=("a", "b"), types=("HasMember",), patient_key="2512484916")
    second = AssociationFilter(ends=("c",), types=("HasMember",), patient_key="0101701234")
    assert association_statement(first, True) is association_statement(second, True)
    assert association_statement(first, True) is not association_statement(first, False)
    other_type = AssociationFilter(ends=("a",), types=("RPLC",), patient_key="1")
    assert association_statement(other_type, True) is not association_statement(first, True)


CONTENT = CodeCondition(((("53576-5", "2.16.840.1.113883.6.1"),),))
SET_FILTERS = [
    SubmissionSetFilter(patient_key="2512484916", statuses=("Approved",), source_ids=("1.2.3", "1.2.4")),
    SubmissionSetFilter(patient_key="2512484916", submission_time=KeyRange(1, None), content_types=CONTENT),
    SubmissionSetFilter(selection=Selection(entry_uuids=("a",)), author_patterns=("%Jensen%",)),
    SubmissionSetFilter(patient_key="1", author_names=(NAMES_GIVEN,)),
    SubmissionSetFilter(patient_key="1", updated=KeyRange(None, 3)),
]
FOLDER_FILTERS = [
    FolderFilter(patient_key="2512484916", last_update=KeyRange(None, 7), latest_only=True),
    FolderFilter(selection=Selection(unique_ids=("1.2",), logical_ids=("l",)), statuses=("Approved",)),
    FolderFilter(patient_key="1", updated=KeyRange(2, None)),
]


def _named_parameters(statement: Any) -> set[str]:
    key = statement._generate_cache_key()
    assert key is not None
    return {b.key for b in key.bindparams if not b.key.startswith("%")}  # "%(…)s": anonymous literals


@pytest.mark.parametrize("consent", [None, BLOCK])
def test_submission_set_and_folder_parameters_are_the_ones_named(consent: ConsentBlock | None) -> None:
    for f in SET_FILTERS:
        statement, params = set_query(ENGINE, f, consent, True, None)
        assert _named_parameters(statement) == set(params), f
        for kind in ("count", "withheld"):
            statement, params = set_query(ENGINE, f, None, False, None, kind=kind)
            assert _named_parameters(statement) - set(params) <= {
                "consent_auth",
                "consent_sor",
                "consent_now",
            }
    for g in FOLDER_FILTERS:
        statement, params = folder_query(g, consent, False, 11)
        assert _named_parameters(statement) == set(params), g


def test_submission_set_and_folder_filters_that_differ_in_values_share_one_statement() -> None:
    first = SubmissionSetFilter(
        patient_key="2512484916", source_ids=("1.2.3",), submission_time=KeyRange(1, 2)
    )
    second = SubmissionSetFilter(
        patient_key="0101701234", source_ids=("9.9",), submission_time=KeyRange(5, 6)
    )
    (one, p1), (two, p2) = (
        set_query(ENGINE, first, BLOCK, True, None),
        set_query(ENGINE, second, BLOCK, True, None),
    )
    assert one is two and p1 != p2
    folders = [
        FolderFilter(patient_key=k, last_update=KeyRange(k_low, None)) for k, k_low in (("1", 3), ("2", 4))
    ]
    assert folder_query(folders[0], None, True, None)[0] is folder_query(folders[1], None, True, None)[0]
    assert folder_query(folders[0], BLOCK, True, None)[0] is not folder_query(folders[0], None, True, None)[0]
