"""MHD's name searches on the registry views: ITI-67 ``author.given`` / ``author.family`` (DocumentReference)
and ITI-66 ``source.given`` / ``source.family`` (List) match the authorPerson (XCN) of DocumentEntries and
SubmissionSets (https://profiles.ihe.net/ITI/MHD/ITI-67.html, ITI-66.html).

FHIR string semantics (https://hl7.org/fhir/R4/search.html#string): a value matches when the family name, or
any of the given names, starts with it, ignoring case and accents; comma-separated values are OR-ed and
repeated parameters AND-ed.  The names are taken before the FHIR search parser sees the request: as FHIR
chains they would be ambiguous (``author`` may be a Practitioner, Patient …), and they mean XDS's
authorPerson here, not a FHIR resource.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.core.errors import InvalidInputError
from hub.core.normalization import normalize_text
from hub.core.registry_query import NameCondition
from hub.fhir.search import split_escaped, unescape

PARTS = ("given", "family")


def name_conditions(
    params: Sequence[tuple[str, str]], reference: str, message_id: str
) -> tuple[tuple[NameCondition, ...], list[tuple[str, str]]]:
    """The name conditions of ``<reference>.given`` / ``<reference>.family`` in ``params``, and the rest."""
    conditions: list[NameCondition] = []
    rest: list[tuple[str, str]] = []
    for name, value in params:
        base, _, part = name.partition(".")
        if base != reference or part not in PARTS:
            rest.append((name, value))
            continue
        prefixes = tuple(p for p in (normalize_text(unescape(v)) for v in split_escaped(value, ",")) if p)
        if not prefixes:
            raise InvalidInputError(
                f"{name}: give a name (or the start of one)", expression=name, message_id=message_id
            )
        conditions.append(NameCondition(part, prefixes))
    return tuple(conditions), rest


__all__ = ["PARTS", "name_conditions"]
