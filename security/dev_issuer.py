"""Dev mode credentials: a local signing key that issues JWTs and DGWS-shaped ID cards for testing.

On first use an RSA-2048 key and a self-signed certificate are written under
``Settings.data_dir / "dev-keys"`` (or the key is read from ``security.dev_key_file``, encrypted
with ``security.dev_key_password`` when set).  In dev mode the Authenticator trusts exactly this
key, so ``telehub dev token`` / ``telehub dev idcard`` output is accepted by the local hub and by
nothing else.  The issuer refuses to exist in production mode.

Tokens carry the flat telehub claims of :mod:`security.jwt_claims`, signed RS256 with a ``kid``
(RFC 7638 thumbprint).  ID cards follow the DGWS 1.0.1 layout (``saml:Assertion id="IDCard"``,
IDCardData / UserLog / SystemLog statements; DANISH-STANDARDS.md §3.1) and are signed with
signxml: enveloped signature, exclusive C14N, rsa-sha256, certificate in KeyInfo.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
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

from hub.core.errors import ConfigurationError
from hub.core.settings import SecurityMode, Settings
from security.principal import (
    PurposeOfUse,
    Role,
    is_valid_authorisation_id,
    is_valid_cpr,
    is_valid_sor,
    override_reason_problem,
)
from security.saml import idcard as names

KEY_DIR_NAME = "dev-keys"
KEY_FILE_NAME = "signing-key.pem"
CERT_FILE_NAME = "signing-cert.pem"
DEV_SAML_ISSUER = "telehub-dev-sts"

DEV_CPR = "0101011234"
DEV_AUTHORISATION_ID = "ZXCVB"
DEV_SOR = "123456789012345"
_DEFAULT_SCOPES = {
    Role.CITIZEN: ("patient/*.rs",),
    Role.PHYSICIAN: ("user/*.rs",),
    Role.NURSE: ("user/*.rs",),
    Role.OTHER_PROFESSIONAL: ("user/*.rs",),
    Role.SYSTEM: ("system/*.cruds",),
    Role.ADMIN: ("user/*.cruds", "system/*.cruds"),
}


@dataclass(frozen=True, slots=True)
class DevCredentialRequest:
    """What a dev credential says; unset identifiers get the role's dev defaults."""

    role: Role
    cpr: str | None = None
    authorisation_id: str | None = None
    sor: str | None = None
    purpose: PurposeOfUse | None = None
    reason: str | None = None
    scopes: tuple[str, ...] = ()
    lifetime: timedelta = timedelta(hours=1)
    subject: str | None = None
    name: str | None = None
    it_system: str = "telehub-dev"
    authentication_level: int = 4
    issued_at: datetime | None = None  # back-date to make an expired credential (tests)
    audience: str | None = None  # None: the configured audience

    def resolved(self) -> DevCredentialRequest:
        """Fill the role's defaults: a citizen gets a CPR, a professional an authorisation id and SOR."""
        role = self.role
        return DevCredentialRequest(
            role=role,
            cpr=self.cpr or (DEV_CPR if role is Role.CITIZEN else None),
            authorisation_id=self.authorisation_id
            or (DEV_AUTHORISATION_ID if role in (Role.PHYSICIAN, Role.NURSE) else None),
            sor=self.sor or (DEV_SOR if role.is_professional else None),
            purpose=self.purpose,
            reason=self.reason,
            scopes=self.scopes or _DEFAULT_SCOPES[role],
            lifetime=self.lifetime,
            subject=self.subject,
            name=self.name,
            it_system=self.it_system,
            authentication_level=self.authentication_level,
            issued_at=self.issued_at,
            audience=self.audience,
        )

    def problems(self) -> list[str]:
        """What the hub would refuse in this request (the CLI reports them instead of issuing)."""
        r = self.resolved()
        found: list[str] = []
        if r.cpr is not None and not is_valid_cpr(r.cpr):
            found.append(f"--cpr {r.cpr!r} is not 10 digits starting with a valid DDMMYY")
        if r.authorisation_id is not None and not is_valid_authorisation_id(r.authorisation_id.upper()):
            found.append(f"--auth-id {r.authorisation_id!r} is not 5 consonants/digits")
        if r.sor is not None and not is_valid_sor(r.sor):
            found.append(f"--sor {r.sor!r} is not 6 to 18 digits")
        if r.reason is not None and (problem := override_reason_problem(r.reason)):
            found.append(f"--reason refused: {problem}")
        if r.reason is not None and r.purpose is not PurposeOfUse.EMERGENCY:
            found.append("--reason is only meaningful with --purpose emergency")
        if r.lifetime <= timedelta(0):
            found.append("--lifetime must be positive")
        return found


