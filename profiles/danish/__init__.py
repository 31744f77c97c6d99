"""Danish identifier rules (CPR, SOR, authorisation id) and the custom checks of the Danish profiles.

See DANISH-STANDARDS.md §4.1 (DK Core identifiers) and §2.2 (OIDs); used by the profile validator
through :func:`danish_checks` and directly by XDS and consent code.
"""

from profiles.danish.cpr import (
    CprNumber,
    check_cpr,
    check_cpr_date,
    check_cpr_modulus11,
    cpr_birth_date,
    is_cpr_format,
    modulus11_ok,
    parse_cpr,
)
from profiles.danish.custom_checks import (
    CustomCheck,
    CustomCheckRegistry,
    check_cpr_identifier_date,
    check_danish_identifier,
    danish_checks,
)
from profiles.danish.organisation_ids import (
    check_authorisation_id,
    check_sor_code,
    is_authorisation_id,
    is_sor_code,
)
from profiles.danish.systems import DanishCodeSystem, DanishIdentifierSystem

__all__ = [
    "CprNumber",
    "CustomCheck",
    "CustomCheckRegistry",
    "DanishCodeSystem",
    "DanishIdentifierSystem",
    "check_authorisation_id",
    "check_cpr",
    "check_cpr_date",
    "check_cpr_identifier_date",
    "check_cpr_modulus11",
    "check_danish_identifier",
    "check_sor_code",
    "cpr_birth_date",
    "danish_checks",
    "is_authorisation_id",
    "is_cpr_format",
    "is_sor_code",
    "modulus11_ok",
    "parse_cpr",
]
