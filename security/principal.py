"""The Principal: who is calling, on whose behalf, and why — one value built by every door.

Both authentication paths end here: an OAuth2 JWT bearer token (REST, SMART App Launch v2
https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html, IHE IUA ITI-72) and a
DGWS/SOSI ID card (SOAP, DGWS 1.0.1; DANISH-STANDARDS.md §3.1).  Authorisation, consent and
audit read only this value, never the token.

Identifier formats (DK Core identifier profiles, DANISH-STANDARDS.md §4.1):
CPR ``urn:oid:1.2.208.176.1.2`` — 10 digits, the first six a valid DDMMYY (no modulus-11 check);
authorisation id ``https://autregweb.sst.dk`` — 5 characters, consonants (incl. y) and digits;
SOR ``urn:oid:1.2.208.176.1.1`` — digits.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime

from security.scopes import SmartScope

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
AUTHORISATION_SYSTEM = "https://autregweb.sst.dk"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"

_CPR = re.compile(r"^(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}\d{4}$")
# DK Core AuthorizationIdentifier: five characters from consonants (incl. y) and digits.
_AUTHORISATION_ID = re.compile(r"^[0-9BCDFGHJKLMNPQRSTVWXYZ]{5}$")
_SOR = re.compile(r"^\d{6,18}$")


class Role(enum.Enum):
    """What the caller is; one table in ``security.authorization`` says what each may do."""

    CITIZEN = "citizen"
    PHYSICIAN = "physician"
    NURSE = "nurse"
    OTHER_PROFESSIONAL = "other_professional"
    SYSTEM = "system"
    ADMIN = "admin"

    @property
    def is_professional(self) -> bool:
        return self in _PROFESSIONALS


_PROFESSIONALS = frozenset({Role.PHYSICIAN, Role.NURSE, Role.OTHER_PROFESSIONAL})


class PurposeOfUse(enum.Enum):
    """Why data is accessed (HL7 v3 ActReason TREAT / ETREAT); emergency is værdispring."""

    TREATMENT = "treatment"
    EMERGENCY = "emergency"

    @property
    def act_reason(self) -> str:
        """The code in http://terminology.hl7.org/CodeSystem/v3-ActReason."""
        return "TREAT" if self is PurposeOfUse.TREATMENT else "ETREAT"


# Spellings accepted from tokens, ID cards and headers: our own names and the v3 ActReason codes (IUA/XUA).
_PURPOSE_ALIASES = {
    "treatment": PurposeOfUse.TREATMENT,
    "treat": PurposeOfUse.TREATMENT,
    "emergency": PurposeOfUse.EMERGENCY,
    "etreat": PurposeOfUse.EMERGENCY,
    "btg": PurposeOfUse.EMERGENCY,
}


def parse_purpose(value: str) -> PurposeOfUse | None:
    """``treatment``/``TREAT`` or ``emergency``/``ETREAT``/``BTG`` (case-insensitive); None if unknown."""
    return _PURPOSE_ALIASES.get(value.strip().lower())


class AuthenticationMethod(enum.Enum):
    JWT = "jwt"
    SAML = "saml"
    OPEN = "open"


MAX_OVERRIDE_REASON_CHARS = 500


def override_reason_problem(value: str) -> str | None:
    """Why ``value`` cannot be an override reason (None if it can); it is audited and shown to citizens."""
    if len(value) > MAX_OVERRIDE_REASON_CHARS:
        return f"override reason is longer than {MAX_OVERRIDE_REASON_CHARS} characters"
    if "\r" in value or "\n" in value:
        return "override reason contains CR/LF (header injection refused)"
    if not value.isprintable():
        return "override reason contains control characters"
    if not value.strip():
        return "override reason is empty"
    return None


def is_valid_cpr(value: str) -> bool:
    return bool(_CPR.match(value))


def is_valid_authorisation_id(value: str) -> bool:
    return bool(_AUTHORISATION_ID.match(value))


def is_valid_sor(value: str) -> bool:
    return bool(_SOR.match(value))


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    ``cpr`` is the citizen whose own data a citizen may read; for a professional it is only
    their personal identity (audit).  ``scopes`` is None when the credential carries no SMART
    scopes (ID cards, open mode): access is then limited by the role table alone.
    """

    subject: str
    roles: frozenset[Role]
    method: AuthenticationMethod
    issuer: str | None = None
    name: str | None = None
    cpr: str | None = None
    authorisation_id: str | None = None
    organisation_sor: str | None = None
    it_system: str | None = None
    scopes: frozenset[SmartScope] | None = None
    purpose_of_use: PurposeOfUse | None = None
    override_reason: str | None = None
    authentication_level: int | None = None
    token_id: str | None = None
    expires_at: datetime | None = None

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_citizen(self) -> bool:
        return Role.CITIZEN in self.roles

    @property
    def is_professional(self) -> bool:
        return any(r.is_professional for r in self.roles)

    @property
    def emergency_override(self) -> bool:
        """Værdispring: purpose emergency AND a reason; only then may a consent block be lifted."""
        return self.purpose_of_use is PurposeOfUse.EMERGENCY and bool(self.override_reason)

    def with_purpose(self, purpose: PurposeOfUse | None, reason: str | None) -> Principal:
        return replace(self, purpose_of_use=purpose, override_reason=reason)


def principal_problems(principal: Principal) -> list[str]:
    """Every reason this Principal cannot be used (empty when fine), so a credential is refused as a whole.

    A professional without SOR could never be matched by an organisation block, and a physician
    or nurse without an authorisation id never by a named-professional block: consent would
    fail open, so such credentials are refused instead.
    """
    problems: list[str] = []
    if not principal.subject:
        problems.append("credential has no subject")
    if not principal.roles:
        problems.append("credential carries no telehub role")
    if principal.cpr is not None and not is_valid_cpr(principal.cpr):
        problems.append("CPR must be 10 digits starting with a valid DDMMYY")
    if principal.is_citizen and principal.cpr is None:
        problems.append("a citizen credential must carry the citizen's CPR")
    if principal.is_professional:
        if principal.organisation_sor is None:
            problems.append("a professional credential must carry the organisation's SOR id")
        if (Role.PHYSICIAN in principal.roles or Role.NURSE in principal.roles) and not (
            principal.authorisation_id
        ):
            problems.append("a physician or nurse credential must carry an authorisation id")
    if principal.organisation_sor is not None and not is_valid_sor(principal.organisation_sor):
        problems.append("SOR id must be 6 to 18 digits")
    if principal.authorisation_id is not None and not is_valid_authorisation_id(principal.authorisation_id):
        problems.append("authorisation id must be 5 characters: consonants or digits")
    return problems
