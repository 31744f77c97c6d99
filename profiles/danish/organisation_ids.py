"""SOR codes and authorisation ids: the Danish identifiers of organisations and health professionals.

* SOR (Sundhedsvæsenets Organisationsregister), ``urn:oid:1.2.208.176.1.1``: digits only, at least 11
  of them (DK Core SOR identifier, DANISH-STANDARDS.md §4.1), e.g. ``8071000016009`` (the XON.10
  example of the DK XDS profile, §2.3).
* Authorisation id (Autorisationsregisteret, ``https://autregweb.sst.dk``): exactly 5 characters, each
  a digit or a consonant, ``y`` counting as a consonant (DK Core AuthorizationIdentifier, §4.1).
  Upper and lower case are both accepted; the register prints them in upper case.
"""

from __future__ import annotations

import re
from typing import Any

from hub.core.issues import Issue, IssueSeverity, IssueType

SOR_PATTERN = re.compile(r"[0-9]{11,}")
AUTHORISATION_ID_PATTERN = re.compile(r"[0-9BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz]{5}")


def is_sor_code(value: str) -> bool:
    return SOR_PATTERN.fullmatch(value) is not None


def is_authorisation_id(value: str) -> bool:
    return AUTHORISATION_ID_PATTERN.fullmatch(value) is not None


def check_sor_code(value: Any, path: str) -> list[Issue]:
    """An error unless ``value`` is a SOR code (11 or more digits)."""
    if isinstance(value, str) and is_sor_code(value):
        return []
    return [
        Issue(
            severity=IssueSeverity.ERROR,
            code=IssueType.VALUE,
            diagnostics=f"SOR code {str(value)[:40]!r} must consist of at least 11 digits",
            expression=(path,),
            message_id="DK-SOR-FORMAT",
        )
    ]


def check_authorisation_id(value: Any, path: str) -> list[Issue]:
    """An error unless ``value`` is 5 characters of digits and consonants (incl. y)."""
    if isinstance(value, str) and is_authorisation_id(value):
        return []
    return [
        Issue(
            severity=IssueSeverity.ERROR,
            code=IssueType.VALUE,
            diagnostics=f"Authorisation id {str(value)[:40]!r} must be exactly 5 characters, "
            "each a digit or a consonant (y counts as a consonant)",
            expression=(path,),
            message_id="DK-AUTH-FORMAT",
        )
    ]
