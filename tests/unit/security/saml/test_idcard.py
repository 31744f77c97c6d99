"""security.saml.idcard: reading assertions without trust, and the attribute mapping (DGWS and OIOSAML).

The real NemLog-in/OIOSAML assertions in ../shared/testdata/xds/dgws-examples are read in place:
their attributes must map, and their signatures must be REFUSED by a hub that does not trust them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hub.core.errors import AuthenticationError
from security import DevCredentialRequest, DevIssuer, IdCardVerifier, InMemoryReplayCache, PurposeOfUse, Role
from security.saml import IdCardType, principal_from_id_card, read_id_card_untrusted
from tests.conftest import testdata_path

OIOSAML = ("xds", "dgws-examples", "oiosaml-examples")


def test_dev_card_fields(issuer: DevIssuer) -> None:
    card = read_id_card_untrusted(
        issuer.issue_id_card(
            DevCredentialRequest(role=Role.NURSE, purpose=PurposeOfUse.EMERGENCY, reason="akut")
        )
    )
    assert card.assertion_id == "IDCard" and card.card_type is IdCardType.USER
    assert card.value("medcom:UserRole") == "nurse" and card.value("sosi:AuthenticationLevel") == "4"
    provider = card.attribute("medcom:CareProviderID")
    assert provider is not None and provider.name_format == "medcom:sor"
    assert card.not_before is not None and card.not_on_or_after is not None
    assert card.not_on_or_after - card.not_before == timedelta(hours=1)
    p = principal_from_id_card(card)
    assert p.roles == frozenset({Role.NURSE}) and p.emergency_override


def test_unknown_user_role_is_another_professional(make_card: Callable[..., str]) -> None:
    card = read_id_card_untrusted(make_card(role="urn:dk:healthcare:unknown").encode())
    assert principal_from_id_card(card).roles == frozenset({Role.OTHER_PROFESSIONAL})


def test_physician_role_code_7170(make_card: Callable[..., str]) -> None:
    p = principal_from_id_card(read_id_card_untrusted(make_card(role="7170").encode()))
    assert p.roles == frozenset({Role.PHYSICIAN}) and p.it_system == "EPJ" and p.subject == "0101011234"


def test_care_provider_by_cvr_is_not_a_sor(make_card: Callable[..., str]) -> None:
    xml = make_card().replace('NameFormat="medcom:sor"', 'NameFormat="medcom:cvrnumber"')
    card = read_id_card_untrusted(xml.encode())
    assert principal_from_id_card(card, check=False).organisation_sor is None
    with pytest.raises(AuthenticationError, match="SOR"):
        principal_from_id_card(card)


def test_comment_does_not_truncate_a_value_when_reading(make_card: Callable[..., str]) -> None:
    xml = make_card(name_id="0101<!-- c -->011234")
    assert read_id_card_untrusted(xml.encode()).name_id == "0101011234"


def test_xua_style_purpose_element(make_card: Callable[..., str]) -> None:
    extra = (
        '<saml:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"><saml:AttributeValue>'
        '<PurposeOfUse xmlns="urn:hl7-org:v3" code="ETREAT" codeSystem="2.16.840.1.113883.5.8"/>'
        '</saml:AttributeValue></saml:Attribute><saml:Attribute Name="urn:telehub:attribute:override-reason">'
        "<saml:AttributeValue>Hjertestop</saml:AttributeValue></saml:Attribute>"
    )
    p = principal_from_id_card(read_id_card_untrusted(make_card(extra=extra).encode()))
    assert p.purpose_of_use is PurposeOfUse.EMERGENCY and p.override_reason == "Hjertestop"


def test_malformed_instant(make_card: Callable[..., str]) -> None:
    xml = make_card().replace('NotBefore="', 'NotBefore="yesterday', 1)
    with pytest.raises(AuthenticationError, match="malformed xs:dateTime"):
        read_id_card_untrusted(xml.encode())


def test_more_than_one_assertion_is_not_read(make_card: Callable[..., str]) -> None:
    doubled = f"<w>{make_card()}{make_card()}</w>".encode()
    with pytest.raises(AuthenticationError, match="exactly one"):
        read_id_card_untrusted(doubled)


# ------------------------------------------------------------------------- real OIOSAML examples (testdata)


def test_nemlogin_employee_assertion_maps() -> None:
    path = testdata_path(*OIOSAML, "NemLog-in_assertion_valid_signature.xml")
    card = read_id_card_untrusted(path.read_bytes())
    assert card.issuer == "https://saml.test-nemlog-in.dk/"
    assert card.audiences == ("https://saml.sp1.test-nemlog-in.dk/",)
    assert card.card_type is None  # not a DGWS card
    p = principal_from_id_card(card, check=False)
    assert p.cpr == "0205756078" and p.authentication_level == 3
    assert p.roles == frozenset({Role.OTHER_PROFESSIONAL}), "a CVR means an employee certificate"
    assert p.name == "Lakeside Test Læge" and p.token_id == card.assertion_id
    assert p.subject.startswith("C=DK,O=LAKESIDE A/S")


@pytest.mark.parametrize(
    ("name", "cpr"),
    [
        ("test-new-nemlogin-authentication-assertion-1.xml", None),
        ("test-new-nemlogin-authentication-assertion-2.xml", "2408631478"),
    ],
)
def test_nemlogin_employee_assertions(name: str, cpr: str | None) -> None:
    card = read_id_card_untrusted(testdata_path(*OIOSAML, name).read_bytes())
    p = principal_from_id_card(card, check=False)
    assert p.authentication_level == 3 and p.cpr == cpr
    assert p.roles == frozenset({Role.OTHER_PROFESSIONAL})
    with pytest.raises(AuthenticationError, match="SOR"):
        principal_from_id_card(card)  # an OIOSAML employee token names a CVR, never a SOR


def _assertion_files() -> list[Path]:
    folder = testdata_path(*OIOSAML)
    return sorted(p for p in folder.rglob("*.xml") if b"<Assertion" in p.read_bytes()[:4000])


def test_real_assertions_are_refused_as_untrusted(issuer: DevIssuer) -> None:
    files = _assertion_files()
    assert len(files) >= 3
    verifier = IdCardVerifier(
        [issuer.certificate],
        replay_cache=InMemoryReplayCache(),
        clock_skew=timedelta(seconds=60),
        allow_sha1=True,
    )
    for path in files:
        with pytest.raises(AuthenticationError, match="untrusted certificate"):
            verifier.verify(path.read_bytes(), min_auth_level=1)
