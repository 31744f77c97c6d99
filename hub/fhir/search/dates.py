"""FHIR date, dateTime and instant values as closed ranges of microseconds since the Unix epoch (UTC).

Every FHIR date value is implicitly a range at its precision
(https://hl7.org/fhir/R4/search.html#date): ``2024`` is the whole year,
``2024-03-05T10:15`` the whole minute, ``2024-03-05T10:15:30.25`` the 10 ms from
``.250000`` to ``.259999``.  A time zone offset shifts the range to UTC; a value
without one (every ``date``, and the rare dateTime sent without a zone) is read
as UTC, the same convention on the write and on the search side, so an indexed
day and a searched day line up.

Functions here return ``None`` for text that is not a FHIR date: the caller knows
which parameter or element it came from and raises the right error with that
context.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime

_EPOCH = datetime(1970, 1, 1)
_US_PER_SECOND = 1_000_000

_DATE_RE = re.compile(
    r"(?P<y>\d{4})"
    r"(?:-(?P<m>\d{2})"
    r"(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,12}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?",
    re.ASCII,
)


def _epoch_us(naive: datetime) -> int:
    delta = naive - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US_PER_SECOND + delta.microseconds


#: First and last representable instants (0001-01-01T00:00:00Z, 9999-12-31T23:59:59.999999Z).
MIN_US = _epoch_us(datetime(1, 1, 1))
MAX_US = _epoch_us(datetime(9999, 12, 31, 23, 59, 59, 999_999))


def _offset_us(tz: str | None) -> int | None:
    """Offset of ``Z``/``+hh:mm``/``-hh:mm`` in microseconds; ``None`` when out of range."""
    if tz is None or tz == "Z":
        return 0
    hours, minutes = int(tz[1:3]), int(tz[4:6])
    if hours > 14 or minutes > 59 or (hours == 14 and minutes):
        return None
    sign = -1 if tz[0] == "-" else 1
    return sign * (hours * 3600 + minutes * 60) * _US_PER_SECOND


def date_range(text: str) -> tuple[int, int] | None:
    """The closed UTC microsecond range a FHIR date/dateTime/instant covers, or ``None`` if malformed."""
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    parts = match.groupdict()
    year = int(parts["y"])
    if year == 0:
        return None
    offset = _offset_us(parts["tz"])
    if offset is None:
        return None
    try:
        start, end = _local_range(year, parts)
    except ValueError:  # month 13, day 31 in April, hour 24 ...: not a date
        return None
    # an offset can push the first or last representable day past the limits: clamp both ends
    return min(MAX_US, max(MIN_US, start - offset)), min(MAX_US, max(MIN_US, end - offset))


def _local_range(year: int, parts: dict[str, str | None]) -> tuple[int, int]:
    if parts["m"] is None:
        return _epoch_us(datetime(year, 1, 1)), _epoch_us(datetime(year, 12, 31, 23, 59, 59, 999_999))
    month = int(parts["m"])
    if parts["d"] is None:
        last_day = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
        return (
            _epoch_us(datetime(year, month, 1)),
            _epoch_us(datetime(year, month, last_day, 23, 59, 59, 999_999)),
        )
    day = int(parts["d"])
    if parts["H"] is None:
        return (
            _epoch_us(datetime(year, month, day)),
            _epoch_us(datetime(year, month, day, 23, 59, 59, 999_999)),
        )
    hour, minute = int(parts["H"]), int(parts["M"] or 0)
    if parts["S"] is None:
        start = _epoch_us(datetime(year, month, day, hour, minute))
        return start, start + 60 * _US_PER_SECOND - 1
    second = int(parts["S"])  # 60 (leap second) is rejected by datetime()
    start = _epoch_us(datetime(year, month, day, hour, minute, second))
    fraction = parts["f"]
    if fraction is None:
        return start, start + _US_PER_SECOND - 1
    if len(fraction) >= 6:  # finer than a microsecond: the microsecond it falls in
        micro = start + int(fraction[:6])
        return micro, micro
    unit = 10 ** (6 - len(fraction))
    low = start + int(fraction) * unit
    return low, low + unit - 1


def period_range(start: str | None, end: str | None) -> tuple[int, int] | None:
    """The range of a Period: an open side extends to :data:`MIN_US` / :data:`MAX_US`.

    ``None`` when both sides are absent or either side is malformed.
    """
    if start is None and end is None:
        return None
    low, high = MIN_US, MAX_US
    if start is not None:
        start_range = date_range(start)
        if start_range is None:
            return None
        low = start_range[0]
    if end is not None:
        end_range = date_range(end)
        if end_range is None:
            return None
        high = end_range[1]
    return low, high
