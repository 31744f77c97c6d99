"""Registry SQL on both engines: inserts, the FindDocuments filter semantics in SQL (codes AND/OR, time
ranges, case-sensitive LIKE, referenceIds), consent inside the query, updates, deletes, repository rows."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hub.core.registry_query import (
    AssociationFilter,
    AssociationRow,
    CodeCondition,
    EntryCodeField,
    EntryCodeList,
    EntryFilter,
    EntryRow,
    FolderFilter,
    FolderRow,
    KeyRange,
    ObjectHeader,
    ObjectKind,
    ObjectUpdate,
    ReferenceKey,
    RegistryWrite,
    RepositoryDocument,
    Selection,
    StoredObject,
    SubmissionSetFilter,
    SubmissionSetRow,
)
from hub.storage import (
    ConsentBlock,
    Database,
    associations_txn,
    count_submission_sets_txn,
    delete_objects_txn,
    entries_by_unique_id_txn,
    find_entries_txn,
    find_folders_txn,
    find_submission_sets_txn,
    insert_registry_txn,
    insert_repository_documents_txn,
    known_patient_keys_txn,
    latest_by_logical_id_txn,
    objects_by_uuid_txn,
    packages_by_unique_id_txn,
    repository_documents_txn,
    update_objects_txn,
    withheld_entries_exist_txn,
    withheld_folders_exist_txn,
    withheld_sets_exist_txn,
)
from tests.xds_calls import block_organisation

P1, P2 = "2512489996", "0101010101"
INSERTED_US, LATER_US = 1_700_000_000_000_000, 1_700_000_100_000_000
ORDER = "ORD-7^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order"
CLASS = ("001", "1.2.208.184.100.9")
OTHER_CLASS = ("002", "1.2.208.184.100.9")


def header(
    uuid: str, patient: str | None, *, status: str = "Approved", lid: str | None = None
) -> ObjectHeader:
    return ObjectHeader(uuid, lid or uuid, 1, status, patient, f"<x id='{uuid}'/>".encode())


def entry(
    uuid: str,
    patient: str,
    *,
    code: tuple[str, str] = CLASS,
    created: int = 20240312081500,
    authors: Sequence[str] = ("^Jensen^Jens^^^^^^^&ISO",),
    events: Sequence[tuple[str, str]] = (("ALAL21", "1.2.208.176.2.4"),),
    refs: Sequence[str] = (),
    status: str = "Approved",
) -> EntryRow:
    return EntryRow(
        header=header(uuid, patient, status=status),
        unique_id=f"2.25.{abs(hash(uuid))}",
        object_type="stable",
        codes=((EntryCodeField.CLASS, *code), (EntryCodeField.TYPE, "53576-5", "2.16.840.1.113883.6.1")),
        code_lists=(
            *((EntryCodeList.EVENT, c, s) for c, s in events),
            (EntryCodeList.CONFIDENTIALITY, "N", "2.16.840.1.113883.5.25"),
        ),
        creation_key=created,
        authors=tuple(authors),
        reference_ids=tuple(refs),
        mime_type="text/xml",
    )


async def load(db: Database, write: RegistryWrite) -> None:
    await db.run_write("test_insert", insert_registry_txn, write, INSERTED_US)


async def find(db: Database, f: EntryFilter, consent: ConsentBlock | None = None) -> list[str]:
    found: list[StoredObject] = await db.run("test_find", find_entries_txn, db.engine, f, consent=consent)
    return [o.entry_uuid for o in found]


@pytest.fixture
async def registry(database: Database) -> Database:
    await load(
        database,
        RegistryWrite(
            entries=(
                entry("urn:uuid:a", P1, refs=(ORDER, "plain-id")),
                entry("urn:uuid:b", P1, code=OTHER_CLASS, created=20230101000000, authors=("^Hansen^Hans",)),
                entry("urn:uuid:c", P1, created=20240601120000, events=(), refs=("ref-1^^^&1.2.3&ISO",)),
                entry("urn:uuid:d", P2),
                entry("urn:uuid:e", P1, status="Deprecated"),
            ),
            submission_sets=(
                SubmissionSetRow(
                    header(f"urn:uuid:ss{P1}", P1),
                    unique_id="2.25.1",
                    source_id="1.2.3",
                    submission_key=20240312090000,
                    content_type=("53576-5", "2.16.840.1.113883.6.1"),
                    authors=("^Jensen^Jens",),
                ),
            ),
            folders=(
                FolderRow(
                    header("urn:uuid:f", P1),
                    unique_id="2.25.2",
                    last_update_key=20240312090000,
                    codes=(CLASS,),
                ),
            ),
            associations=(
                AssociationRow(header("urn:uuid:as1", P1), "HasMember", f"urn:uuid:ss{P1}", "urn:uuid:a"),
                AssociationRow(header("urn:uuid:as2", P1), "HasMember", "urn:uuid:f", "urn:uuid:a"),
            ),
        ),
    )
    return database


async def test_find_documents_by_patient_status_and_code(registry: Database) -> None:
    base = EntryFilter(patient_key=P1, statuses=("Approved",), object_types=("stable",))
    assert await find(registry, base) == ["urn:uuid:a", "urn:uuid:b", "urn:uuid:c"]
    by_class = EntryFilter(
        patient_key=P1,
        statuses=("Approved",),
        codes=((EntryCodeField.CLASS, CodeCondition(((CLASS,),))),),
        creation=KeyRange(20240101000000, 20250101000000),
    )
    assert await find(registry, by_class) == ["urn:uuid:a", "urn:uuid:c"]
    # OR within a parameter; AND across repeated parameters (a single-valued code cannot match both)
    either = CodeCondition(((CLASS, OTHER_CLASS),))
    both = CodeCondition(((CLASS,), (OTHER_CLASS,)))
    assert (
        len(await find(registry, EntryFilter(patient_key=P1, codes=((EntryCodeField.CLASS, either),)))) == 4
    )
    assert await find(registry, EntryFilter(patient_key=P1, codes=((EntryCodeField.CLASS, both),))) == []
    wrong_scheme = CodeCondition(((("001", "9.9.9"),),))
    assert (
        await find(registry, EntryFilter(patient_key=P1, codes=((EntryCodeField.CLASS, wrong_scheme),))) == []
    )


async def test_time_range_bounds_and_missing_values(registry: Database) -> None:
    exact = EntryFilter(patient_key=P1, creation=KeyRange(20240312081500, 20240312081501))
    assert await find(registry, exact) == ["urn:uuid:a", "urn:uuid:e"]
    upper_exclusive = EntryFilter(patient_key=P1, creation=KeyRange(None, 20240312081500))
    assert await find(registry, upper_exclusive) == ["urn:uuid:b"]
    no_service_time = EntryFilter(patient_key=P1, service_start=KeyRange(None, None))
    assert await find(registry, no_service_time) == []


async def test_code_lists_and_reference_ids(registry: Database) -> None:
    event = CodeCondition(((("ALAL21", "1.2.208.176.2.4"),),))
    assert await find(
        registry,
        EntryFilter(patient_key=P1, statuses=("Approved",), code_lists=((EntryCodeList.EVENT, event),)),
    ) == [
        "urn:uuid:a",
        "urn:uuid:b",
    ]
    conf_and_event = (
        (EntryCodeList.EVENT, event),
        (EntryCodeList.CONFIDENTIALITY, CodeCondition(((("N", "2.16.840.1.113883.5.25"),),))),
    )
    assert await find(registry, EntryFilter(patient_key=P2, code_lists=conf_and_event)) == ["urn:uuid:d"]
    refs = EntryFilter(patient_key=P1, reference_ids=(("ref-1^^^&1.2.3&ISO", "other"),))
    assert await find(registry, refs) == ["urn:uuid:c"]


@pytest.mark.parametrize(
    ("alternatives", "expected"),
    [
        ((("ref-1", "1.2.3"),), ["urn:uuid:c"]),
        ((("ref-1", None),), ["urn:uuid:c"]),  # any authority
        ((("ORD-7", "1.2.3"),), ["urn:uuid:a"]),  # the CXi's type (CX.5) is not compared
        (((None, "1.2.3"),), ["urn:uuid:a", "urn:uuid:c"]),  # any value of that authority
        ((("plain-id", ""),), ["urn:uuid:a"]),  # "": a referenceId without authority
        ((("ref-1", ""),), []),
        ((("ref-1", "9.9"),), []),
        ((("ref-1", "1.2.3"), ("ORD-7", "1.2.3")), ["urn:uuid:a", "urn:uuid:c"]),  # alternatives: OR
    ],
)
async def test_reference_keys(
    registry: Database, alternatives: tuple[tuple[str | None, str | None], ...], expected: list[str]
) -> None:
    """MHD related:identifier: CX.1 and the CX.4 universal id of each referenceId (revision 0009)."""
    keys = (tuple(ReferenceKey(*k) for k in alternatives),)
    assert await find(registry, EntryFilter(patient_key=P1, reference_keys=keys)) == expected


async def test_reference_key_groups_are_and_ed(registry: Database) -> None:
    both = ((ReferenceKey("ORD-7", "1.2.3"),), (ReferenceKey("plain-id", None),))
    assert await find(registry, EntryFilter(patient_key=P1, reference_keys=both)) == ["urn:uuid:a"]
    crossed = ((ReferenceKey("ORD-7", None),), (ReferenceKey("ref-1", None),))
    assert await find(registry, EntryFilter(patient_key=P1, reference_keys=crossed)) == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("%Jensen%", ["urn:uuid:a", "urn:uuid:c"]),
        ("%jensen%", []),  # case-sensitive on both engines (SQLite LIKE is not: GLOB is used)
        ("^_ansen%", ["urn:uuid:b"]),
        ("^Jensen^Jens^^^^^^^&ISO", ["urn:uuid:a", "urn:uuid:c"]),
        ("*Jensen*", []),  # GLOB metacharacters in a LIKE pattern are literal
        ("[J]ensen%", []),
    ],
)
async def test_author_like_is_case_sensitive(registry: Database, pattern: str, expected: list[str]) -> None:
    f = EntryFilter(patient_key=P1, statuses=("Approved",), author_patterns=(pattern,))
    assert await find(registry, f) == expected


async def test_consent_is_enforced_inside_the_query(registry: Database) -> None:
    await block_organisation(registry, P1, "123456")
    blocked = ConsentBlock(actor_keys=(("everyone", "*"), ("organisation-sor", "123456")), now_us=10)
    other = ConsentBlock(actor_keys=(("everyone", "*"), ("organisation-sor", "999")), now_us=10)
    everyone_p1 = EntryFilter(patient_key=P1, statuses=("Approved",))
    assert await find(registry, everyone_p1, blocked) == []
    assert await find(registry, everyone_p1, other) == ["urn:uuid:a", "urn:uuid:b", "urn:uuid:c"]
    assert await find(registry, EntryFilter(statuses=("Approved",)), blocked) == ["urn:uuid:d"]
    assert await registry.run("w", withheld_entries_exist_txn, registry.engine, everyone_p1, blocked)
    assert not await registry.run("w", withheld_entries_exist_txn, registry.engine, everyone_p1, other)
    sets = await registry.run(
        "s", find_submission_sets_txn, registry.engine, SubmissionSetFilter(patient_key=P1), consent=blocked
    )
    folders = await registry.run("f", find_folders_txn, FolderFilter(patient_key=P1), consent=blocked)
    links = await registry.run("a", associations_txn, AssociationFilter(("urn:uuid:a",)), consent=blocked)
    assert sets == [] and folders == [] and links == []
    set_filter, folder_filter = SubmissionSetFilter(patient_key=P1), FolderFilter(patient_key=P1)
    assert (
        await registry.run("c", count_submission_sets_txn, registry.engine, set_filter, consent=blocked) == 0
    )
    assert await registry.run("c", count_submission_sets_txn, registry.engine, set_filter, consent=other) == 1
    assert await registry.run("w", withheld_sets_exist_txn, registry.engine, set_filter, blocked)
    assert not await registry.run("w", withheld_sets_exist_txn, registry.engine, set_filter, other)
    assert await registry.run("w", withheld_folders_exist_txn, folder_filter, blocked)
    assert not await registry.run("w", withheld_folders_exist_txn, folder_filter, other)


async def test_pages_are_cut_in_sql(registry: Database) -> None:
    """A page is ``limit`` rows after ``offset`` in the database (oldest first): deep pages read no more."""

    async def page(limit: int, offset: int) -> list[str]:
        f = EntryFilter(patient_key=P1)
        found = await registry.run("p", find_entries_txn, registry.engine, f, limit=limit, offset=offset)
        return [o.entry_uuid for o in found]

    assert await page(2, 0) == ["urn:uuid:a", "urn:uuid:b"]
    assert await page(2, 2) == ["urn:uuid:c", "urn:uuid:e"]
    assert await page(2, 4) == []
    sets = await registry.run(
        "s", find_submission_sets_txn, registry.engine, SubmissionSetFilter(patient_key=P1), limit=5, offset=1
    )
    folders = await registry.run("f", find_folders_txn, FolderFilter(patient_key=P1), limit=1, offset=0)
    assert sets == [] and [f.entry_uuid for f in folders] == ["urn:uuid:f"]
    assert await registry.run("c", count_submission_sets_txn, registry.engine, SubmissionSetFilter()) == 1


async def test_packages_and_associations(registry: Database) -> None:
    sets = await registry.run(
        "s",
        find_submission_sets_txn,
        registry.engine,
        SubmissionSetFilter(
            patient_key=P1,
            source_ids=("1.2.3",),
            submission_time=KeyRange(20240312000000, None),
            author_patterns=("%Jens",),
            content_types=CodeCondition(((("53576-5", "2.16.840.1.113883.6.1"),),)),
        ),
    )
    assert [s.entry_uuid for s in sets] == [f"urn:uuid:ss{P1}"]
    folders = await registry.run(
        "f", find_folders_txn, FolderFilter(patient_key=P1, codes=CodeCondition(((CLASS,),)))
    )
    assert [f.entry_uuid for f in folders] == ["urn:uuid:f"]
    to_a = await registry.run("a", associations_txn, AssociationFilter(("urn:uuid:a",), targets_only=True))
    assert [a.entry_uuid for a in to_a] == ["urn:uuid:as1", "urn:uuid:as2"]
    from_folder = await registry.run(
        "a", associations_txn, AssociationFilter(("urn:uuid:f",), sources_only=True)
    )
    assert [(a.source, a.target, a.association_type) for a in from_folder] == [
        ("urn:uuid:f", "urn:uuid:a", "HasMember")
    ]
    both = await registry.run(
        "a", associations_txn, AssociationFilter(("urn:uuid:f", "urn:uuid:a"), both_ends=True)
    )
    assert [a.entry_uuid for a in both] == ["urn:uuid:as2"]
    packages = await registry.run("p", packages_by_unique_id_txn, ["2.25.1", "2.25.2", "nope"])
    assert sorted(p.kind.value for p in packages) == ["folder", "submission-set"]


async def test_lookups_updates_and_deletes(registry: Database) -> None:
    mixed = await registry.run(
        "o", objects_by_uuid_txn, ["urn:uuid:a", "urn:uuid:f", "urn:uuid:as1", "urn:uuid:x"]
    )
    assert {(o.kind, o.entry_uuid) for o in mixed} == {
        (ObjectKind.DOCUMENT_ENTRY, "urn:uuid:a"),
        (ObjectKind.FOLDER, "urn:uuid:f"),
        (ObjectKind.ASSOCIATION, "urn:uuid:as1"),
    }
    assert next(o for o in mixed if o.entry_uuid == "urn:uuid:a").header.ebrim == b"<x id='urn:uuid:a'/>"
    changed = await registry.run_write(
        "u",
        update_objects_txn,
        [
            ObjectUpdate(
                ObjectKind.DOCUMENT_ENTRY, "urn:uuid:a", status="Deprecated", ebrim=b"<new/>", latest=False
            ),
            ObjectUpdate(ObjectKind.FOLDER, "urn:uuid:f", last_update_key=20250101000000),
            ObjectUpdate(ObjectKind.DOCUMENT_ENTRY, "urn:uuid:b"),  # nothing to change: not stamped
        ],
        LATER_US,
    )
    assert changed == 2
    stamped = await registry.run("o", objects_by_uuid_txn, ["urn:uuid:a", "urn:uuid:b", "urn:uuid:f"])
    assert {o.entry_uuid: o.header.updated_us for o in stamped} == {
        "urn:uuid:a": LATER_US,
        "urn:uuid:b": INSERTED_US,
        "urn:uuid:f": LATER_US,
    }
    since = KeyRange(LATER_US, None)
    assert await find(registry, EntryFilter(updated=since)) == ["urn:uuid:a"]
    before = EntryFilter(patient_key=P1, statuses=("Approved",), updated=KeyRange(None, LATER_US))
    assert await find(registry, before) == ["urn:uuid:b", "urn:uuid:c"]
    touched = await registry.run("f", find_folders_txn, FolderFilter(updated=since))
    assert [f.entry_uuid for f in touched] == ["urn:uuid:f"]
    unchanged = SubmissionSetFilter(updated=since)
    assert await registry.run("s", find_submission_sets_txn, registry.engine, unchanged) == []
    assert await find(registry, EntryFilter(patient_key=P1, statuses=("Approved",))) == [
        "urn:uuid:b",
        "urn:uuid:c",
    ]
    assert await latest_by_logical_id_txn_of(registry, "urn:uuid:a") == []
    later = FolderFilter(patient_key=P1, last_update=KeyRange(20241231000000, None))
    assert [f.entry_uuid for f in await registry.run("f", find_folders_txn, later)] == ["urn:uuid:f"]
    deleted = await registry.run_write("d", delete_objects_txn, {ObjectKind.DOCUMENT_ENTRY: ["urn:uuid:c"]})
    assert deleted == 1
    assert await registry.run("u", entries_by_unique_id_txn, [f"2.25.{abs(hash('urn:uuid:c'))}"]) == []


async def latest_by_logical_id_txn_of(db: Database, lid: str) -> list[StoredObject]:
    result: list[StoredObject] = await db.run("l", latest_by_logical_id_txn, [lid])
    return result


async def test_selection_and_latest_only(registry: Database) -> None:
    picked = EntryFilter(selection=Selection(entry_uuids=("urn:uuid:a", "urn:uuid:d"), unique_ids=("none",)))
    assert await find(registry, picked) == ["urn:uuid:a", "urn:uuid:d"]
    assert await find(registry, EntryFilter(selection=Selection())) == []
    assert len(await find(registry, EntryFilter(latest_only=True))) == 5


async def test_repository_rows_and_known_patients(database: Database) -> None:
    row = RepositoryDocument("2.25.9", "1.2.3", "text/xml", "a" * 40, "b" * 64, 12, P1, 5)
    await database.run_write("r", insert_repository_documents_txn, database.engine, [row, row])
    other = RepositoryDocument("2.25.9", "1.2.3", "text/plain", "c" * 40, "d" * 64, 1, P1, 6)
    # a later row for a stored uniqueId is skipped: the first row stays
    await database.run_write("r", insert_repository_documents_txn, database.engine, [other])
    found = await database.run("r", repository_documents_txn, ["2.25.9", "2.25.10"])
    assert found == {"2.25.9": row}
    assert await database.run("r", repository_documents_txn, ["2.25.9"], patient_key=P2) == {}
    assert await database.run("k", known_patient_keys_txn, [P1, P2]) == set()


@pytest.mark.parametrize(
    ("entries", "events"),
    [(3, 8), (20, 1), (1, 40)],
    ids=["small parents, children copied", "parents copied", "one entry, many codes"],
)
async def test_keys_are_reserved_and_parents_go_before_children(
    database: Database, entries: int, events: int
) -> None:
    """A submission's rows go in one multi-table insert with reserved keys; on PostgreSQL batches of 16+ rows
    use COPY, which must still come after the parent rows its foreign keys point at."""
    codes = tuple((f"E{n}", "1.2.208.176.2.4") for n in range(events))
    first = tuple(entry(f"urn:uuid:k{n}", P1, events=codes) for n in range(entries))
    await load(database, RegistryWrite(entries=first))
    await load(database, RegistryWrite(entries=(entry("urn:uuid:later", P1),)))
    last_event = CodeCondition(((codes[-1],),))
    f = EntryFilter(patient_key=P1, statuses=("Approved",), code_lists=((EntryCodeList.EVENT, last_event),))
    assert sorted(await find(database, f)) == sorted(e.header.entry_uuid for e in first)
    later = await find(database, EntryFilter(patient_key=P1, statuses=("Approved",)))
    assert "urn:uuid:later" in later and len(later) == entries + 1
