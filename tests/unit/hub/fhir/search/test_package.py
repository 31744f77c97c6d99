"""The public surface of hub.fhir.search."""

from __future__ import annotations

import importlib

# ``import hub.fhir.search`` would bind the ``search`` interaction that hub.fhir re-exports
package = importlib.import_module("hub.fhir.search")


def _isort_key(name: str) -> tuple[int, str]:
    """RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_complete() -> None:
    assert package.__all__ == sorted(package.__all__, key=_isort_key)
    public = {n for n, v in vars(package).items() if not n.startswith("_") and type(v).__name__ != "module"}
    assert public - {"annotations"} == set(package.__all__)
