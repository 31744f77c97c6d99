"""Reading the HSUID header (security.saml.hsuid) and applying it to a system card's Principal."""

from __future__ import annotations

import pytest
from lxml import etree

from hub.core.errors import AuthenticationError
from security import AuthenticationMethod, Principal, PurposeOfUse, Role
from security.saml.hsuid import HSUID_NAMESPACES, apply_hsuid, find_hsuid

SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS = HSUID_NAMESPACES[0]
SYSTEM = Principal(subject="system:EHR", roles=frozenset({Role.SYSTEM}), method=AuthenticationMethod.SAML)


def envelope(*headers: str, body: str = "") -> etree._Element:
    return etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:h="{NS}"><s:Header>{"".join(headers)}</s:Header>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


def header(*attributes: tuple[str, str, str]) -> str:
    inner = "".join(
        f'<h:Attribute Name="{n}" NameFormat="{f}"><h:AttributeValue>{v}</h:AttributeValue></h:Attribute>'
        for n, v, f in attributes
    )
    return (
        f'<h:HsuidHeader><h:Assertion id="HSUID"><h:AttributeStatement id="HSUIDdata">{inner}'
        "</h:AttributeStatement></h:Assertion></h:HsuidHeader>"
    )


PROFESSIONAL = (
    ("nsi:UserType", "nsi:HealthcareProfessional", ""),
    ("nsi:ActingUserCivilRegistrationNumber", "0101701234", ""),
    ("nsi:OrgUsingID", "123456789012", "nsi:sor"),
    ("nsi:ResponsibleUserAuthorizationCode", "bcd12", ""),
)


def test_a_professional_is_added_to_the_system() -> None:
    found = find_hsuid(envelope(header(*PROFESSIONAL, ("nsi:UserType", "nsi:Citizen", ""))))
    assert found is not None and found.value("nsi:UserType") == "nsi:HealthcareProfessional"  # first wins
    acting = apply_hsuid(SYSTEM, found)
    assert acting.roles == {Role.SYSTEM, Role.OTHER_PROFESSIONAL}
    assert (acting.cpr, acting.authorisation_id, acting.organisation_sor) == (
        "0101701234",
        "BCD12",
        "123456789012",
    )
    assert acting.purpose_of_use is PurposeOfUse.TREATMENT and not acting.emergency_override
    override = find_hsuid(envelope(header(*PROFESSIONAL, ("nsi:ConsentOverride", "true", ""))))
    assert override is not None and apply_hsuid(SYSTEM, override).purpose_of_use is PurposeOfUse.EMERGENCY


def test_only_the_envelope_header_counts() -> None:
    assert find_hsuid(envelope()) is None
    assert find_hsuid(envelope(body=header(*PROFESSIONAL))) is None  # in the body: not a header
    with pytest.raises(AuthenticationError, match="more than one"):
        find_hsuid(envelope(header(*PROFESSIONAL), header(*PROFESSIONAL)))


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ((("nsi:ConsentOverride", "yes", ""), *PROFESSIONAL), "true or false"),
        (PROFESSIONAL[:2], "nsi:OrgUsingID"),
        ((("nsi:UserType", "nsi:Citizen", ""),), "act only for themselves"),
        ((("nsi:UserType", "x" * 300, ""),), "too long"),
        (tuple((f"nsi:A{i}", "v", "") for i in range(65)), "more than 64"),
    ],
)
def test_unusable_headers_are_refused(attributes: tuple[tuple[str, str, str], ...], message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        found = find_hsuid(envelope(header(*attributes)))
        assert found is not None
        apply_hsuid(SYSTEM, found)
