"""HL7 V3 TS (point in time) values as used in CDA R2: parsing, UTC conversion and FHIR rendering.

HL7 V3 Data Types R1, TS: ``YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+|-ZZZZ]``.  PHMR-DK requires a timezone
on times (DANISH-STANDARDS §1.2); the DK XDS metadata profile wants UTC ``YYYYMMDDhhmmss`` (§2.3).
FHIR ``dateTime`` (https://hl7.org/fhir/R4/datatypes.html#dateTime) needs a timezone whenever the
hours are given.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone

from hub.core.values import value_record

_TS = re.compile(
    r"^(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?(?P<hour>\d{2})?(?P<minute>\d{2})?(?P<second>\d{2})?"
    r"(?:\.(?P<fraction>\d{1,6}))?(?P<tz>[+-]\d{4})?$"
)


@value_record
class Hl7Timestamp:
    """A parsed TS.  ``instant`` is timezone-aware when the value carried an offset, naive otherwise."""

    raw: str
    instant: datetime
    digits: int  # 4 (year) .. 14 (seconds); precision of the value
    has_timezone: bool

    @property
    def has_time(self) -> bool:
        return self.digits > 8

    def to_utc_dtm(self) -> str:
        """XDS DTM in UTC at the value's own precision (max. seconds), e.g. ``20190409125010``."""
        moment = self.instant.astimezone(UTC) if self.has_timezone else self.instant
        return moment.strftime("%Y%m%d%H%M%S")[: min(self.digits, 14)]

    def to_fhir(self) -> str:
        """FHIR dateTime; a value with hours but no timezone cannot be represented and raises ValueError."""
        if not self.has_time:
            return self.instant.strftime("%Y-%m-%d")[: {4: 4, 6: 7}.get(self.digits, 10)]
        if not self.has_timezone:
            raise ValueError(f"HL7 TS {self.raw!r} has a time but no timezone")
        text = self.instant.isoformat(timespec="microseconds" if self.instant.microsecond else "seconds")
        return text.replace("+00:00", "Z") if text.endswith("+00:00") else text

    def comparable(self) -> datetime:
        """An aware datetime for ordering; a naive value is taken as UTC (rules check the TZ first)."""
        return self.instant if self.has_timezone else self.instant.replace(tzinfo=UTC)


def parse_ts(value: str | None) -> Hl7Timestamp | None:
    """Parse a TS value; ``None`` when it is absent or not a valid TS (callers report why)."""
    if not value:
        return None
    return _parse(value)


@functools.lru_cache(maxsize=8192)
def _offset(text: str) -> timezone | None:
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[3:5])
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


@functools.lru_cache(maxsize=8192)
def _parse(value: str) -> Hl7Timestamp | None:
    # cached: a PHMR repeats its times (service period = first/last measurement, author/legal times)
    match = _TS.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, tz = match.groups()
    digits = 4 + sum(2 for part in (month, day, hour, minute, second) if part)
    if fraction and digits != 14:
        return None
    tzinfo = _offset(tz) if tz else None
    if tz and tzinfo is None:
        return None
    try:
        instant = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=tzinfo,
        )
    except ValueError:
        return None
    return Hl7Timestamp(raw=value, instant=instant, digits=digits, has_timezone=tzinfo is not None)


__all__ = ["Hl7Timestamp", "parse_ts"]
