"""The public surface of ``xds`` and its sub-packages: one ``__all__`` each, every name importable."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import xds
import xds.registry_rules
import xds.stored_queries


@pytest.mark.parametrize("package", [xds, xds.registry_rules, xds.stored_queries])
def test_all_is_unique_and_importable(package: ModuleType) -> None:
    names = list(package.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(package, name) is not None


@pytest.mark.parametrize(
    "module",
    [
        "xds.codes",
        "xds.danish_valuesets",
        "xds.dtm",
        "xds.ebrim_elements",
        "xds.ebrim_parse",
        "xds.ebrim_write",
        "xds.errors",
        "xds.hl7v2",
        "xds.identifiers",
        "xds.messages",
        "xds.model",
        "xds.mtom",
        "xds.mtom_write",
        "xds.namespaces",
        "xds.responses",
        "xds.soap",
        "xds.registry_rules.catalogue",
        "xds.registry_rules.check",
        "xds.registry_rules.danish",
        "xds.registry_rules.deletion",
        "xds.registry_rules.effects",
        "xds.registry_rules.repository",
        "xds.registry_rules.required",
        "xds.registry_rules.state",
        "xds.registry_rules.submission",
        "xds.registry_rules.versions",
        "xds.stored_queries.ids",
        "xds.stored_queries.params",
        "xds.stored_queries.request",
        "xds.stored_queries.spec",
        "xds.stored_queries.values",
    ],
)
def test_every_module_documents_what_it_owns(module: str) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__doc__ is not None and len(loaded.__doc__.strip()) > 40
