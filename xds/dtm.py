"""XDS DTM time values: ``YYYY[MM[DD[hh[mm[ss]]]]]`` in UTC (ITI TF-3 4.2.3.1.5, Table 4.2.3.1.7-2).

The model keeps the submitted string (and so its precision).  For comparisons a DTM denotes the interval
it covers: ``2024`` is ``[2024-01-01T00:00:00, 2025-01-01T00:00:00)``.  Stored queries compare the *start*
of the stored value with the parameter bounds (ITI TF-2a 3.18.4.1.2.3.7); :func:`dtm_start_key` gives a
sortable integer for that.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hub.core.errors import InvalidInputError

_DTM = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2})?)?)?)?)?$")
_PRECISIONS = (4, 6, 8, 10, 12, 14)


class DtmFormatError(InvalidInputError):
    """Not a DTM value; callers turn it into an XDS metadata or stored-query parameter error."""


def is_dtm(value: str) -> bool:
    """True for a syntactically valid DTM whose fields are a real calendar instant."""
    try:
        dtm_start(value)
    except DtmFormatError:
        return False
    return True


def dtm_start(value: str) -> datetime:
    """The first instant covered by ``value`` (UTC)."""
    if not _DTM.match(value):
        raise DtmFormatError(f"not a DTM (YYYY[MM[DD[hh[mm[ss]]]]]): {value!r}")
    padded = value + "0101000000"[len(value) - 4 :]
    try:
        return datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise DtmFormatError(f"not a calendar time: {value!r}") from exc


def dtm_end(value: str) -> datetime:
    """The first instant *after* the interval covered by ``value`` (exclusive end, UTC)."""
    start = dtm_start(value)
    match len(value):
        case 4:
            return start.replace(year=start.year + 1)
        case 6:
            if start.month == 12:
                return start.replace(year=start.year + 1, month=1)
            return start.replace(month=start.month + 1)
        case 8:
            return start + timedelta(days=1)
        case 10:
            return start + timedelta(hours=1)
        case 12:
            return start + timedelta(minutes=1)
        case _:
            return start + timedelta(seconds=1)


def dtm_start_key(value: str) -> int:
    """``value`` padded to 14 digits (``YYYYMMDDhhmmss``) as an integer: a sortable, indexable key."""
    dtm_start(value)  # validate
    return int(value + "0101000000"[len(value) - 4 :])


def dtm_from_datetime(moment: datetime, precision: int = 14) -> str:
    """Format an aware datetime as a UTC DTM with ``precision`` digits (4, 6, 8, 10, 12 or 14)."""
    if precision not in _PRECISIONS:
        raise DtmFormatError(f"DTM precision must be one of {_PRECISIONS}, not {precision}")
    if moment.tzinfo is None:
        raise DtmFormatError("a naive datetime has no defined UTC instant")
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")[:precision]


def dtm_compare(left: str, right: str) -> int:
    """-1, 0 or 1 comparing the start instants of two DTM values (precision-independent)."""
    a, b = dtm_start_key(left), dtm_start_key(right)
    return (a > b) - (a < b)
