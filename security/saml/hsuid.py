"""The HSUID header (Healthcare Service User Identification): the user a DGWS *system* ID card acts for.

DDS and the national home-monitoring repository (KIH) take a system ID card (VOCES, level 3) plus the SOAP
header ``hsuid:HsuidHeader`` (DANISH-STANDARDS.md §3.2; namespace ``http://www.nsi.dk/hsuid/2016/08/hsuid-1.1.xsd``,
older clients ``…/2013/01/…``): ``hsuid:Assertion id="HSUID"`` > ``hsuid:AttributeStatement id="HSUIDdata"``
> ``hsuid:Attribute Name=… [NameFormat=…]`` > ``hsuid:AttributeValue``.  Attributes read here:

- ``nsi:UserType``: ``nsi:HealthcareProfessional`` or ``nsi:Citizen``;
- ``nsi:ActingUserCivilRegistrationNumber``: the person at the keyboard;
- ``nsi:CitizenCivilRegistrationNumber`` / ``nsi:CitizenUserRelation``: whose data a citizen reads;
- ``nsi:OrgUsingID`` with ``NameFormat="nsi:sor"``: the organisation the professional acts for;
- ``nsi:ResponsibleUserAuthorizationCode``: the authorised professional responsible for the access;
- ``nsi:ConsentOverride``: ``true`` asks for værdispring (purpose emergency);
- ``nsi:SystemName``: the user system.

The header is not signed: the system card vouches for it.  So it is honoured only on a system card whose
``medcom:CareProviderID`` is configured as trusted (``security.hsuid_trusted_providers``); otherwise the card
stays a plain system card.  What the header asserts passes the same Principal checks as any credential (a
professional needs a SOR organisation, identifiers must be well formed), and a citizen may only act for
themselves.  The override reason comes, as for every door, from ``X-Override-Reason``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lxml import etree

from hub.core.errors import AuthenticationError
from security.principal import Principal, PurposeOfUse, Role, principal_problems

HSUID_NAMESPACES = (
    "http://www.nsi.dk/hsuid/2016/08/hsuid-1.1.xsd",
    "http://www.nsi.dk/hsuid/2013/01/hsuid-1.1.xsd",
)
_SOAP12_HEADER = "{http://www.w3.org/2003/05/soap-envelope}Header"
_SOAP11_HEADER = "{http://schemas.xmlsoap.org/soap/envelope/}Header"
_HEADER_TAGS = frozenset(f"{{{ns}}}HsuidHeader" for ns in HSUID_NAMESPACES)
_MAX_VALUE = 256
_MAX_ATTRIBUTES = 64

USER_TYPE = "nsi:UserType"
ACTING_USER_CPR = "nsi:ActingUserCivilRegistrationNumber"
CITIZEN_CPR = "nsi:CitizenCivilRegistrationNumber"
CITIZEN_RELATION = "nsi:CitizenUserRelation"
ORG_USING_ID = "nsi:OrgUsingID"
RESPONSIBLE_AUTHORISATION = "nsi:ResponsibleUserAuthorizationCode"
CONSENT_OVERRIDE = "nsi:ConsentOverride"
SYSTEM_NAME = "nsi:SystemName"
PROFESSIONAL = "nsi:HealthcareProfessional"
CITIZEN = "nsi:Citizen"
SOR_FORMAT = "nsi:sor"


@dataclass(frozen=True, slots=True)
class HsuidValue:
    value: str
    name_format: str | None


@dataclass(frozen=True, slots=True)
class Hsuid:
    """The attributes of one HSUID header (first value of each name), as written: untrusted."""

    attributes: dict[str, HsuidValue]

    def value(self, name: str) -> str | None:
        found = self.attributes.get(name)
        return found.value if found is not None else None


def find_hsuid(root: etree._Element) -> Hsuid | None:
    """The HSUID header among the children of the envelope's SOAP header (None when there is none); two are
    refused.  Only the envelope's own header counts, never an element deeper in the message."""
    headers = [h for h in root if h.tag in (_SOAP12_HEADER, _SOAP11_HEADER)]
    found = [child for header in headers for child in header if child.tag in _HEADER_TAGS]
    if not found:
        return None
    if len(found) > 1 or len(headers) > 1:
        raise AuthenticationError("more than one HSUID header: refused")
    return _read(found[0])


