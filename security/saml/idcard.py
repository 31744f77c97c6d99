"""Reading a DGWS/SOSI ID card (a SAML 2.0 assertion) and mapping it to a Principal — NO trust decisions.

DGWS 1.0.1 ID card (DANISH-STANDARDS.md §3.1; the attribute names are the enumeration of
``saml:Attribute/@Name`` in the DGWS ``saml.xsd``): ``saml:Assertion id="IDCard"`` with
AttributeStatements ``IDCardData`` (``sosi:IDCardID``, ``sosi:IDCardType`` user|system,
``sosi:AuthenticationLevel``), ``UserLog`` (``medcom:UserCivilRegistrationNumber``,
``medcom:UserGivenName``, ``medcom:UserSurName``, ``medcom:UserRole``,
``medcom:UserAuthorizationCode``) and ``SystemLog`` (``medcom:ITSystemName``,
``medcom:CareProviderID`` whose NameFormat names the identifier kind).

OIOSAML 2.0 assertions (NemLog-in, DK-SAML-2.0) are mapped too, for the attributes that mean the
same thing: ``dk:gov:saml:attribute:CprNumberIdentifier``, ``…:CvrNumberIdentifier``,
``…:AssuranceLevel``, ``dk:healthcare:saml:attribute:UserAuthorizationCode`` and
``…:ITSystemName``; an OIOSAML subject with a CVR is an employee, without one a citizen.

Optional, not DGWS: purpose of use in the XSPA attribute
``urn:oasis:names:tc:xspa:1.0:subject:purposeofuse`` (text, or an element with ``@code`` as in
IHE XUA) and the override reason in ``urn:telehub:attribute:override-reason``.

Everything here reads whatever element it is given.  Only :mod:`security.saml.verifier` decides
whether that element is trustworthy, and it passes only the signature-verified element.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from hub.core.errors import AuthenticationError
from hub.core.xml_safety import parse_xml
from security.principal import (
    AuthenticationMethod,
    Principal,
    PurposeOfUse,
    Role,
    override_reason_problem,
    parse_purpose,
    principal_problems,
)

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
ASSERTION_TAG = f"{{{SAML_NS}}}Assertion"

ATTR_CARD_ID = "sosi:IDCardID"
ATTR_CARD_TYPE = "sosi:IDCardType"
ATTR_AUTH_LEVEL = "sosi:AuthenticationLevel"
ATTR_USER_CPR = "medcom:UserCivilRegistrationNumber"
ATTR_USER_GIVEN_NAME = "medcom:UserGivenName"
ATTR_USER_SURNAME = "medcom:UserSurName"
ATTR_USER_ROLE = "medcom:UserRole"
ATTR_USER_AUTHORISATION = "medcom:UserAuthorizationCode"
ATTR_CARE_PROVIDER_ID = "medcom:CareProviderID"
ATTR_IT_SYSTEM = "medcom:ITSystemName"
ATTR_PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
ATTR_OVERRIDE_REASON = "urn:telehub:attribute:override-reason"
OIO_CPR = "dk:gov:saml:attribute:CprNumberIdentifier"
OIO_CVR = "dk:gov:saml:attribute:CvrNumberIdentifier"
OIO_ASSURANCE = "dk:gov:saml:attribute:AssuranceLevel"
OIO_COMMON_NAME = "urn:oid:2.5.4.3"
HC_AUTHORISATION = "dk:healthcare:saml:attribute:UserAuthorizationCode"
HC_IT_SYSTEM = "dk:healthcare:saml:attribute:ITSystemName"
# The CareProviderID NameFormat meaning "a SOR code" (DGWS NameFormat enumeration, Seal.net ``sorcode``);
# medcom:cvrnumber / ynumber / skscode identify organisations too, but not by SOR.
SOR_NAME_FORMAT = "medcom:sor"

# medcom:UserRole values: 7170 and PRAKTISERENDE_LAEGE are physicians in SOSI test cards; telehub's
# own role names are accepted for dev cards.  Any other value on a user card is another professional.
_USER_ROLES: dict[str, Role] = {"7170": Role.PHYSICIAN, "PRAKTISERENDE_LAEGE": Role.PHYSICIAN} | {
    r.value: r for r in Role
}
_FRACTION = re.compile(r"(\.\d{6})\d+")


class IdCardType(enum.Enum):
    USER = "user"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class SamlAttribute:
    name: str
    name_format: str | None
    values: tuple[str, ...]
    codes: tuple[str, ...]  # @code of element-valued AttributeValues (XUA PurposeOfUse)


@dataclass(frozen=True, slots=True)
class IdCard:
    """The fields of one assertion, as written — untrusted until the verifier says otherwise."""

    assertion_id: str | None
    issuer: str | None
    issue_instant: datetime | None
    name_id: str | None
    name_id_format: str | None
    not_before: datetime | None
    not_on_or_after: datetime | None
    audiences: tuple[str, ...]
    attributes: tuple[SamlAttribute, ...]

    _by_name: dict[str, SamlAttribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a card is read by about a dozen lookups; the first attribute of a name wins
        index: dict[str, SamlAttribute] = {}
        for a in self.attributes:
            index.setdefault(a.name, a)
        object.__setattr__(self, "_by_name", index)

    def attribute(self, name: str) -> SamlAttribute | None:
        """The first attribute called ``name``."""
        return self._by_name.get(name)

    def value(self, name: str) -> str | None:
        """The first non-empty value of the first attribute called ``name``."""
        attribute = self._by_name.get(name)
        if attribute is None:
            return None
        return next((v for v in attribute.values if v), None)

    @property
    def card_type(self) -> IdCardType | None:
        raw = self.value(ATTR_CARD_TYPE)
        return IdCardType(raw) if raw in ("user", "system") else None


def assertion_id(assertion: etree._Element) -> str | None:
    """DGWS writes ``id``; SAML 2.0 core writes ``ID``.  Both present and different is refused later."""
    value = assertion.get("id") or assertion.get("ID")
    return value.strip() if value else None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    # With children (a comment, say) join all text: a comment must never truncate a value here.
    text = "".join(str(t) for t in element.itertext()) if len(element) else element.text
    return text.strip() if text and text.strip() else None


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError as exc:
        raise AuthenticationError(f"ID card has a malformed xs:dateTime {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


_S = f"{{{SAML_NS}}}"
_ISSUER, _SUBJECT, _NAME_ID, _CONDITIONS = f"{_S}Issuer", f"{_S}Subject", f"{_S}NameID", f"{_S}Conditions"
_AUDIENCE_RESTRICTION, _AUDIENCE = f"{_S}AudienceRestriction", f"{_S}Audience"
_STATEMENT, _ATTRIBUTE, _VALUE = f"{_S}AttributeStatement", f"{_S}Attribute", f"{_S}AttributeValue"


def _attribute(element: etree._Element) -> SamlAttribute:
    values: list[str] = []
    codes: list[str] = []
    for value in element.iterchildren(_VALUE):
        if len(value):  # element content (XUA PurposeOfUse codes), or text split by a comment
            values.append(_text(value) or "")
            codes.extend(c.get("code", "") for c in value.iterchildren(tag=etree.Element))
        else:
            text = value.text
            values.append(text.strip() if text else "")
    return SamlAttribute(
        name=(element.get("Name") or "").strip(),
        name_format=element.get("NameFormat"),
        values=tuple(values),
        codes=tuple(codes),
    )


def read_id_card(assertion: etree._Element) -> IdCard:
    """The fields of ``assertion`` (a ``saml:Assertion`` element); no signature or time checks.

    One pass over the assertion's children (this runs for every SOAP request).
    """
    if assertion.tag != ASSERTION_TAG:
        raise AuthenticationError("expected a SAML 2.0 saml:Assertion element")
    issuer = name_id = name_id_format = None
    not_before = not_on_or_after = None
    audiences: list[str] = []
    attributes: list[SamlAttribute] = []
    for child in assertion:
        tag = child.tag
        if tag == _ISSUER:
            issuer = _text(child)
        elif tag == _SUBJECT:
            found = child.find(_NAME_ID)
            if found is not None:
                name_id, name_id_format = _text(found), found.get("Format")
        elif tag == _CONDITIONS:
            not_before = _instant(child.get("NotBefore"))
            not_on_or_after = _instant(child.get("NotOnOrAfter"))
            for restriction in child.iterchildren(_AUDIENCE_RESTRICTION):
                audiences.extend(t for a in restriction.iterchildren(_AUDIENCE) if (t := _text(a)))
        elif tag == _STATEMENT:
            attributes.extend(_attribute(a) for a in child.iterchildren(_ATTRIBUTE))
    return IdCard(
        assertion_id=assertion_id(assertion),
        issuer=issuer,
        issue_instant=_instant(assertion.get("IssueInstant")),
        name_id=name_id,
        name_id_format=name_id_format,
        not_before=not_before,
        not_on_or_after=not_on_or_after,
        audiences=tuple(audiences),
        attributes=tuple(attributes),
    )


def read_id_card_untrusted(data: bytes) -> IdCard:
    """Parse a document holding exactly one assertion and read it WITHOUT any trust (diagnostics, tests)."""
    root = parse_xml(data)
    found = list(root.iter(ASSERTION_TAG))
    if len(found) != 1:
        raise AuthenticationError(f"expected exactly one SAML assertion, found {len(found)}")
    return read_id_card(found[0])


def principal_from_id_card(card: IdCard, *, check: bool = True) -> Principal:
    """The Principal an ID card describes.

    With ``check`` (the verifier's use) every problem — malformed purpose or reason, and every
    :func:`principal_problems` finding — is collected into one AuthenticationError.  Without it
    (parse-only inspection) unusable values are simply left out.
    """
    problems: list[str] = []
    level = card.value(ATTR_AUTH_LEVEL) or card.value(OIO_ASSURANCE)
    purpose, reason = _purpose(card, problems)
    given, surname = card.value(ATTR_USER_GIVEN_NAME), card.value(ATTR_USER_SURNAME)
    name = " ".join(p for p in (given, surname) if p) or card.value(OIO_COMMON_NAME)
    authorisation = card.value(ATTR_USER_AUTHORISATION) or card.value(HC_AUTHORISATION)
    principal = Principal(
        subject=card.name_id or "",
        roles=_roles(card),
        method=AuthenticationMethod.SAML,
        issuer=card.issuer,
        name=name,
        cpr=card.value(ATTR_USER_CPR) or card.value(OIO_CPR),
        authorisation_id=authorisation.upper() if authorisation else None,
        organisation_sor=_sor(card),
        it_system=card.value(ATTR_IT_SYSTEM) or card.value(HC_IT_SYSTEM),
        scopes=None,
        purpose_of_use=purpose,
        override_reason=reason,
        authentication_level=int(level) if level and level.isdigit() and len(level) <= 2 else None,
        token_id=card.value(ATTR_CARD_ID) or card.assertion_id,
        expires_at=card.not_on_or_after,
    )
    if check:
        problems.extend(principal_problems(principal))
        if problems:
            raise AuthenticationError("ID card refused: " + "; ".join(problems))
    return principal


def _roles(card: IdCard) -> frozenset[Role]:
    card_type = card.card_type
    if card_type is IdCardType.SYSTEM:
        return frozenset({Role.SYSTEM})
    if card_type is IdCardType.USER:
        role = card.value(ATTR_USER_ROLE)
        return frozenset({_USER_ROLES.get(role or "", Role.OTHER_PROFESSIONAL)})
    # OIOSAML: an employee certificate carries the employer's CVR; a citizen's does not.
    if card.value(OIO_CVR):
        return frozenset({Role.OTHER_PROFESSIONAL})
    if card.value(OIO_CPR):
        return frozenset({Role.CITIZEN})
    return frozenset()


def _sor(card: IdCard) -> str | None:
    provider = card.attribute(ATTR_CARE_PROVIDER_ID)
    if provider is None or not provider.values or not provider.values[0]:
        return None
    if provider.name_format is not None and provider.name_format != SOR_NAME_FORMAT:
        return None
    return provider.values[0]


def _purpose(card: IdCard, problems: list[str]) -> tuple[PurposeOfUse | None, str | None]:
    purpose: PurposeOfUse | None = None
    attribute = card.attribute(ATTR_PURPOSE)
    if attribute is not None:
        raw = [v for v in (*attribute.values, *attribute.codes) if v]
        parsed = {parse_purpose(v) for v in raw}
        if len(parsed) == 1 and None not in parsed:
            purpose = parsed.pop()
        else:
            problems.append("purpose of use must be one of treatment/TREAT or emergency/ETREAT")
    reason = card.value(ATTR_OVERRIDE_REASON)
    if reason is not None:
        problem = override_reason_problem(reason)
        if problem:
            problems.append(problem)
            reason = None
    return purpose, reason
