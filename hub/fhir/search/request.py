"""A parsed FHIR search request: criteria plus the result parameters.

https://hl7.org/fhir/R4/search.html#return (``_sort``, ``_count``, ``_include``,
``_revinclude``, ``_summary``, ``_total``, ``_elements``).  Produced by
:func:`hub.fhir.search.parsing.parse_search_request`; executed by hub.fhir and
hub.storage.  Parameters the registry does not know are listed in
:attr:`SearchRequest.unknown`, so the caller can ignore them with a warning
(``Prefer: handling=lenient``) or answer 400 (``handling=strict``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hub.core.search import Criterion, SortKey, param_hash


class SummaryMode(enum.StrEnum):
    """http://hl7.org/fhir/search-summary (``_summary``)."""

    TRUE = "true"
    TEXT = "text"
    DATA = "data"
    COUNT = "count"
    FALSE = "false"


class TotalMode(enum.StrEnum):
    """``_total``: how exact ``Bundle.total`` must be (https://hl7.org/fhir/R4/search.html#total)."""

    NONE = "none"
    ESTIMATE = "estimate"
    ACCURATE = "accurate"


@dataclass(frozen=True, slots=True)
class Include:
    """``_include=source_type:code[:target_type]`` (or the same for ``_revinclude``).

    For ``_include`` the source type is the searched type; for ``_revinclude`` it
    is the type whose reference parameter points at the matches.
    """

    source_type: str
    code: str
    target_type: str | None = None
    iterate: bool = False  # ``:iterate`` was asked; telehub resolves one level either way

    @property
    def param_hash(self) -> int:
        return param_hash(self.source_type, self.code)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """Everything a search asked for, validated against the registry."""

    resource_type: str
    criteria: tuple[Criterion, ...] = ()
    sort: tuple[SortKey, ...] = ()
    count: int | None = None
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()
    summary: SummaryMode | None = None
    total: TotalMode | None = None
    elements: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()  # parameter names (with any modifier) the registry does not know

    @property
    def summary_count(self) -> bool:
        """``_summary=count``: only the total is wanted."""
        return self.summary is SummaryMode.COUNT
