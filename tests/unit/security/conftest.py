"""Fixtures for security tests: dev issuers (trusted and rogue), a signer for hand-made ID cards, settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from hub.core.settings import SecurityMode, SecuritySettings, Settings
from security import DevIssuer


def make_settings(data_dir: Path, **security: object) -> Settings:
    return Settings(data_dir=data_dir, security=SecuritySettings(**security))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def dev_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev-data")


@pytest.fixture(scope="session")
def dev_settings(dev_dir: Path) -> Settings:
    return make_settings(dev_dir, mode=SecurityMode.DEV)


@pytest.fixture(scope="session")
def issuer(dev_settings: Settings) -> DevIssuer:
    """The trusted dev issuer (its key lives under the session's data_dir)."""
    return DevIssuer(dev_settings)


@pytest.fixture(scope="session")
def rogue_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    """Another dev issuer with its own key: everything it signs must be refused by the trusted side."""
    return DevIssuer(make_settings(tmp_path_factory.mktemp("rogue"), mode=SecurityMode.DEV))


class CardSigner:
    """Signs hand-written assertions with its own key and self-signed certificate (real signatures)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test STS")])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )

    def sign(self, xml: str | bytes, *, reference: str = "#IDCard", id_attribute: str = "id") -> bytes:
        root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
        signer = XMLSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signed = signer.sign(
            root, key=self.key, cert=[self.certificate], reference_uri=reference, id_attribute=id_attribute
        )
        return etree.tostring(signed)


@pytest.fixture(scope="session")
def card_signer() -> CardSigner:
    return CardSigner()


def _instant(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _attribute(name: str, value: str, name_format: str | None = None) -> str:
    fmt = f' NameFormat="{name_format}"' if name_format else ""
    value_element = f"<saml:AttributeValue>{value}</saml:AttributeValue>"
    return f'<saml:Attribute Name="{name}"{fmt}>{value_element}</saml:Attribute>'


def card_xml(
    *,
    card_id: str = "IDCard",
    id_attr: str = "id",
    unique_id: str | None = "card-1",
    name_id: str = "0101011234",
    role: str = "7170",
    card_type: str = "user",
    level: int = 4,
    valid_from: datetime | None = None,
    lifetime: timedelta = timedelta(minutes=30),
    conditions: bool = True,
    extra: str = "",
) -> str:
    """A DGWS-shaped user card (unsigned) with the given fields."""
    start = valid_from or datetime.now(UTC) - timedelta(minutes=1)
    card_data = (
        (_attribute("sosi:IDCardID", unique_id) if unique_id else "")
        + _attribute("sosi:IDCardType", card_type)
        + _attribute("sosi:AuthenticationLevel", str(level))
    )
    user_log = (
        _attribute("medcom:UserRole", role) + _attribute("medcom:UserAuthorizationCode", "ZXCVB") + extra
    )
    system_log = _attribute("medcom:ITSystemName", "EPJ") + _attribute(
        "medcom:CareProviderID", "123456789012345", "medcom:sor"
    )
    parts = [
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"',
        f' IssueInstant="{_instant(start)}" Version="2.0" {id_attr}="{card_id}">',
        "<saml:Issuer>test STS</saml:Issuer>",
        f'<saml:Subject><saml:NameID Format="medcom:cprnumber">{name_id}</saml:NameID></saml:Subject>',
        f'<saml:Conditions NotBefore="{_instant(start)}" NotOnOrAfter="{_instant(start + lifetime)}"/>'
        if conditions
        else "",
        f'<saml:AttributeStatement id="IDCardData">{card_data}</saml:AttributeStatement>',
        f'<saml:AttributeStatement id="UserLog">{user_log}</saml:AttributeStatement>',
        f'<saml:AttributeStatement id="SystemLog">{system_log}</saml:AttributeStatement>',
        "</saml:Assertion>",
    ]
    return "".join(parts)


@pytest.fixture
def make_card() -> Callable[..., str]:
    return card_xml
