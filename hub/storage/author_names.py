"""Search forms of an XDS authorPerson, for MHD's name searches (ITI-67 ``author.given``/``author.family``,
ITI-66 ``source.given``/``source.family``).

An authorPerson is an XCN, ``id^family^given^further given^suffix^prefix^…`` (ITI TF-3 4.2.3.1.7; several
further given names ``&``-separated, as the Danish profile writes them).  Its family name and its given names
are stored beside it in FHIR string-search form (:func:`hub.core.normalization.normalize_text`: casefolded,
accents stripped, whitespace collapsed), so a search is a plain ``LIKE 'prefix%'`` on either engine.
"""

from __future__ import annotations

from hub.core.normalization import normalize_text


def name_keys(person: str) -> tuple[str | None, str | None]:
    """(family name, given names space-joined) of an XCN in search form; None where the XCN has none."""
    parts = person.split("^")
    family = parts[1].split("&", 1)[0] if len(parts) > 1 else ""
    given = [parts[2]] if len(parts) > 2 else []
    if len(parts) > 3:
        given.extend(parts[3].split("&"))
    return normalize_text(family) or None, normalize_text(" ".join(g for g in given if g)) or None


__all__ = ["name_keys"]
