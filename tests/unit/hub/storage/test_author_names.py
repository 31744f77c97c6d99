"""hub.storage.author_names: the search forms of an XCN's names."""

from __future__ import annotations

import pytest

from hub.storage.author_names import name_keys


@pytest.mark.parametrize(
    ("person", "keys"),
    [
        ("^Andersen^Anders^^^^^^&1.2.208.176.1.1&ISO", ("andersen", "anders")),
        ("^Ærø-Åberg^Søren^Anne&Marie^^Dr.", ("ærø-aberg", "søren anne marie")),  # æ/ø kept, Å is a
        ("123^Olsen", ("olsen", None)),
        ("123", (None, None)),  # an id only
        ("^^Lars", (None, "lars")),
        ("^Hansen&Jensen^ Lars  Ole ", ("hansen", "lars ole")),  # FN.1 only; whitespace collapsed
    ],
)
def test_name_keys(person: str, keys: tuple[str | None, str | None]) -> None:
    assert name_keys(person) == keys
