"""FHIR DocumentReference search parameters -> the registry's FindDocuments query (MHD ITI-67 on XDS).

IHE MHD ITI-67 (ITI TF-2 3.67.4.1.2.1) maps FHIR search parameters onto ITI-18 FindDocuments (ITI TF-2a
3.18.4.1.2.3.7.1); FUT's Document-Query service offers the same list (DANISH-STANDARDS.md §4.3):

===================================  ==================================================================
FHIR parameter                       FindDocuments parameter
===================================  ==================================================================
patient, subject                     $XDSDocumentEntryPatientId: ``Patient/<id>`` (the hub Patient's
                                     CPR, or the id itself when no such Patient exists - the hub's
                                     patient-key rule), ``:identifier=system|value``, or the chain
                                     ``patient.identifier=system|value``
status                               $XDSDocumentEntryStatus: current=Approved, superseded=Deprecated;
                                     default ``current`` (FindDocuments requires a status)
date (alias creation)                $XDSDocumentEntryCreationTimeFrom/To (``ge gt le lt eq``)
period                               ``ge``/``gt`` -> ServiceStopTimeFrom, ``le``/``lt`` ->
                                     ServiceStartTimeTo, ``eq`` -> both (a service inside the range)
type / category / format             TypeCode / ClassCode / FormatCode
facility / setting / event           HealthcareFacilityTypeCode / PracticeSettingCode / EventCodeList
security-label                       ConfidentialityCode
identifier, _id                      uniqueId or entryUUID (GetDocuments semantics), alone or combined
author.given, author.family          the authorPerson's given / family name starts with the value (case
                                     and accents ignored; :mod:`xds.phmr.name_search`)
_lastUpdated                         when the registry entry last changed (registered, status changed by
                                     RPLC / ITI-57, ...): ``meta.lastUpdated`` (``eq ge gt le lt``)
related:identifier                   referenceIdList (FindDocumentsByReferenceId): a referenceId whose CX.1
                                     is the value and whose CX.4 is the system (``urn:oid:`` stripped; no
                                     system: any; ``|value``: none); its type (CX.5) is not compared
_count, _offset                      page size (capped by ``max_page_size``) and start
===================================  ==================================================================

Comma-separated values are OR-ed and repeated parameters AND-ed, as in FHIR and as the stored query does
with repeated code slots.  A time parameter takes one value per occurrence (FindDocuments has one range).
A token without a system gets the Danish XDS code system of its parameter (classCode
``1.2.208.184.100.9``, formatCode ``1.2.208.184.100.10``, SNOMED CT for facility and setting, LOINC for
type).  FHIR dates without a zone are taken as UTC.  Anything else the registry cannot answer is a 400.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.core.errors import InvalidInputError
from hub.core.registry_query import EntryFilter, KeyRange, NameCondition, ReferenceKey, Selection
from hub.core.search import Criterion, DateQuery, Modifier, Prefix, ReferenceQuery, TokenQuery
from hub.fhir.search import SearchParameterRegistry, parse_search_request
from xds.codes import AvailabilityStatus, DocumentEntryType
from xds.hl7v2 import CX
from xds.phmr.document_reference import CPR_OID, code_system_oid, entry_uuid_of, unique_id_of
from xds.phmr.name_search import name_conditions
from xds.services.query_filters import find_documents_filter
from xds.stored_queries import CodeFilter, FindDocumentsQuery, QueryCode, TimeRange

RESOURCE = "DocumentReference"
_MESSAGE = "TH-DOCREF-SEARCH"
_STATUSES = {"current": AvailabilityStatus.APPROVED, "superseded": AvailabilityStatus.DEPRECATED}
_FIELDS = {
    "type": "type_codes",
    "category": "class_codes",
    "format": "format_codes",
    "facility": "healthcare_facility_type_codes",
    "setting": "practice_setting_codes",
    "event": "event_codes",
    "security-label": "confidentiality_codes",
}
SEARCH_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("patient", "reference"),
    ("patient.identifier", "token"),  # the chain, listed as IHE's DocumentResponder lists it
    ("subject", "reference"),
    ("identifier", "token"),
    ("_id", "token"),
    ("status", "token"),
    ("date", "date"),
    ("creation", "date"),
    ("period", "date"),
    *((code, "token") for code in _FIELDS),
    ("author.given", "string"),
    ("author.family", "string"),
    ("_lastUpdated", "date"),
    ("related", "reference"),
)
"""The parameters the registry view answers (name, FHIR search type), for the CapabilityStatement."""

_DEFAULT_SCHEMES = {
    "type": "2.16.840.1.113883.6.1",
    "category": "1.2.208.184.100.9",
    "format": "1.2.208.184.100.10",
    "facility": "2.16.840.1.113883.6.96",
    "setting": "2.16.840.1.113883.6.96",
    "security-label": "2.16.840.1.113883.5.25",
}
_DOCUMENTATION = {
    "related": "related:identifier=[system|]value only: a referenceId (referenceIdList) whose CX.1 is the "
    "value and whose assigning authority is the system; the referenceId's type is not compared",
}
UNSUPPORTED_RESULT_PARAMETERS = ("_sort", "_include", "_revinclude", "_elements", "_summary")
"""Result parameters the registry views refuse (a 400, never silently ignored)."""
# A stand-in patient for queries by identifier only; its key is dropped from the storage filter.
_NO_PATIENT = CX(id="-", assigning_authority="0")


class PatientSource(enum.Enum):
    IDENTIFIER = "identifier"  # the CX is given
    RESOURCE = "resource"  # a hub Patient id, resolved to its CPR inside the read transaction


@dataclass(frozen=True, slots=True)
class PatientParameter:
    source: PatientSource
    cx: CX | None = None
    patient_id: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentSearch:
    """A translated search: the FindDocuments spec (without patient when the patient is a hub id),
    identifier selections, paging, and the parameters that were ignored."""

    query: FindDocumentsQuery
    patient: PatientParameter | None
    selection: Selection | None
    count: int
    offset: int
    ignored: tuple[str, ...] = ()
    impossible: bool = False  # a status no registry entry can have (e.g. entered-in-error)
    author_names: tuple[NameCondition, ...] = ()
    updated: KeyRange | None = None  # _lastUpdated, epoch µs
    related: tuple[tuple[ReferenceKey, ...], ...] = ()  # related:identifier, AND of OR

    def entry_filter(self, patient: CX | None) -> EntryFilter:
        """The storage filter, once the patient is known (None: selection by identifier only)."""
        query = dataclasses.replace(self.query, patient_id=patient) if patient is not None else self.query
        f = find_documents_filter(query)
        if patient is None:
            f = dataclasses.replace(f, patient_key=None)
        if self.selection is not None:
            f = dataclasses.replace(f, selection=self.selection)
        if self.author_names:
            f = dataclasses.replace(f, author_names=self.author_names)
        if self.updated is not None:
            f = dataclasses.replace(f, updated=self.updated)
        if self.related:
            f = dataclasses.replace(f, reference_keys=self.related)
        return f


def _bad(message: str, name: str) -> InvalidInputError:
    return InvalidInputError(message, expression=name, message_id=_MESSAGE)


def _cx(system: str | None, value: str | None, name: str) -> CX:
    if not value:
        raise _bad(f"{name}: a patient identifier needs a value", name)
    authority = code_system_oid(system) if system else CPR_OID
    return CX(id=value, assigning_authority=authority)


def patient_parameters(c: Criterion) -> list[PatientParameter]:
    """The patients a ``patient``/``subject`` criterion names (``Patient/<id>``, ``:identifier``, or the chain
    ``.identifier``); anything else is a 400."""
    found = []
    if c.chain is not None:
        chained = c.chain
        if chained.code != "identifier" or chained.modifier is not Modifier.NONE:
            raise _bad(f"{c.code}: only the chain {c.code}.identifier is supported", c.code)
        for token in chained.values:
            if not isinstance(token, TokenQuery):
                raise _bad(f"{c.code}.identifier: give system|value", c.code)
            found.append(PatientParameter(PatientSource.IDENTIFIER, _cx(token.system, token.code, c.code)))
        return found
    for value in c.values:
        if isinstance(value, ReferenceQuery) and c.modifier is Modifier.IDENTIFIER:
            cx = _cx(value.identifier_system, value.identifier_value, c.code)
            found.append(PatientParameter(PatientSource.IDENTIFIER, cx))
        elif isinstance(value, ReferenceQuery) and value.target_id and value.target_type in ("Patient", None):
            found.append(PatientParameter(PatientSource.RESOURCE, patient_id=value.target_id))
        else:
            raise _bad(f"{c.code}: give Patient/<id>, :identifier=system|value or .identifier", c.code)
    return found


def took_patient(c: Criterion, patients: list[PatientParameter], message_id: str) -> bool:
    """What every registry view does first with a criterion: a ``patient``/``subject`` one goes to
    ``patients`` (True); any other with a modifier is a 400 (the registry has no modifiers)."""
    if c.code in ("patient", "subject"):
        patients.extend(patient_parameters(c))
        return True
    if c.modifier is not Modifier.NONE:
        raise InvalidInputError(
            f"{c.code}:{c.modifier.value} is not supported on the registry view",
            expression=c.code,
            message_id=message_id,
        )
    return False


def _codes(c: Criterion) -> tuple[QueryCode, ...]:
    out = []
    for value in c.values:
        if not isinstance(value, TokenQuery) or not value.code:
            raise _bad(f"{c.code}: give [system|]code", c.code)
        system = code_system_oid(value.system) if value.system else _DEFAULT_SCHEMES.get(c.code)
        if not system:
            raise _bad(f"{c.code}: the code {value.code!r} needs its system (system|code)", c.code)
        out.append(QueryCode(value.code, system))
    return tuple(out)


def _dtm(epoch_us: int) -> str:
    return datetime.fromtimestamp(epoch_us // 1_000_000, UTC).strftime("%Y%m%d%H%M%S")


def _bounds(c: Criterion) -> tuple[Prefix, int, int]:
    if len(c.values) != 1 or not isinstance(c.values[0], DateQuery):
        raise _bad(f"{c.code}: one date per parameter (repeat the parameter for a range)", c.code)
    q = c.values[0]
    if q.prefix not in (Prefix.EQ, Prefix.GE, Prefix.GT, Prefix.LE, Prefix.LT):
        raise _bad(f"{c.code}: the prefix {q.prefix.value} is not supported (eq, ge, gt, le, lt)", c.code)
    # whole seconds: DTM has second precision; the end of a closed range is the next second
    return q.prefix, q.start // 1_000_000 * 1_000_000, q.end // 1_000_000 * 1_000_000 + 1_000_000


def _narrow(current: TimeRange | None, low: int | None, high: int | None) -> TimeRange:
    old_low = current.from_key if current else None
    old_high = current.to_key if current else None
    lows = [v for v in (old_low, int(_dtm(low)) if low is not None else None) if v is not None]
    highs = [v for v in (old_high, int(_dtm(high)) if high is not None else None) if v is not None]
    return TimeRange(str(max(lows)) if lows else None, str(min(highs)) if highs else None)


@dataclass(slots=True)
class _Builder:
    statuses: set[AvailabilityStatus] | None = None
    impossible: bool = False
    creation: TimeRange | None = None
    start: TimeRange | None = None
    stop: TimeRange | None = None
    codes: dict[str, list[tuple[QueryCode, ...]]] = dataclasses.field(default_factory=dict)
    entry_uuids: list[str] = dataclasses.field(default_factory=list)
    unique_ids: list[str] = dataclasses.field(default_factory=list)
    patients: list[PatientParameter] = dataclasses.field(default_factory=list)
    selected: bool = False  # identifier / _id given (once: repeating would mean AND of different ids)
    updated: KeyRange | None = None
    related: list[tuple[ReferenceKey, ...]] = dataclasses.field(default_factory=list)

    def add(self, c: Criterion) -> None:
        if c.code == "related":
            self.related.append(_reference_keys(c))
            return
        if took_patient(c, self.patients, _MESSAGE):
            return
        if c.code in _FIELDS:
            self.codes.setdefault(c.code, []).append(_codes(c))
        elif c.code == "status":
            self._status(c)
        elif c.code == "date":
            self.creation = time_range(self.creation, c)
        elif c.code == "period":
            self._period(c)
        elif c.code == "_lastUpdated":
            self.updated = updated_range(self.updated, c, _MESSAGE)
        elif c.code in ("identifier", "_id") and self.selected:
            raise _bad("give identifier or _id once (alternatives comma-separated)", c.code)
        elif c.code == "identifier":
            self.selected = True
            self._identifier(c)
        elif c.code == "_id":
            self.selected = True
            self.entry_uuids.extend(
                entry_uuid_of(v.code) for v in c.values if isinstance(v, TokenQuery) and v.code
            )
        else:
            raise _bad(f"search parameter {c.code!r} is not supported on the registry view", c.code)

    def _status(self, c: Criterion) -> None:
        wanted = {_STATUSES[v.code] for v in c.values if isinstance(v, TokenQuery) and v.code in _STATUSES}
        self.statuses = wanted if self.statuses is None else self.statuses & wanted
        if not self.statuses:
            self.impossible = True  # e.g. entered-in-error: the registry has no such entries

    def _period(self, c: Criterion) -> None:
        prefix, low, high = _bounds(c)
        if prefix in (Prefix.GE, Prefix.GT):
            self.stop = _narrow(self.stop, low if prefix is Prefix.GE else high, None)
        elif prefix in (Prefix.LE, Prefix.LT):
            self.start = _narrow(self.start, None, high if prefix is Prefix.LE else low)
        else:
            self.start = _narrow(self.start, low, None)
            self.stop = _narrow(self.stop, None, high)

    def _identifier(self, c: Criterion) -> None:
        for value in c.values:
            if not isinstance(value, TokenQuery) or not value.code:
                raise _bad("identifier: give [system|]value", c.code)
            if value.code.lower().startswith("urn:uuid:"):
                self.entry_uuids.append(value.code)
            else:
                self.unique_ids.append(unique_id_of(value.system, value.code))


def _reference_keys(c: Criterion) -> tuple[ReferenceKey, ...]:
    """The referenceIds a ``related:identifier`` criterion names (its values OR-ed)."""
    if c.modifier is not Modifier.IDENTIFIER:
        raise _bad(
            "related: give related:identifier=[system|]value (a referenceId is an identifier, no reference)",
            c.code,
        )
    keys = []
    for value in c.values:
        if not isinstance(value, ReferenceQuery):
            raise _bad("related:identifier: give [system|]value", c.code)
        system = value.identifier_system
        authority = code_system_oid(system) if system else system  # None: any system, "": none
        keys.append(ReferenceKey(value.identifier_value, authority))
    return tuple(keys)


def _range(prefix: Prefix, low: int, high: int) -> tuple[int | None, int | None]:
    """[from, to) of a creationTime comparison on whole seconds (``high`` is exclusive)."""
    match prefix:
        case Prefix.GE:
            return low, None
        case Prefix.GT:
            return high, None
        case Prefix.LE:
            return None, high
        case Prefix.LT:
            return None, low
        case _:
            return low, high


def time_range(current: TimeRange | None, c: Criterion) -> TimeRange:
    """``current`` (a DTM range) narrowed by one date criterion (prefix eq, ge, gt, le or lt)."""
    prefix, low, high = _bounds(c)
    return _narrow(current, *_range(prefix, low, high))


def updated_range(current: KeyRange | None, c: Criterion, message_id: str) -> KeyRange:
    """``current`` (epoch µs, high exclusive) narrowed by one ``_lastUpdated`` criterion.  The change time
    is an instant: ``eq`` means inside the value's precision (``2026-11-26`` is that whole day), ``ge``/``lt``
    compare with the start of the value, ``gt``/``le`` with its end, as FHIR date search does."""
    if len(c.values) != 1 or not isinstance(c.values[0], DateQuery):
        raise InvalidInputError(
            f"{c.code}: one date per parameter (repeat the parameter for a range)",
            expression=c.code,
            message_id=message_id,
        )
    q = c.values[0]
    low: int | None
    high: int | None
    match q.prefix:
        case Prefix.EQ:
            low, high = q.start, q.end + 1
        case Prefix.GE:
            low, high = q.start, None
        case Prefix.GT:
            low, high = q.end + 1, None
        case Prefix.LE:
            low, high = None, q.end + 1
        case Prefix.LT:
            low, high = None, q.start
        case _:
            raise InvalidInputError(
                f"{c.code}: the prefix {q.prefix.value} is not supported (eq, ge, gt, le, lt)",
                expression=c.code,
                message_id=message_id,
            )
    lows = [v for v in (current.low if current else None, low) if v is not None]
    highs = [v for v in (current.high if current else None, high) if v is not None]
    return KeyRange(max(lows) if lows else None, min(highs) if highs else None)


def translate(
    registry: SearchParameterRegistry,
    params: Sequence[tuple[str, str]],
    *,
    default_count: int,
    max_count: int,
    local_base: str | None = None,
) -> DocumentSearch:
    """Translate a DocumentReference search (raises 400 for what the registry cannot answer)."""
    offset_text = [v for n, v in params if n == "_offset"]
    # MHD 4's ``creation`` is not an R4 parameter: it means what ``date`` means here (creationTime)
    rest = [("date" if n == "creation" else n, v) for n, v in params if n not in ("_offset", "_total")]
    names, rest = name_conditions(rest, "author", _MESSAGE)
    for name, _ in rest:
        if name.partition(":")[0] in UNSUPPORTED_RESULT_PARAMETERS:
            raise _bad(f"{name} is not supported on the registry view of DocumentReference", name)
    request = parse_search_request(registry, RESOURCE, rest, local_base=local_base)
    builder = _Builder()
    for criterion in request.criteria:
        builder.add(criterion)
    if len(builder.patients) > 1:
        raise _bad("give one patient (FindDocuments is a single-patient query)", "patient")
    patient = builder.patients[0] if builder.patients else None
    selection = (
        Selection(entry_uuids=tuple(builder.entry_uuids), unique_ids=tuple(builder.unique_ids))
        if builder.entry_uuids or builder.unique_ids
        else None
    )
    if patient is None and selection is None:
        raise _bad(
            "a DocumentReference search needs patient (or patient.identifier), identifier or _id", "patient"
        )
    default_status = {AvailabilityStatus.APPROVED} if selection is None else set(AvailabilityStatus)
    statuses = builder.statuses if builder.statuses is not None else default_status
    codes = {
        field: CodeFilter(tuple(groups)) for code, groups in builder.codes.items() if (field := _FIELDS[code])
    }
    query = FindDocumentsQuery(
        patient_id=patient.cx if patient is not None and patient.cx is not None else _NO_PATIENT,
        statuses=frozenset(statuses),
        object_types=frozenset(DocumentEntryType),
        creation_time=builder.creation,
        service_start_time=builder.start,
        service_stop_time=builder.stop,
        **codes,  # type: ignore[arg-type]
    )
    count = min(request.count if request.count is not None else default_count, max_count)
    try:
        offset = int(offset_text[-1]) if offset_text else 0
    except ValueError as exc:
        raise _bad("_offset must be a whole number", "_offset") from exc
    return DocumentSearch(
        query=query,
        patient=patient,
        selection=selection,
        count=max(count, 0),
        offset=max(offset, 0),
        ignored=request.unknown,
        impossible=builder.impossible,
        author_names=names,
        updated=builder.updated,
        related=tuple(builder.related),
    )


def registry_view_entry(
    resource_type: str,
    parameters: Sequence[tuple[str, str]],
    documentation: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The CapabilityStatement ``rest.resource`` entry of a read-only view of the registry (read, search);
    ``documentation`` says what a parameter's name and type cannot (e.g. the only modifier answered)."""
    notes = documentation or {}
    return {
        "type": resource_type,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [
            {"name": name, "type": kind, **({"documentation": notes[name]} if name in notes else {})}
            for name, kind in parameters
        ],
    }


def capability_entries() -> list[dict[str, object]]:
    """CapabilityStatement ``rest.resource`` entries of the registry view: DocumentReference (MHD ITI-67
    Document Responder: read and search) and Binary (ITI-68: read of the document bytes)."""
    return [
        registry_view_entry("DocumentReference", SEARCH_PARAMETERS, _DOCUMENTATION),
        {
            "type": "Binary",
            "interaction": [{"code": "read"}],
            "versioning": "no-version",
            "readHistory": False,
        },
    ]


__all__ = [
    "SEARCH_PARAMETERS",
    "UNSUPPORTED_RESULT_PARAMETERS",
    "DocumentSearch",
    "PatientParameter",
    "PatientSource",
    "capability_entries",
    "patient_parameters",
    "registry_view_entry",
    "time_range",
    "took_patient",
    "translate",
    "updated_range",
]
