"""String normalisation shared by FHIR index extraction, search parsing and the registry's author names.

FHIR R4 string search (https://hl7.org/fhir/R4/search.html#string) is case- and
accent-insensitive and ignores differences in whitespace: both sides are
casefolded, stripped of combining marks (NFKD) and have runs of whitespace
collapsed.  Letters with a canonical decomposition lose their marks (``å`` -> ``a``,
``é`` -> ``e``); letters without one (``æ``, ``ø``) are kept as they are.

Indexed strings, tokens and URIs are cut at :data:`MAX_INDEXED_LENGTH`
characters, and query values are cut the same way, so a long value still matches
itself while every index row stays below PostgreSQL's B-tree row limit.
"""

from __future__ import annotations

import unicodedata

#: Longest string, token code/system or URI kept in an index row (characters).
MAX_INDEXED_LENGTH = 512


def normalize_text(value: str) -> str:
    """Casefolded, accent-stripped, whitespace-collapsed form used for string matching."""
    if value.isascii():  # the common case, and 10x faster than the Unicode route
        return clip(" ".join(value.lower().split()))
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return clip(" ".join(stripped.split()))


def clip(value: str) -> str:
    """``value`` cut to :data:`MAX_INDEXED_LENGTH` characters."""
    return value[:MAX_INDEXED_LENGTH]