class DevIssuer:
    """Issues dev JWTs and ID cards with the local dev key."""

    def __init__(self, settings: Settings) -> None:
        if settings.security.mode is SecurityMode.PRODUCTION:
            raise ConfigurationError("dev credentials are refused in production mode")
        security = settings.security
        self._issuer = security.jwt_issuer
        self._audience = security.jwt_audience
        self._saml_audience = security.saml_audience
        key_dir = settings.data_dir / KEY_DIR_NAME
        secret = security.dev_key_password
        password = secret.get_secret_value().encode() if secret else None
        self._key = _load_or_create_key(security.dev_key_file or key_dir / KEY_FILE_NAME, password)
        self._certificate = _load_or_create_certificate(key_dir / CERT_FILE_NAME, self._key)
        self._jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        self.kid = _thumbprint(self._jwk)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWKS document (what a real issuer would publish)."""
        return {"keys": [{**self._jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def issue_token(self, request: DevCredentialRequest) -> str:
        r = request.resolved()
        issued = r.issued_at or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": r.audience or self._audience,
            "sub": r.subject or _subject(r),
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + r.lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
            "roles": [r.role.value],
            "scope": " ".join(r.scopes),
            "it_system": r.it_system,
            "authentication_level": r.authentication_level,
        }
        optional = {
            "cpr": r.cpr,
            "authorisation_id": r.authorisation_id,
            "sor": r.sor,
            "name": r.name,
            "purpose_of_use": r.purpose.value if r.purpose else None,
            "override_reason": r.reason,
        }
        claims.update({k: v for k, v in optional.items() if v is not None})
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def issue_id_card(self, request: DevCredentialRequest) -> bytes:
        """A signed DGWS-shaped ID card (``saml:Assertion``) as UTF-8 XML bytes."""
        r = request.resolved()
        assertion = _id_card_element(r, r.audience or self._saml_audience, r.issued_at or datetime.now(UTC))
        signer = XMLSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signed = signer.sign(
            assertion, key=self._key, cert=[self._certificate], reference_uri="#IDCard", id_attribute="id"
        )
        return etree.tostring(signed, encoding="UTF-8")


def _subject(r: DevCredentialRequest) -> str:
    if r.role is Role.CITIZEN:
        return f"citizen:{r.cpr}"
    if r.role.is_professional:
        return f"{r.role.value}:{r.authorisation_id or 'unauthorised'}@{r.sor}"
    return f"{r.role.value}:{r.it_system}"


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id_card_element(r: DevCredentialRequest, audience: str | None, issued: datetime) -> etree._Element:
    saml = f"{{{names.SAML_NS}}}"
    nsmap = {"saml": names.SAML_NS, "ds": names.DS_NS}
    assertion = etree.Element(
        f"{saml}Assertion", nsmap=nsmap, IssueInstant=_instant(issued), Version="2.0", id="IDCard"
    )
    etree.SubElement(assertion, f"{saml}Issuer").text = DEV_SAML_ISSUER
    subject = etree.SubElement(assertion, f"{saml}Subject")
    is_user = r.role is not Role.SYSTEM
    name_id = etree.SubElement(
        subject, f"{saml}NameID", Format="medcom:cprnumber" if is_user and r.cpr else "medcom:other"
    )
    name_id.text = r.subject or (r.cpr if is_user and r.cpr else _subject(r))
    conditions = etree.SubElement(
        assertion, f"{saml}Conditions", NotBefore=_instant(issued), NotOnOrAfter=_instant(issued + r.lifetime)
    )
    if audience:
        restriction = etree.SubElement(conditions, f"{saml}AudienceRestriction")
        etree.SubElement(restriction, f"{saml}Audience").text = audience

    def statement(statement_id: str, attributes: list[tuple[str, str | None, str | None]]) -> None:
        element = etree.SubElement(assertion, f"{saml}AttributeStatement", id=statement_id)
        for attr_name, value, name_format in attributes:
            if value is None:
                continue
            attribute = etree.SubElement(element, f"{saml}Attribute", Name=attr_name)
            if name_format:
                attribute.set("NameFormat", name_format)
            etree.SubElement(attribute, f"{saml}AttributeValue").text = value

    statement(
        "IDCardData",
        [
            (names.ATTR_CARD_ID, str(uuid.uuid4()), None),
            ("sosi:IDCardVersion", "1.0.1", None),
            (names.ATTR_CARD_TYPE, "user" if is_user else "system", None),
            (names.ATTR_AUTH_LEVEL, str(r.authentication_level), None),
        ],
    )
    if is_user:
        statement(
            "UserLog",
            [
                (names.ATTR_USER_CPR, r.cpr, None),
                (names.ATTR_USER_GIVEN_NAME, r.name or "Dev", None),
                (names.ATTR_USER_SURNAME, r.role.value, None),
                (names.ATTR_USER_ROLE, r.role.value, None),
                (names.ATTR_USER_AUTHORISATION, r.authorisation_id, None),
                (names.ATTR_PURPOSE, r.purpose.act_reason if r.purpose else None, None),
                (names.ATTR_OVERRIDE_REASON, r.reason, None),
            ],
        )
    statement(
        "SystemLog",
        [
            (names.ATTR_IT_SYSTEM, r.it_system, None),
            (names.ATTR_CARE_PROVIDER_ID, r.sor, names.SOR_NAME_FORMAT),
        ],
    )
    return assertion


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA key."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical.encode())
    return jwt.utils.base64url_encode(digest.finalize()).decode()


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600, so a concurrent first start never reads half a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _load_or_create_key(path: Path, password: bytes | None) -> rsa.RSAPrivateKey:
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=password)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"cannot load the dev signing key {path}: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError(f"the dev signing key {path} must be an RSA key")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    _write_private(
        path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return key


def _load_or_create_certificate(path: Path, key: rsa.RSAPrivateKey) -> x509.Certificate:
    public = key.public_key().public_numbers()
    if path.exists():
        try:
            existing = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load the dev certificate {path}: {exc}") from exc
        existing_key = existing.public_key()
        if isinstance(existing_key, rsa.RSAPublicKey) and existing_key.public_numbers() == public:
            return existing  # otherwise the key was replaced: issue a matching certificate
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "telehub dev issuer (NOT FOR PRODUCTION)")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_private(path, certificate.public_bytes(serialization.Encoding.PEM))
    return certificate
