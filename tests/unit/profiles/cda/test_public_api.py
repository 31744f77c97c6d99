"""profiles.cda exposes one sorted ``__all__`` whose names all exist; modules carry their docstrings."""

from __future__ import annotations

import importlib
import pkgutil

import profiles.cda
import profiles.cda.phmr_rules


def test_all_is_sorted_and_complete() -> None:
    for package in (profiles.cda, profiles.cda.phmr_rules):
        names = list(package.__all__)
        assert len(names) == len(set(names))
        for name in names:
            assert hasattr(package, name), name
        assert package.__doc__


def test_every_module_has_a_docstring_citing_its_source() -> None:
    for package in (profiles.cda, profiles.cda.phmr_rules):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            assert module.__doc__ and len(module.__doc__.strip()) > 40, module.__name__
