"""Bounded memoisation of pure functions of short strings (index values, primitive verdicts).

The same JSON values recur in almost every write (a LOINC coding, a UCUM unit,
the patient reference), and building frozen value objects or checking a value's
lexical form costs more than a cache lookup.  Caches must not become a memory hole under hostile input, so
:func:`short_arguments_cache` only memoises calls whose string arguments are
short (:data:`MAX_KEY_CHARS`); longer ones are computed every time.  The caches
are LRU-bounded (:data:`CACHE_SIZE` entries each), so each holds at most a few MB.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

#: Entries per cache.
CACHE_SIZE = 8192
#: Longest string argument that may become part of a cache key.
MAX_KEY_CHARS = 256


def short_arguments_cache(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` memoised (LRU) for calls whose ``str`` arguments are all short."""
    cached = lru_cache(maxsize=CACHE_SIZE)(function)

    @wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        for arg in args:
            if type(arg) is str and len(arg) > MAX_KEY_CHARS:
                return function(*args, **kwargs)
        return cached(*args, **kwargs)  # type: ignore[arg-type]

    return call
