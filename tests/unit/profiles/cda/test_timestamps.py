"""HL7 V3 TS parsing, UTC DTM and FHIR dateTime rendering (profiles.cda.timestamps)."""

from __future__ import annotations

import pytest

from profiles.cda import parse_ts


@pytest.mark.parametrize(
    ("value", "digits", "tz", "utc", "fhir"),
    [
        ("20190409145010+0200", 14, True, "20190409125010", "2019-04-09T14:50:10+02:00"),
        ("20240207171000+0000", 14, True, "20240207171000", "2024-02-07T17:10:00Z"),
        ("20141225232010-0130", 14, True, "20141226005010", "2014-12-25T23:20:10-01:30"),
        ("20190409145010.25+0200", 14, True, "20190409125010", "2019-04-09T14:50:10.250000+02:00"),
        ("201904091450+0100", 12, True, "201904091350", "2019-04-09T14:50:00+01:00"),
        ("19481225", 8, False, "19481225", "1948-12-25"),
        ("194812", 6, False, "194812", "1948-12"),
        ("1948", 4, False, "1948", "1948"),
    ],
)
def test_valid_values(value: str, digits: int, tz: bool, utc: str, fhir: str) -> None:
    parsed = parse_ts(value)
    assert parsed is not None
    assert (parsed.digits, parsed.has_timezone, parsed.to_utc_dtm(), parsed.to_fhir()) == (
        digits,
        tz,
        utc,
        fhir,
    )


def test_utc_conversion_crosses_the_date_line() -> None:
    parsed = parse_ts("20200101003000+0100")
    assert parsed is not None and parsed.to_utc_dtm() == "20191231233000"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "2019",
        "x",
        "20190230",
        "2019040914501",
        "20190409145010+2500",
        "20190409+02",
        "2019.5",
        "20190409145010 +0200",
        "20191332",
        "201904091450.5+0100",
    ],
)
def test_invalid_values(value: str | None) -> None:
    if value == "2019":
        assert parse_ts(value) is not None  # a bare year is a valid TS
    else:
        assert parse_ts(value) is None


def test_time_without_timezone_cannot_become_fhir() -> None:
    parsed = parse_ts("20190409145010")
    assert parsed is not None and parsed.has_time and not parsed.has_timezone
    with pytest.raises(ValueError, match="no timezone"):
        parsed.to_fhir()
    assert parsed.to_utc_dtm() == "20190409145010"
