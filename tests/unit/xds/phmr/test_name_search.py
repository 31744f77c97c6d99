"""xds.phmr.name_search: MHD's author/source name parameters taken out of a registry-view search."""

from __future__ import annotations

import pytest

from hub.core.errors import InvalidInputError
from hub.core.registry_query import NameCondition
from xds.phmr.name_search import name_conditions


def test_names_are_taken_out_and_normalised() -> None:
    params = [
        ("patient", "Patient/1"),
        ("author.family", "Ånd\\,ersen,Hansen"),
        ("author.given", " Søren "),
        ("author.identifier", "x"),  # not a name: left to the FHIR parser
        ("source.family", "Olsen"),  # another reference: left alone
    ]
    conditions, rest = name_conditions(params, "author", "M")
    assert conditions == (
        NameCondition("family", ("and,ersen", "hansen")),  # an escaped comma is part of the name
        NameCondition("given", ("søren",)),
    )
    assert rest == [("patient", "Patient/1"), ("author.identifier", "x"), ("source.family", "Olsen")]


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="give a name") as raised:
        name_conditions([("source.given", " , ")], "source", "TH-LIST-SEARCH")
    assert raised.value.issues[0].message_id == "TH-LIST-SEARCH"
