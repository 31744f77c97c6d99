"""Stored-query parameter values and the filters built from them (ITI TF-2a 3.18.4.1.2.3.4-3.18.4.1.2.3.6).

Syntax of one ``rim:Value``: a quoted string ``'text'`` (``''`` escapes a quote), a bare number such as a
DTM ``20240101``, or a parenthesised list ``('a','b')``.  Several ``rim:Value`` elements of one slot
concatenate their lists.  A coded value is ``code^^codingScheme`` (both parts required).

Filter semantics, which the storage layer's SQL must reproduce exactly (each filter also has a reference
``matches`` implementation used by the tests):

- :class:`CodeFilter`: OR within one slot, AND across repeated slots of the same parameter.
- :class:`TimeRange`: ``from`` inclusive, ``to`` exclusive, comparing the instants where the DTM values
  start (:func:`xds.dtm.dtm_start_key`); an object without the attribute never matches a range.
- :class:`LikePatterns`: SQL ``LIKE`` with ``%`` (any run) and ``_`` (one character), case-sensitive,
  no escape character; OR across patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hub.core.errors import InvalidInputError
from xds.dtm import DtmFormatError, dtm_start_key
from xds.model import Code


class ValueSyntaxError(InvalidInputError):
    """A slot value that does not follow the stored-query value syntax."""


_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|([^\s,()']+))\s*")


def parse_value(text: str) -> list[str]:
    """``'a'`` -> ``['a']``; ``('a', 'b')`` -> ``['a', 'b']``; ``2024`` -> ``['2024']``."""
    body = text.strip()
    if body.startswith("("):
        if not body.endswith(")"):
            raise ValueSyntaxError(f"unbalanced parentheses in {text!r}")
        body = body[1:-1]
        if not body.strip():
            raise ValueSyntaxError(f"empty list {text!r}")
    items: list[str] = []
    position = 0
    while True:
        match = _TOKEN.match(body, position)
        if match is None:
            raise ValueSyntaxError(f"cannot read a value at position {position} of {text!r}")
        quoted, bare = match.group(1), match.group(2)
        items.append(quoted.replace("''", "'") if quoted is not None else bare)
        position = match.end()
        if position == len(body):
            return items
        if body[position] != ",":
            raise ValueSyntaxError(f"expected ',' at position {position} of {text!r}")
        position += 1


def format_value(values: Iterable[str], *, as_list: bool = True, quoted: bool = True) -> str:
    """The inverse of :func:`parse_value` (used when telehub builds a query)."""
    rendered = [("'" + v.replace("'", "''") + "'") if quoted else v for v in values]
    return "(" + ",".join(rendered) + ")" if as_list else ",".join(rendered)


@dataclass(frozen=True, slots=True)
class QueryCode:
    """A ``code^^codingScheme`` parameter value."""

    code: str
    scheme: str

    @classmethod
    def parse(cls, value: str) -> QueryCode:
        code, sep, scheme = value.partition("^^")
        if not sep or not code or not scheme or "^" in scheme:
            raise ValueSyntaxError(f"coded value must be 'code^^codingScheme', not {value!r}")
        return cls(code, scheme)

    def format(self) -> str:
        return f"{self.code}^^{self.scheme}"

    def matches(self, code: Code) -> bool:
        return code.code == self.code and code.scheme == self.scheme


@dataclass(frozen=True, slots=True)
class CodeFilter:
    """AND over ``groups`` (one per slot occurrence), OR within a group."""

    groups: tuple[tuple[QueryCode, ...], ...]

    def matches(self, codes: Iterable[Code | None]) -> bool:
        present = [c for c in codes if c is not None]
        return all(any(q.matches(c) for c in present for q in group) for group in self.groups)


@dataclass(frozen=True, slots=True)
class ValueFilter:
    """Exact string values with the same AND/OR structure as :class:`CodeFilter` (referenceIdList)."""

    groups: tuple[tuple[str, ...], ...]

    def matches(self, values: Iterable[str]) -> bool:
        present = set(values)
        return all(any(v in present for v in group) for group in self.groups)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``from_`` <= start(value) < ``to`` on DTM start instants; either bound may be absent."""

    from_: str | None = None
    to: str | None = None

    @property
    def from_key(self) -> int | None:
        return dtm_start_key(self.from_) if self.from_ is not None else None

    @property
    def to_key(self) -> int | None:
        return dtm_start_key(self.to) if self.to is not None else None

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        try:
            key = dtm_start_key(value)
        except DtmFormatError:
            return False
        low, high = self.from_key, self.to_key
        return (low is None or key >= low) and (high is None or key < high)


@dataclass(frozen=True, slots=True)
class LikePatterns:
    """SQL LIKE patterns (``%``, ``_``), OR-combined, case-sensitive, no escape character."""

    patterns: tuple[str, ...]

    def matches(self, values: Iterable[str | None]) -> bool:
        return any(like(p, v) for v in values if v is not None for p in self.patterns)


def like(pattern: str, value: str) -> bool:
    """SQL LIKE without escape: ``%`` any run, ``_`` one character, everything else literal.

    Two-pointer wildcard matching (O(len(pattern) * len(value)) worst case), so a hostile pattern such as
    ``%a%a%a%a%b`` cannot cause the exponential backtracking a regular expression would.
    """
    p = v = 0
    star = -1
    resume = 0
    while v < len(value):
        if p < len(pattern) and pattern[p] == "%":
            star, resume = p, v
            p += 1
        elif p < len(pattern) and (pattern[p] == "_" or pattern[p] == value[v]):
            p += 1
            v += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            v = resume
        else:
            return False
    return all(ch == "%" for ch in pattern[p:])
