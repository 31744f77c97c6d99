"""Reading stored-query parameters from ``rim:Slot`` elements with all error findings collected.

ITI TF-2a 3.18.4.1.2.3.7 (parameter tables) and 3.18.4.1.3 (error codes):

- a required parameter that is absent -> XDSStoredQueryMissingParam;
- a single-valued parameter with several values, a parameter repeated where AND semantics are not
  defined, or both/neither of two alternative parameters -> XDSStoredQueryParamNumber;
- a value that does not parse (syntax, CX, DTM, code, unknown status/type) -> XDSRegistryError.

Parameters a query does not define are ignored (ebRS 3.0 §6.3.2.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lxml import etree

from xds.codes import AssociationType, AvailabilityStatus, DocumentEntryType
from xds.dtm import is_dtm
from xds.errors import RegistryError, XdsErrorCode
from xds.hl7v2 import CX, Hl7FormatError
from xds.namespaces import rim
from xds.stored_queries.spec import APPROVED_ONLY, STABLE_ONLY, ObjectSelector
from xds.stored_queries.values import (
    CodeFilter,
    LikePatterns,
    QueryCode,
    TimeRange,
    ValueFilter,
    ValueSyntaxError,
    parse_value,
)

_T = TypeVar("_T")
_E = TypeVar("_E", AvailabilityStatus, DocumentEntryType, AssociationType)


class QueryParams:
    """The slots of one AdhocQuery, read lazily by typed getters that record findings in :attr:`errors`."""

    def __init__(self, adhoc_query: etree._Element) -> None:
        self.errors: list[RegistryError] = []
        self._slots: dict[str, list[list[str]]] = {}
        for slot in adhoc_query.iterchildren(rim("Slot")):
            name = slot.get("name", "")
            values: list[str] = []
            for value in slot.iterfind(f"{rim('ValueList')}/{rim('Value')}"):
                try:
                    values.extend(parse_value(value.text or ""))
                except ValueSyntaxError as exc:
                    self._error(XdsErrorCode.XDS_REGISTRY_ERROR, str(exc), name)
            self._slots.setdefault(name, []).append(values)

    def _error(self, code: XdsErrorCode, message: str, name: str) -> None:
        self.errors.append(RegistryError(code, message, name))

    def has(self, name: str) -> bool:
        return name in self._slots

    def _missing(self, name: str) -> None:
        self._error(
            XdsErrorCode.XDS_STORED_QUERY_MISSING_PARAM, f"required parameter {name} is missing", name
        )

    def _number(self, name: str, message: str) -> None:
        self._error(XdsErrorCode.XDS_STORED_QUERY_PARAM_NUMBER, f"{name}: {message}", name)

    # ------------------------------------------------------------------ raw shapes

    def single(self, name: str, *, required: bool = False) -> str | None:
        occurrences = self._slots.get(name)
        if not occurrences:
            if required:
                self._missing(name)
            return None
        values = [v for occurrence in occurrences for v in occurrence]
        if len(occurrences) > 1 or len(values) != 1:
            self._number(name, f"takes exactly one value, got {len(values)}")
            return None
        return values[0]

    def multi(self, name: str, *, required: bool = False) -> tuple[str, ...]:
        occurrences = self._slots.get(name)
        if not occurrences:
            if required:
                self._missing(name)
            return ()
        if len(occurrences) > 1:
            self._number(name, "may appear only once (AND semantics are not defined for it)")
        values = tuple(occurrences[0])
        if not values:
            self._number(name, "has no value")
        return values

    def and_or(self, name: str, *, required: bool = False) -> tuple[tuple[str, ...], ...]:
        occurrences = self._slots.get(name)
        if not occurrences:
            if required:
                self._missing(name)
            return ()
        if any(not o for o in occurrences):
            self._number(name, "has an occurrence without values")
        return tuple(tuple(o) for o in occurrences if o)

    # ------------------------------------------------------------------ typed values

    def patient(self, name: str) -> CX | None:
        value = self.single(name, required=True)
        if value is None:
            return None
        try:
            return CX.parse(value)
        except Hl7FormatError as exc:
            self._error(XdsErrorCode.XDS_REGISTRY_ERROR, f"{name}: {exc}", name)
            return None

    def _enum_set(self, kind: type[_E], name: str, values: tuple[str, ...]) -> frozenset[_E]:
        found: set[_E] = set()
        for value in values:
            try:
                found.add(kind(value))
            except ValueError:
                self._error(XdsErrorCode.XDS_REGISTRY_ERROR, f"{name}: unknown value {value!r}", name)
        return frozenset(found)

    def statuses(self, name: str, *, required: bool = True) -> frozenset[AvailabilityStatus]:
        return self._enum_set(AvailabilityStatus, name, self.multi(name, required=required))

    def association_statuses(self) -> frozenset[AvailabilityStatus]:
        name = "$XDSAssociationStatus"
        return self.statuses(name, required=False) if self.has(name) else APPROVED_ONLY

    def object_types(self, name: str = "$XDSDocumentEntryType") -> frozenset[DocumentEntryType]:
        return self._enum_set(DocumentEntryType, name, self.multi(name)) if self.has(name) else STABLE_ONLY

    def association_types(self, name: str) -> frozenset[AssociationType]:
        return self._enum_set(AssociationType, name, self.multi(name, required=True))

    def codes(self, name: str) -> CodeFilter | None:
        groups = self._convert_groups(name, QueryCode.parse)
        return CodeFilter(groups) if groups else None

    def value_filter(self, name: str, *, required: bool = False) -> ValueFilter | None:
        groups = self.and_or(name, required=required)
        return ValueFilter(groups) if groups else None

    def _convert_groups(self, name: str, convert: Callable[[str], _T]) -> tuple[tuple[_T, ...], ...]:
        groups: list[tuple[_T, ...]] = []
        for group in self.and_or(name):
            converted: list[_T] = []
            for value in group:
                try:
                    converted.append(convert(value))
                except ValueSyntaxError as exc:
                    self._error(XdsErrorCode.XDS_REGISTRY_ERROR, f"{name}: {exc}", name)
            groups.append(tuple(converted))
        return tuple(groups)

    def time_range(self, prefix: str) -> TimeRange | None:
        bounds: list[str | None] = []
        for suffix in ("From", "To"):
            name = prefix + suffix
            value = self.single(name)
            if value is not None and not is_dtm(value):
                self._error(XdsErrorCode.XDS_REGISTRY_ERROR, f"{name}: {value!r} is not a DTM time", name)
                value = None
            bounds.append(value)
        low, high = bounds
        return TimeRange(low, high) if low is not None or high is not None else None

    def like(self, name: str, *, single: bool = False) -> LikePatterns | None:
        if single:
            value = self.single(name)
            return LikePatterns((value,)) if value is not None else None
        values = self.multi(name)
        return LikePatterns(values) if values else None

    def selector(
        self, uuid_name: str, unique_name: str, logical_name: str | None = None, *, one: bool
    ) -> ObjectSelector:
        """Exactly one of the alternative parameters (``one``: and exactly one value)."""
        names = [n for n in (uuid_name, unique_name, logical_name) if n is not None]
        given = [n for n in names if self.has(n)]
        if not given:
            self._missing(" or ".join(names))
            return ObjectSelector()
        if len(given) > 1:
            self._number(" / ".join(given), "only one of these parameters may be given")
            return ObjectSelector()
        name = given[0]
        if one:
            value = self.single(name)
            values: tuple[str, ...] = (value,) if value is not None else ()
        else:
            values = self.multi(name)
        if name == uuid_name:
            return ObjectSelector(entry_uuids=values)
        if name == unique_name:
            return ObjectSelector(unique_ids=values)
        return ObjectSelector(logical_ids=values)

    def metadata_level(self) -> int:
        value = self.single("$MetadataLevel")
        if value is None:
            return 1
        if value not in ("1", "2"):
            self._error(
                XdsErrorCode.XDS_REGISTRY_METADATA_ERROR,
                f"$MetadataLevel must be 1 or 2, not {value!r}",
                "$MetadataLevel",
            )
            return 1
        return int(value)
