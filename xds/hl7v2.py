"""HL7 v2.5 data types used inside XDS metadata values: CX, XCN, XON (ITI TF-3 4.2.3.1.7, Table 4.2.3.1.7-2).

XDS carries these as ``^``-separated components with ``&``-separated subcomponents.  Danish usage
(DANISH-STANDARDS.md §2.3): patientId ``2512489996^^^&1.2.208.176.1.2&ISO`` (CX.1 and CX.4 only),
authorInstitution ``Name^^^^^&1.2.208.176.1.1&ISO^^^^SOR`` (XON.1, XON.6.2, XON.10), authorPerson
``^Family^Given^Middle&Middle2^^^^^^^&ISO``.  Escape sequences (``\\S\\`` …) are kept verbatim: XDS
compares these values as strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.errors import InvalidInputError


class Hl7FormatError(InvalidInputError):
    """A value is not a well-formed HL7 v2 data type; the XDS readers turn it into an XDS metadata error."""


def _components(value: str) -> list[str]:
    return value.split("^")


def _join(components: list[str]) -> str:
    while components and components[-1] == "":
        components.pop()
    return "^".join(components)


def _component(parts: list[str], index: int) -> str:
    return parts[index] if index < len(parts) else ""


@dataclass(frozen=True, slots=True)
class HD:
    """Hierarchic designator ``namespace&universalId&universalIdType`` (as a subcomponent)."""

    namespace_id: str = ""
    universal_id: str = ""
    universal_id_type: str = ""

    @classmethod
    def parse(cls, value: str) -> HD:
        sub = value.split("&")
        if len(sub) > 3:
            raise Hl7FormatError(f"too many HD subcomponents in {value!r}")
        sub += [""] * (3 - len(sub))
        return cls(sub[0], sub[1], sub[2])

    def format(self) -> str:
        if not self.universal_id and not self.universal_id_type:
            return self.namespace_id
        return f"{self.namespace_id}&{self.universal_id}&{self.universal_id_type}"


@dataclass(frozen=True, slots=True)
class CX:
    """Patient identifier ``id^^^&oid&ISO`` (ITI TF-3 4.2.3.1.7: only CX.1 and CX.4 are allowed for
    patientId).  Components 2, 3, 5 and later are kept in ``other`` so a sourcePatientId that carries
    them survives a round trip; :attr:`is_xds_patient_id` says whether the strict XDS form holds."""

    id: str
    assigning_authority: str
    authority_namespace: str = ""
    authority_type: str = "ISO"
    other: tuple[tuple[int, str], ...] = ()

    @classmethod
    def parse(cls, value: str) -> CX:
        """Parse ``id^^^&oid&ISO``; raise :class:`Hl7FormatError` when CX.1 or the CX.4 OID is missing."""
        parts = _components(value.strip())
        ident = parts[0]
        if not ident:
            raise Hl7FormatError(f"CX.1 (id) is empty in {value!r}")
        authority = HD.parse(_component(parts, 3))
        if not authority.universal_id:
            raise Hl7FormatError(f"CX.4.2 (assigning authority OID) is missing in {value!r}")
        other = tuple((i, p) for i, p in enumerate(parts) if i not in (0, 3) and p)
        return cls(
            id=ident,
            assigning_authority=authority.universal_id,
            authority_namespace=authority.namespace_id,
            authority_type=authority.universal_id_type,
            other=other,
        )

    def format(self) -> str:
        size = max([4, *(i + 1 for i, _ in self.other)])
        parts = [""] * size
        parts[0] = self.id
        parts[3] = HD(self.authority_namespace, self.assigning_authority, self.authority_type).format()
        for index, value in self.other:
            parts[index] = value
        return _join(parts)

    @property
    def is_xds_patient_id(self) -> bool:
        """True when only CX.1 and CX.4 (with ``&oid&ISO``) are valued, as ITI TF-3 requires."""
        return not self.other and not self.authority_namespace and self.authority_type == "ISO"

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True, slots=True)
class XCN:
    """Person ``id^family^given^further^suffix^prefix^^^&oid&ISO`` (XCN; ITI TF-3 4.2.3.1.7).

    ``further_given`` holds XCN.4 exactly, e.g. ``Frederik&Ingolf`` for two middle names (DK profile).
    """

    id: str = ""
    family: str = ""
    given: str = ""
    further_given: str = ""
    suffix: str = ""
    prefix: str = ""
    assigning_authority: str = ""

    @classmethod
    def parse(cls, value: str) -> XCN:
        parts = _components(value)
        if not (_component(parts, 0) or _component(parts, 1)):
            raise Hl7FormatError(f"XCN needs XCN.1 (id) or XCN.2 (family name): {value!r}")
        return cls(
            id=_component(parts, 0),
            family=_component(parts, 1),
            given=_component(parts, 2),
            further_given=_component(parts, 3),
            suffix=_component(parts, 4),
            prefix=_component(parts, 5),
            assigning_authority=HD.parse(_component(parts, 8)).universal_id,
        )

    def format(self) -> str:
        authority = HD("", self.assigning_authority, "ISO").format() if self.assigning_authority else ""
        names = [self.family, self.given, self.further_given, self.suffix, self.prefix]
        return _join([self.id, *names, "", "", authority])


@dataclass(frozen=True, slots=True)
class XON:
    """Organisation ``name^^^^^&oid&ISO^^^^id`` (XON.1, XON.6.2, XON.10; ITI TF-3 4.2.3.1.7)."""

    name: str
    assigning_authority: str = ""
    identifier: str = ""

    @classmethod
    def parse(cls, value: str) -> XON:
        parts = _components(value)
        if not _component(parts, 0):
            raise Hl7FormatError(f"XON.1 (organization name) is empty in {value!r}")
        return cls(
            name=parts[0],
            assigning_authority=HD.parse(_component(parts, 5)).universal_id,
            identifier=_component(parts, 9),
        )

    def format(self) -> str:
        if not self.assigning_authority and not self.identifier:
            return self.name
        authority = HD("", self.assigning_authority, "ISO").format() if self.assigning_authority else ""
        return _join([self.name, "", "", "", "", authority, "", "", "", self.identifier])
