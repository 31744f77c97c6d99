"""Date ranges at their precision, time zones and malformed dates (hub.fhir.search.dates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub.fhir.search.dates import MAX_US, MIN_US, date_range, period_range

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(moment: datetime) -> int:
    """Microseconds since the epoch, computed independently of the module under test."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def utc(
    year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> int:
    return us(datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", utc(2024, 1, 1), utc(2025, 1, 1) - 1),
        ("2024-02", utc(2024, 2, 1), utc(2024, 3, 1) - 1),  # leap year: 29 days
        ("2023-02", utc(2023, 2, 1), utc(2023, 3, 1) - 1),
        ("2024-12", utc(2024, 12, 1), utc(2025, 1, 1) - 1),
        ("2016-03-28", utc(2016, 3, 28), utc(2016, 3, 29) - 1),
        ("2024-03-05T10:15Z", utc(2024, 3, 5, 10, 15), utc(2024, 3, 5, 10, 16) - 1),
        ("2024-03-05T10:15:30Z", utc(2024, 3, 5, 10, 15, 30), utc(2024, 3, 5, 10, 15, 31) - 1),
        (
            "2024-03-05T10:15:30.25Z",
            utc(2024, 3, 5, 10, 15, 30, 250_000),
            utc(2024, 3, 5, 10, 15, 30, 260_000) - 1,
        ),
        (
            "2024-03-05T10:15:30.123456Z",
            utc(2024, 3, 5, 10, 15, 30, 123_456),
            utc(2024, 3, 5, 10, 15, 30, 123_456),
        ),
        (
            "2024-03-05T10:15:30.1234567Z",
            utc(2024, 3, 5, 10, 15, 30, 123_456),
            utc(2024, 3, 5, 10, 15, 30, 123_456),
        ),
    ],
)
def test_precision_gives_the_whole_interval(text: str, start: int, end: int) -> None:
    assert date_range(text) == (start, end)


def test_offsets_shift_to_utc() -> None:
    # AuditEvent-example records 2012-10-25T22:04:27+11:00, i.e. 11:04:27 UTC
    assert date_range("2012-10-25T22:04:27+11:00") == (
        utc(2012, 10, 25, 11, 4, 27),
        utc(2012, 10, 25, 11, 4, 28) - 1,
    )
    cph = timezone(timedelta(hours=1))
    assert date_range("2024-03-05T08:00:00+01:00")[0] == us(datetime(2024, 3, 5, 8, tzinfo=cph))  # type: ignore[index]
    assert date_range("2024-03-05T08:00:00-03:30")[0] == utc(2024, 3, 5, 11, 30)  # type: ignore[index]
    # the same instant written in two zones is the same range
    assert date_range("2024-03-05T23:30:00-01:00") == date_range("2024-03-06T00:30:00Z")


def test_values_without_zone_are_utc() -> None:
    assert date_range("2024-03-05T10:00:00") == date_range("2024-03-05T10:00:00Z")
    assert date_range("2024-03-05T10:00:00+00:00") == date_range("2024-03-05T10:00:00Z")


def test_extremes_are_clamped_to_representable_range() -> None:
    assert utc(1, 1, 1) == MIN_US
    assert date_range("9999") == (utc(9999, 1, 1), MAX_US)
    assert date_range("0001") == (MIN_US, utc(2, 1, 1) - 1)
    assert date_range("0001-01-01T00:00:00+14:00") == (MIN_US, MIN_US)
    assert date_range("9999-12-31T23:59:59-14:00") == (MAX_US, MAX_US)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-13",
        "2024-00",
        "2024-02-30",
        "2023-02-29",
        "2024-03-05T24:00:00Z",
        "2024-03-05T10:60Z",
        "2024-03-05T10:15:60Z",
        "2024-03-05T10:15:30+15:00",
        "2024-03-05T10:15:30+14:30",
        "0000",
        "24",
        "2024-3-5",
        "2024-03-05T10",
        "2024-03-05 10:15:30",
        "now",
        "2024-03-05'; DROP TABLE resource;--",
        "2024-03-05T10:15:30.Z",
        "２０２４",
        "2024-03-05T10:15:30.1234567890123Z",
        "1" * 10_000,
    ],
)
def test_malformed_dates_give_none(text: str) -> None:
    assert date_range(text) is None


def test_period_ranges() -> None:
    assert period_range("2015-01-01", "2015-02-01") == (utc(2015, 1, 1), utc(2015, 2, 2) - 1)
    assert period_range("2015-01-01", None) == (utc(2015, 1, 1), MAX_US)
    assert period_range(None, "2002") == (MIN_US, utc(2003, 1, 1) - 1)
    assert period_range(None, None) is None
    assert period_range("2015-01-01", "garbage") is None
