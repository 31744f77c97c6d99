"""String normalisation for string search (hub.fhir.search.normalization)."""

from __future__ import annotations

from hub.core.normalization import MAX_INDEXED_LENGTH, clip, normalize_text


def test_case_accents_and_whitespace() -> None:
    assert normalize_text("  Bénédicte   du\tMarché ") == "benedicte du marche"
    assert normalize_text("ÅRHUS") == "arhus"
    assert normalize_text("Ærø Søren") == "ærø søren"  # no decomposition: kept, only casefolded
    assert normalize_text("STRASSE") == normalize_text("straße")
    assert normalize_text("Chalmers") == "chalmers"
    assert normalize_text(" \n ") == ""


def test_long_values_are_clipped() -> None:
    assert len(normalize_text("x" * 10_000)) == MAX_INDEXED_LENGTH
    assert clip("abc") == "abc"
    assert len(clip("é" * 2000)) == MAX_INDEXED_LENGTH
