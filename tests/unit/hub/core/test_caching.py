"""Bounded memoisation (hub.core.caching)."""

from __future__ import annotations

from hub.core.caching import MAX_KEY_CHARS, short_arguments_cache


def test_only_short_arguments_are_memoised() -> None:
    calls: list[str] = []

    @short_arguments_cache
    def upper(value: str) -> str:
        calls.append(value)
        return value.upper()

    assert upper("ab") == upper("ab") == "AB"
    long_value = "x" * (MAX_KEY_CHARS + 1)
    assert upper(long_value) == upper(long_value) == long_value.upper()
    assert calls == ["ab", long_value, long_value]  # the short call was memoised, the long one never
