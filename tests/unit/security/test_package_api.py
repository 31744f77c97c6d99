"""Public surface of security and security.saml: one sorted __all__, every name real, nothing leaking."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("name", ["security", "security.saml"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n)), "__all__ is sorted (isort style)"
    assert len(set(exported)) == len(exported)
    for item in exported:
        assert hasattr(module, item), item
    assert module.__doc__


@pytest.mark.parametrize("name", ["security", "security.saml"])
def test_nothing_public_outside_all(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert public - {"annotations"} <= set(module.__all__)
