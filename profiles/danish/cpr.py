"""CPR numbers (Danish personal identification numbers, ``urn:oid:1.2.208.176.1.2``).

Rules (CPR-kontoret, "Personnummeret i CPR-systemet"; DK Core CPR identifier, DANISH-STANDARDS.md §4.1;
MedCom CONF-PHMR-DK-4/5, §1.2):

* exactly 10 digits, ``DDMMYY`` then a 4-digit serial number;
* ``DDMMYY`` is a real calendar date, the century coming from the 7th digit:
  0-3 -> 1900-1999; 4 and 9 -> 2000-2036 for YY 00-36, else 1937-1999;
  5-8 -> 2000-2057 for YY 00-57, else 1858-1899;
* the modulus-11 check (weights 4,3,2,7,6,5,4,3,2,1) is only a WARNING: since 2007 numbers are
  issued that fail it, so failing it never makes a CPR number invalid.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from hub.core.issues import Issue, IssueSeverity, IssueType

_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


@dataclass(frozen=True, slots=True)
class CprNumber:
    """A CPR number whose format and birth date are valid."""

    value: str
    birth_date: datetime.date

    @property
    def modulus11_ok(self) -> bool:
        return modulus11_ok(self.value)

    @property
    def odd_serial(self) -> bool:
        """An odd last digit is registered male, an even one female."""
        return int(self.value[9]) % 2 == 1


def is_cpr_format(value: str) -> bool:
    """Exactly ten ASCII digits."""
    return len(value) == 10 and value.isascii() and value.isdigit()


def century(seventh_digit: int, two_digit_year: int) -> int:
    """The century (1800, 1900 or 2000) of a CPR birth year, from the 7th digit."""
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if two_digit_year <= 36 else 1900
    return 2000 if two_digit_year <= 57 else 1800


def cpr_birth_date(value: str) -> datetime.date | None:
    """The birth date encoded in a 10-digit CPR number; None when it is not a real date."""
    if not is_cpr_format(value):
        return None
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    try:
        return datetime.date(century(int(value[6]), year) + year, month, day)
    except ValueError:
        return None


def modulus11_ok(value: str) -> bool:
    """The historical modulus-11 check digit rule (informative only)."""
    return is_cpr_format(value) and sum(int(d) * w for d, w in zip(value, _WEIGHTS, strict=True)) % 11 == 0


def parse_cpr(value: str) -> CprNumber | None:
    """A :class:`CprNumber`, or None when the format or birth date is invalid."""
    birth = cpr_birth_date(value)
    return CprNumber(value, birth) if birth is not None else None


# Diagnostics never repeat the number itself: a CPR number is personal data and issues end up in logs.
def _issue(severity: IssueSeverity, code: IssueType, text: str, message_id: str, path: str) -> Issue:
    return Issue(severity=severity, code=code, diagnostics=text, expression=(path,), message_id=message_id)


def check_cpr(value: Any, path: str) -> list[Issue]:
    """Every CPR rule: format and date (errors), modulus 11 (warning)."""
    if not isinstance(value, str) or not is_cpr_format(value):
        return [
            _issue(
                IssueSeverity.ERROR,
                IssueType.VALUE,
                "A CPR number must be exactly 10 digits",
                "DK-CPR-FORMAT",
                path,
            )
        ]
    return check_cpr_date(value, path) + check_cpr_modulus11(value, path)


def check_cpr_date(value: Any, path: str) -> list[Issue]:
    """The calendar-date rule with the century from the 7th digit (not expressible in FHIRPath).

    Values that are not 10 digits are left to the format rule (profile invariant ``dk-tm-cpr-1``).
    """
    if not isinstance(value, str) or not is_cpr_format(value) or cpr_birth_date(value) is not None:
        return []
    return [
        _issue(
            IssueSeverity.ERROR,
            IssueType.VALUE,
            "The first six digits of the CPR number are not a valid DDMMYY birth date "
            "(century taken from the 7th digit)",
            "DK-CPR-DATE",
            path,
        )
    ]


def check_cpr_modulus11(value: Any, path: str) -> list[Issue]:
    """A warning when the modulus-11 check fails (valid CPR numbers may fail it)."""
    if not isinstance(value, str) or not is_cpr_format(value) or modulus11_ok(value):
        return []
    return [
        _issue(
            IssueSeverity.WARNING,
            IssueType.BUSINESS_RULE,
            "The CPR number fails the modulus-11 check; numbers issued since 2007 may do so, "
            "so this is only a warning",
            "DK-CPR-MOD11",
            path,
        )
    ]
