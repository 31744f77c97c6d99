"""Reading the parts every ebRIM 3.0 RegistryObject shares: Slot, Name/Description, VersionInfo,
Classification, ExternalIdentifier (ebRIM 3.0 §2.5-2.8; ITI TF-3 4.2.3.1).

:class:`ElementReader` collects XDSRegistryMetadataError findings across a whole message;
:class:`ObjectParts` lets the object readers in :mod:`xds.ebrim_parse` *take* the parts they type, and
hands everything left over back as ``extra_*`` fields so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from lxml import etree

from xds.codes import AvailabilityStatus
from xds.errors import RegistryError, XdsErrorCode, XdsMetadataError
from xds.hl7v2 import CX, Hl7FormatError
from xds.model import (
    Author,
    Classification,
    Code,
    ExternalIdentifier,
    InternationalString,
    LocalizedString,
    Slot,
)
from xds.namespaces import XML, rim

_AUTHOR_SLOTS = (
    "authorPerson",
    "authorInstitution",
    "authorRole",
    "authorSpecialty",
    "authorTelecommunication",
)


_SLOT = rim("Slot")
_VALUE_LIST, _VALUE = rim("ValueList"), rim("Value")
_NAME = rim("Name")
_DESCRIPTION = rim("Description")
_LOCALIZED = rim("LocalizedString")
_CLASSIFICATION = rim("Classification")
_EXTERNAL_IDENTIFIER = rim("ExternalIdentifier")
_LANG = f"{{{XML}}}lang"
_T = TypeVar("_T")


def _split(items: list[_T], wanted: Callable[[_T], bool]) -> tuple[list[_T], list[_T]]:
    """(the items ``wanted`` accepts, the others), both in order.  Never ``list.remove``: it compares with
    ``==``, and these frozen dataclasses compare field by field, nested parts included."""
    taken: list[_T] = []
    kept: list[_T] = []
    for item in items:
        (taken if wanted(item) else kept).append(item)
    return taken, kept


@dataclass(frozen=True, slots=True)
class _Parts:
    slots: tuple[Slot, ...]
    name: InternationalString | None
    description: InternationalString | None
    classifications: list[etree._Element]
    identifiers: list[etree._Element]


class ElementReader:
    """Reads shared ebRIM parts and collects every metadata finding of one message."""

    def __init__(self) -> None:
        self.errors: list[RegistryError] = []

    def error(self, message: str, location: str | None) -> None:
        self.errors.append(RegistryError(XdsErrorCode.XDS_REGISTRY_METADATA_ERROR, message, location or None))

    def raise_if_errors(self, what: str) -> None:
        if self.errors:
            raise XdsMetadataError(f"{what}: {len(self.errors)} metadata error(s)", self.errors)

    # ------------------------------------------------------------------ values

    def cx(self, value: str | None, attribute: str, location: str) -> CX | None:
        if value is None:
            return None
        try:
            return CX.parse(value)
        except Hl7FormatError as exc:
            self.error(f"{attribute}: {exc}", location)
            return None

    def integer(self, value: str, attribute: str, location: str) -> int | None:
        if not value.isascii() or not value.isdigit():
            self.error(f"{attribute} must be a non-negative integer, not {value!r}", location)
            return None
        return int(value)

    # ------------------------------------------------------------------ parts

    def slots(self, parent: etree._Element) -> tuple[Slot, ...]:
        return self._slots(parent, parent.iterchildren(_SLOT))

    def _slots(self, parent: etree._Element, elements: Iterable[etree._Element]) -> tuple[Slot, ...]:
        found: list[Slot] = []
        names: set[str] = set()
        for slot in elements:
            name = slot.get("name")
            if not name:
                self.error("Slot without a name", parent.get("id"))
                continue
            if name in names:
                self.error(f"Slot {name!r} appears more than once", parent.get("id"))
            names.add(name)
            values = tuple(
                (v.text or "")
                for values_list in slot.iterchildren(_VALUE_LIST)
                for v in values_list.iterchildren(_VALUE)
            )
            found.append(Slot(name, values, slot.get("slotType")))
        return tuple(found)

    def _international(self, element: etree._Element | None) -> InternationalString | None:
        if element is None:
            return None
        return InternationalString(
            tuple(
                LocalizedString(s.get("value", ""), s.get(_LANG), s.get("charset"))
                for s in element.iterchildren(_LOCALIZED)
            )
        )

    def parts(self, element: etree._Element) -> _Parts:
        """Slots, Name, Description and nested Classification/ExternalIdentifier elements, in one pass."""
        slots: list[etree._Element] = []
        name = description = None
        classifications: list[etree._Element] = []
        identifiers: list[etree._Element] = []
        for child in element:
            tag = child.tag
            if tag == _SLOT:
                slots.append(child)
            elif tag == _CLASSIFICATION:
                classifications.append(child)
            elif tag == _EXTERNAL_IDENTIFIER:
                identifiers.append(child)
            elif tag == _NAME:
                name = child
            elif tag == _DESCRIPTION:
                description = child
        return _Parts(
            self._slots(element, slots),
            self._international(name),
            self._international(description),
            classifications,
            identifiers,
        )

    def classification(self, element: etree._Element) -> Classification:
        parts = self.parts(element)
        return Classification(
            classification_scheme=element.get("classificationScheme"),
            classification_node=element.get("classificationNode"),
            node_representation=element.get("nodeRepresentation"),
            classified_object=element.get("classifiedObject"),
            id=element.get("id"),
            name=parts.name,
            description=parts.description,
            slots=parts.slots,
        )

    def external_identifier(self, element: etree._Element) -> ExternalIdentifier:
        parts = self.parts(element)
        return ExternalIdentifier(
            identification_scheme=element.get("identificationScheme", ""),
            value=element.get("value", ""),
            registry_object=element.get("registryObject"),
            id=element.get("id"),
            name=parts.name,
            description=parts.description,
            slots=parts.slots,
        )

    def object_parts(self, element: etree._Element, object_id: str) -> ObjectParts:
        return ObjectParts(self, element, object_id)


class ObjectParts:
    """The parts of one RegistryObject; ``take_*`` consumes typed parts, :meth:`extras` returns the rest."""

    def __init__(self, reader: ElementReader, element: etree._Element, object_id: str) -> None:
        self._reader = reader
        self._id = object_id
        self._element = element
        parts = reader.parts(element)
        self._slots = list(parts.slots)
        self._classifications = [reader.classification(c) for c in parts.classifications]
        self._identifiers = [reader.external_identifier(e) for e in parts.identifiers]
        self._identifier_ids: list[tuple[str, str]] = []
        self.name = parts.name
        self.description = parts.description

    def common(self) -> dict[str, Any]:
        """Keyword arguments for the RegistryObject base fields."""
        version = self._element.find(rim("VersionInfo"))
        status_raw = self._element.get("status")
        status = None
        if status_raw is not None:
            try:
                status = AvailabilityStatus(status_raw)
            except ValueError:
                self._reader.error(f"unknown status {status_raw!r}", self._id)
        return {
            "entry_uuid": self._id,
            "logical_id": self._element.get("lid"),
            "version": version.get("versionName") if version is not None else None,
            "version_comment": version.get("comment") if version is not None else None,
            "home_community_id": self._element.get("home"),
            "availability_status": status,
        }

    def extras(self) -> dict[str, Any]:
        """Keyword arguments with every part no ``take_*`` consumed."""
        return {
            "extra_slots": tuple(self._slots),
            "extra_classifications": tuple(self._classifications),
            "extra_external_identifiers": tuple(self._identifiers),
            "identifier_ids": tuple(self._identifier_ids),
        }

    # ------------------------------------------------------------------ slots

    def take_slots(self, *names: str) -> dict[str, str]:
        """Single-valued slots by name; a slot with zero or several values is a metadata error."""
        found: dict[str, str] = {}
        taken, self._slots = _split(self._slots, lambda s: s.name in names)
        for slot in taken:
            if len(slot.values) != 1:
                self._reader.error(f"Slot {slot.name!r} must have exactly one value", self._id)
                continue
            found.setdefault(slot.name, slot.values[0])
        return found

    def take_multi_slots(self, *names: str) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = dict.fromkeys(names, ())
        taken, self._slots = _split(self._slots, lambda s: s.name in names)
        for slot in taken:
            found[slot.name] = found[slot.name] + slot.values
        return found

    # ------------------------------------------------------------------ classifications

    def _take_scheme(self, scheme: str) -> list[Classification]:
        taken, self._classifications = _split(
            self._classifications, lambda c: c.classification_scheme == scheme
        )
        for item in taken:
            if item.classified_object not in (None, "", self._id):
                self._reader.error(
                    f"Classification {item.id or scheme!r} classifies {item.classified_object!r}, "
                    f"not its parent {self._id!r}",
                    self._id,
                )
        return taken

    def take_code(self, scheme: str, attribute: str) -> Code | None:
        codes = self.take_codes(scheme)
        if len(codes) > 1:
            self._reader.error(f"{attribute} appears {len(codes)} times; at most one is allowed", self._id)
        return codes[0] if codes else None

    def take_codes(self, scheme: str) -> tuple[Code, ...]:
        codes: list[Code] = []
        for item in self._take_scheme(scheme):
            if item.node_representation is None:
                self._reader.error(
                    f"coded Classification {item.id or scheme!r} has no nodeRepresentation", self._id
                )
                continue
            coding, slots = _split(list(item.slots), lambda s: s.name == "codingScheme")
            scheme_value = None
            for slot in coding:
                if len(slot.values) != 1:
                    self._reader.error("Slot 'codingScheme' must have exactly one value", self._id)
                else:
                    scheme_value = slot.values[0]
            codes.append(Code(item.node_representation, scheme_value, item.name, item.id, tuple(slots)))
        return tuple(codes)

    def take_authors(self, scheme: str) -> tuple[Author, ...]:
        authors: list[Author] = []
        for item in self._take_scheme(scheme):
            values = {s.name: s.values for s in item.slots if s.name in _AUTHOR_SLOTS}
            person = values.get("authorPerson", ())
            if len(person) > 1:
                self._reader.error("authorPerson must have at most one value", self._id)
            authors.append(
                Author(
                    person=person[0] if person else None,
                    institutions=values.get("authorInstitution", ()),
                    roles=values.get("authorRole", ()),
                    specialties=values.get("authorSpecialty", ()),
                    telecoms=values.get("authorTelecommunication", ()),
                    id=item.id,
                    extra_slots=tuple(s for s in item.slots if s.name not in _AUTHOR_SLOTS),
                )
            )
        return tuple(authors)

    def take_flag_node(self, node: str) -> str | None:
        """Consume a nested Classification by classificationNode: its id ("" without id), or None."""
        taken, self._classifications = _split(self._classifications, lambda c: c.classification_node == node)
        return (taken[0].id or "") if taken else None

    # ------------------------------------------------------------------ external identifiers

    def take_identifier(self, scheme: str) -> str | None:
        taken, self._identifiers = _split(self._identifiers, lambda e: e.identification_scheme == scheme)
        if len(taken) > 1:
            self._reader.error(f"ExternalIdentifier {scheme} appears {len(taken)} times", self._id)
        if not taken:
            return None
        if taken[0].id:
            self._identifier_ids.append((scheme, taken[0].id))
        return taken[0].value
