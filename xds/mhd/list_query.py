"""MHD ITI-66 List search parameters -> FindSubmissionSets / FindFolders filters (the table is in
:mod:`xds.mhd.list_reads`).  Anything the registry cannot answer is a 400, never silently ignored."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from hub.core.errors import InvalidInputError
from hub.core.registry_query import KeyRange, NameCondition, Selection
from hub.core.search import Criterion, TokenQuery
from hub.fhir import FhirService
from hub.fhir.search import parse_search_request
from xds.codes import AvailabilityStatus
from xds.hl7v2 import CX
from xds.mhd.bundle import LIST_TYPES
from xds.mhd.list_view import RESOURCE
from xds.phmr.document_query import (
    UNSUPPORTED_RESULT_PARAMETERS,
    PatientParameter,
    time_range,
    took_patient,
    updated_range,
)
from xds.phmr.document_reference import code_system_oid, entry_uuid_of, unique_id_of
from xds.phmr.name_search import name_conditions
from xds.stored_queries import QueryCode, TimeRange

_MESSAGE = "TH-LIST-SEARCH"
KINDS = ("submissionset", "folder")
_STATUSES = {"current": AvailabilityStatus.APPROVED, "retired": AvailabilityStatus.DEPRECATED}
NO_PATIENT = CX(id="-", assigning_authority="0")  # the stand-in of a query by identifier only
SEARCH_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("patient", "reference"),
    ("patient.identifier", "token"),
    ("subject", "reference"),
    ("code", "token"),
    ("status", "token"),
    ("date", "date"),
    ("designationType", "token"),
    ("sourceId", "token"),
    ("identifier", "token"),
    ("_id", "token"),
    ("source.given", "string"),
    ("source.family", "string"),
    ("_lastUpdated", "date"),
)


def _bad(message: str, name: str) -> InvalidInputError:
    return InvalidInputError(message, expression=name, message_id=_MESSAGE)


@dataclass(frozen=True, slots=True)
class ListSearch:
    kinds: frozenset[str]
    patient: PatientParameter | None
    statuses: frozenset[AvailabilityStatus]
    dates: TimeRange | None
    designations: tuple[QueryCode, ...]
    source_ids: tuple[str, ...]
    selection: Selection | None
    count: int
    offset: int
    impossible: bool = False
    source_names: tuple[NameCondition, ...] = ()  # source.given / source.family: the SubmissionSet's author
    updated: KeyRange | None = None  # _lastUpdated: when the registry object last changed, epoch µs


def _values(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [v for raw in (value for key, value in params if key == name) for v in raw.split(",") if v]


def _designations(params: Sequence[tuple[str, str]]) -> tuple[QueryCode, ...]:
    codes = []
    for token in _values(params, "designationType"):
        system, sep, code = token.partition("|")
        if not sep or not system or not code:
            raise _bad("designationType: give system|code", "designationType")
        codes.append(QueryCode(code, code_system_oid(system)))
    return tuple(codes)


@dataclass(slots=True)
class _Builder:
    kinds: set[str] = dataclasses.field(default_factory=lambda: set(KINDS))
    patients: list[PatientParameter] = dataclasses.field(default_factory=list)
    statuses: set[AvailabilityStatus] | None = None
    dates: TimeRange | None = None
    entry_uuids: list[str] = dataclasses.field(default_factory=list)
    unique_ids: list[str] = dataclasses.field(default_factory=list)
    updated: KeyRange | None = None

    def add(self, c: Criterion) -> None:
        if took_patient(c, self.patients, _MESSAGE):
            return
        tokens = [v for v in c.values if isinstance(v, TokenQuery) and v.code]
        if c.code == "code":
            if any(t.system not in (None, LIST_TYPES) or t.code not in KINDS for t in tokens):
                raise _bad(f"code: {LIST_TYPES}|submissionset or |folder", c.code)
            self.kinds &= {t.code for t in tokens}
        elif c.code == "status":
            wanted = {_STATUSES[t.code] for t in tokens if t.code in _STATUSES}
            self.statuses = wanted if self.statuses is None else self.statuses & wanted
        elif c.code == "date":
            self.dates = time_range(self.dates, c)
        elif c.code == "_lastUpdated":
            self.updated = updated_range(self.updated, c, _MESSAGE)
        elif c.code in ("identifier", "_id"):
            for token in tokens:
                value = token.code or ""
                if c.code == "_id":
                    self.entry_uuids.append(entry_uuid_of(value))
                elif value.lower().startswith("urn:uuid:"):
                    self.entry_uuids.append(value)
                else:
                    self.unique_ids.append(unique_id_of(token.system, value))
        else:
            raise _bad(f"search parameter {c.code!r} is not supported on the registry view of List", c.code)


def translate(
    fhir: FhirService, params: Sequence[tuple[str, str]], *, default_count: int, max_count: int
) -> ListSearch:
    """Translate a List search (400 for what the registry cannot answer)."""
    own = ("designationType", "sourceId", "_offset")
    names, rest = name_conditions([(n, v) for n, v in params if n not in own], "source", _MESSAGE)
    for name, _ in rest:
        if name.partition(":")[0] in UNSUPPORTED_RESULT_PARAMETERS:
            raise _bad(f"{name} is not supported on the registry view of List", name)
    request = parse_search_request(fhir.indexer.registry, RESOURCE, rest, local_base=fhir.indexer.local_base)
    if request.unknown:
        raise _bad(f"unknown search parameter(s) for List: {', '.join(sorted(request.unknown))}", "List")
    builder = _Builder()
    for criterion in request.criteria:
        builder.add(criterion)
    if len(builder.patients) > 1:
        raise _bad("give one patient", "patient")
    selection = (
        Selection(entry_uuids=tuple(builder.entry_uuids), unique_ids=tuple(builder.unique_ids))
        if builder.entry_uuids or builder.unique_ids
        else None
    )
    if not builder.patients and selection is None:
        raise _bad("a List search needs patient (or patient.identifier), identifier or _id", "patient")
    statuses = builder.statuses if builder.statuses is not None else {AvailabilityStatus.APPROVED}
    offset_text = [v for n, v in params if n == "_offset"]
    try:
        offset = int(offset_text[-1]) if offset_text else 0
    except ValueError as exc:
        raise _bad("_offset must be a whole number", "_offset") from exc
    count = min(request.count if request.count is not None else default_count, max_count)
    return ListSearch(
        kinds=frozenset(builder.kinds),
        patient=builder.patients[0] if builder.patients else None,
        statuses=frozenset(statuses),
        dates=builder.dates,
        designations=_designations(params),
        source_ids=tuple(v.removeprefix("urn:oid:") for v in _values(params, "sourceId")),
        selection=selection,
        count=max(count, 0),
        offset=max(offset, 0),
        impossible=not statuses or not builder.kinds,
        source_names=names,
        updated=builder.updated,
    )


__all__ = ["KINDS", "NO_PATIENT", "SEARCH_PARAMETERS", "ListSearch", "translate"]
