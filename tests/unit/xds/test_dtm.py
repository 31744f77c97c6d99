"""DTM time values (ITI TF-3 4.2.3.1.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from xds.dtm import DtmFormatError, dtm_compare, dtm_end, dtm_from_datetime, dtm_start, dtm_start_key, is_dtm


@pytest.mark.parametrize(
    "value", ["2024", "202403", "20240229", "2024022913", "202402291305", "20240229130559"]
)
def test_valid_precisions(value: str) -> None:
    assert is_dtm(value)


@pytest.mark.parametrize(
    "value", ["", "24", "20241", "20240230", "20241301", "2024-03-01", "202403011260", "x2024"]
)
def test_invalid_values(value: str) -> None:
    assert not is_dtm(value)
    with pytest.raises(DtmFormatError):
        dtm_start(value)


def test_interval_ends() -> None:
    assert dtm_end("2024") == datetime(2025, 1, 1, tzinfo=UTC)
    assert dtm_end("202412") == datetime(2025, 1, 1, tzinfo=UTC)
    assert dtm_end("202402") == datetime(2024, 3, 1, tzinfo=UTC)
    assert dtm_end("20240229") == datetime(2024, 3, 1, tzinfo=UTC)
    assert dtm_end("2024022923") == datetime(2024, 3, 1, tzinfo=UTC)
    assert dtm_end("202402292359") == datetime(2024, 3, 1, tzinfo=UTC)
    assert dtm_end("20240229235959") == datetime(2024, 3, 1, tzinfo=UTC)


def test_start_key_pads_to_the_first_instant() -> None:
    assert dtm_start_key("2004") == 20040101000000
    assert dtm_start_key("20041224") == 20041224000000
    assert dtm_compare("2004", "20040101000000") == 0
    assert dtm_compare("20041224", "20041223235959") == 1
    assert dtm_compare("2004", "2005") == -1


def test_from_datetime_converts_to_utc() -> None:
    moment = datetime(2024, 3, 12, 9, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    assert dtm_from_datetime(moment) == "20240312081500"
    assert dtm_from_datetime(moment, 8) == "20240312"


def test_from_datetime_rejects_naive_and_bad_precision() -> None:
    with pytest.raises(DtmFormatError):
        dtm_from_datetime(datetime(2024, 1, 1))
    with pytest.raises(DtmFormatError):
        dtm_from_datetime(datetime(2024, 1, 1, tzinfo=UTC), 7)