def _read(header: etree._Element) -> Hsuid:
    namespace = etree.QName(header).namespace
    attributes: dict[str, HsuidValue] = {}
    elements = list(header.iter(f"{{{namespace}}}Attribute"))
    if len(elements) > _MAX_ATTRIBUTES:
        raise AuthenticationError(f"HSUID header has more than {_MAX_ATTRIBUTES} attributes: refused")
    for element in elements:
        name = element.get("Name")
        value = element.findtext(f"{{{namespace}}}AttributeValue")
        if not name or value is None or name in attributes:
            continue  # the first value of a name counts, as for ID cards
        value = value.strip()
        if len(value) > _MAX_VALUE or not value.isprintable():
            raise AuthenticationError(f"HSUID attribute {name[:64]!r} is too long or has control characters")
        attributes[name] = HsuidValue(value, element.get("NameFormat") or None)
    return Hsuid(attributes)


def apply_hsuid(principal: Principal, hsuid: Hsuid) -> Principal:
    """``principal`` (a trusted system card) acting for the user the header names.

    The system role stays (the system may still submit); the user's role is added with the user's
    identifiers.  Raises AuthenticationError when the header names nobody usable.
    """
    user_type = hsuid.value(USER_TYPE)
    acting = hsuid.value(ACTING_USER_CPR)
    system = hsuid.value(SYSTEM_NAME) or principal.it_system
    if user_type == PROFESSIONAL:
        acted = _professional(principal, hsuid, acting, system)
    elif user_type == CITIZEN:
        acted = _citizen(principal, hsuid, acting, system)
    else:
        raise AuthenticationError(f"HSUID {USER_TYPE} must be {PROFESSIONAL} or {CITIZEN}, not {user_type!r}")
    problems = principal_problems(acted)
    if problems:
        raise AuthenticationError("HSUID header refused: " + "; ".join(problems))
    return acted


def _professional(principal: Principal, hsuid: Hsuid, acting: str | None, system: str | None) -> Principal:
    org = hsuid.attributes.get(ORG_USING_ID)
    if org is None or org.name_format != SOR_FORMAT:
        raise AuthenticationError(
            f"HSUID header refused: a professional needs {ORG_USING_ID} with NameFormat {SOR_FORMAT} "
            "(the SOR organisation a consent block can name)"
        )
    override = hsuid.value(CONSENT_OVERRIDE)
    if override not in (None, "true", "false"):
        raise AuthenticationError(f"HSUID {CONSENT_OVERRIDE} must be true or false")
    authorisation = hsuid.value(RESPONSIBLE_AUTHORISATION)
    purpose = PurposeOfUse.EMERGENCY if override == "true" else PurposeOfUse.TREATMENT
    return replace(
        principal,
        roles=principal.roles | {Role.OTHER_PROFESSIONAL},
        cpr=acting,
        authorisation_id=authorisation.upper() if authorisation else None,
        organisation_sor=org.value,
        it_system=system,
        purpose_of_use=purpose,
    )


def _citizen(principal: Principal, hsuid: Hsuid, acting: str | None, system: str | None) -> Principal:
    whose = hsuid.value(CITIZEN_CPR) or acting
    if acting is None or whose != acting:
        relation = hsuid.value(CITIZEN_RELATION) or "none given"
        raise AuthenticationError(
            f"HSUID header refused: a citizen may act only for themselves here (relation: {relation})"
        )
    return replace(principal, roles=principal.roles | {Role.CITIZEN}, cpr=acting, it_system=system)


__all__ = ["HSUID_NAMESPACES", "Hsuid", "apply_hsuid", "find_hsuid"]
