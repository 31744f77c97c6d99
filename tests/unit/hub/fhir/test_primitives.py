"""hub.fhir.primitives: verdicts on FHIR primitive values (JSON); short strings' verdicts are remembered."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.caching import MAX_KEY_CHARS as _MEMO_CHARS
from hub.fhir.primitives import check_primitive

CASES: list[tuple[str, Any, bool]] = [
    ("id", "abc-123.X", True),
    ("id", "a" * 64, True),
    ("id", "a" * 65, False),
    ("id", "has space", False),
    ("code", "ok", True),
    ("code", " padded", False),
    ("string", " padded is fine ", True),
    ("string", "bell\x07", False),
    ("string", "tab\tand\nnewline", True),
    ("dateTime", "2024-03-01T08:07:00+02:00", True),
    ("dateTime", "2024-02-30", False),
    ("dateTime", "2024-03-01T08:07:00", False),  # a time needs a timezone
    ("date", "2024-02-29", True),
    ("date", "2023-02-29", False),
    ("decimal", 1.5, True),
    ("decimal", "1.5", False),
    ("boolean", True, True),
    ("boolean", "true", False),
    ("positiveInt", 0, False),
    ("uri", "urn:oid:1.2.208.176.1.2", True),
    ("xhtml", "<div>x</div>", True),
    ("xhtml", "x", False),
]


@pytest.mark.parametrize(("type_name", "value", "valid"), CASES)
def test_verdicts_are_the_same_on_first_and_repeated_checks(type_name: str, value: Any, valid: bool) -> None:
    first = check_primitive(type_name, value)
    assert (first is None) is valid, first
    assert check_primitive(type_name, value) == first  # the remembered verdict


@pytest.mark.parametrize("length", [_MEMO_CHARS, _MEMO_CHARS + 1, 10_000])
def test_long_strings_get_the_same_verdicts_as_short_ones(length: int) -> None:
    assert check_primitive("string", "x" * length) is None
    assert check_primitive("string", "x" * (length - 1) + "\x00") == (
        "contains the control character U+0000, which FHIR does not allow"
    )
    assert check_primitive("code", " " + "x" * (length - 1)) == "must not have leading or trailing whitespace"


def test_a_string_is_judged_by_type_not_by_the_remembered_verdict_of_another_type() -> None:
    assert check_primitive("string", " x") is None
    assert check_primitive("code", " x") == "must not have leading or trailing whitespace"
    assert check_primitive("string", " x") is None
