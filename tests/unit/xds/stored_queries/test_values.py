"""Stored-query value syntax and filter semantics (ITI TF-2a 3.18.4.1.2.3.4-3.18.4.1.2.3.6)."""

from __future__ import annotations

import pytest

from xds.model import Code
from xds.stored_queries.values import (
    CodeFilter,
    LikePatterns,
    QueryCode,
    TimeRange,
    ValueFilter,
    ValueSyntaxError,
    format_value,
    like,
    parse_value,
)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("'a'", ["a"]),
        ("('a')", ["a"]),
        ("('a', 'b' ,'c')", ["a", "b", "c"]),
        ("('it''s')", ["it's"]),
        ("20240101", ["20240101"]),
        ("(1,2)", ["1", "2"]),
        ("  'x'  ", ["x"]),
        ("('%Ford%')", ["%Ford%"]),
    ],
)
def test_parse_value(text: str, values: list[str]) -> None:
    assert parse_value(text) == values


@pytest.mark.parametrize("text", ["", "(", "()", "('a' 'b')", "'open", "('a',)", "a b", "('a'))"])
def test_parse_value_rejects(text: str) -> None:
    with pytest.raises(ValueSyntaxError):
        parse_value(text)


def test_format_value_round_trips() -> None:
    values = ["a", "it's", "x^^1.2"]
    assert parse_value(format_value(values)) == values
    assert format_value(["2024"], as_list=False, quoted=False) == "2024"


def test_query_code() -> None:
    code = QueryCode.parse("53576-5^^2.16.840.1.113883.6.1")
    assert code == QueryCode("53576-5", "2.16.840.1.113883.6.1")
    assert code.format() == "53576-5^^2.16.840.1.113883.6.1"
    for bad in ("a^^", "^^b", "a", "a^b", "a^^b^c"):
        with pytest.raises(ValueSyntaxError):
            QueryCode.parse(bad)


def test_code_filter_or_within_and_across() -> None:
    a, b, c = (Code(x, "s") for x in "abc")
    one_of = CodeFilter(((QueryCode("a", "s"), QueryCode("b", "s")),))
    assert one_of.matches([a]) and one_of.matches([b]) and not one_of.matches([c])
    both = CodeFilter(((QueryCode("a", "s"),), (QueryCode("b", "s"),)))
    assert both.matches([a, b]) and not both.matches([a]) and not both.matches([None])
    assert not one_of.matches([Code("a", "other-scheme")])


def test_value_filter() -> None:
    condition = ValueFilter((("r1", "r2"), ("r3",)))
    assert condition.matches(["r2", "r3"]) and not condition.matches(["r1"])


def test_time_range_edges_follow_nist_11897() -> None:
    """From inclusive, To exclusive, comparing where the stored DTM starts."""
    assert TimeRange("20041224", "20050101").matches("20041224")  # left edge
    assert not TimeRange("20041124", "20041224").matches("20041224")  # right edge
    assert TimeRange("2005", "2006").matches("200512240800")
    assert TimeRange(None, "2005").matches("20041231235959")
    assert TimeRange("2005", None).matches("2005")
    assert not TimeRange("2005", None).matches(None)
    assert not TimeRange("2005", None).matches("garbage")
    assert TimeRange("2004").from_key == 20040101000000 and TimeRange().to_key is None


def test_like_patterns() -> None:
    ford = LikePatterns(("%Ford%",))
    assert ford.matches(["^Ford^Sherry^^^"]) and not ford.matches(["^ford^Sherry^^^"])
    one_char = LikePatterns(("^Jens_n^%",))
    assert one_char.matches(["^Jensen^Jens"]) and not one_char.matches(["^Jenssen^Jens"])
    dots = LikePatterns(("a.b",))
    assert not dots.matches(["axb"]) and dots.matches(["a.b"])
    assert not ford.matches([None])


def test_like_edge_cases_and_hostile_patterns() -> None:
    assert like("", "") and like("%", "") and like("%%", "abc") and not like("", "a")
    assert like("a%c", "abbbc") and not like("a%c", "abbbd") and like("_%_", "ab") and not like("_%_", "a")
    assert like("%a%b", "xxaxxb") and not like("%a%b", "xxbxxa")
    # A backtracking regular expression would not finish on this; the two-pointer matcher is O(n*m).
    assert not like("%a" * 40 + "%b", "a" * 5000)
