"""The conformance tests share the core-package registry fixture of the profile tests."""

from tests.unit.profiles.conftest import core_registry

__all__ = ["core_registry"]
