"""Fixtures for the profile tests: the R4 core package from ../shared/testdata, loaded once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.core.issues import Issue
from profiles import CanonicalRegistry, load_registry
from profiles.validator import ProfileValidator
from tests.conftest import testdata_path


@pytest.fixture(scope="session")
def core_registry() -> CanonicalRegistry:
    """A registry holding hl7.fhir.r4.core 4.0.1 (tests copy it before adding anything)."""
    path = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    return load_registry([path], include_builtin=False).registry


@pytest.fixture(scope="session")
def core_validator(core_registry: CanonicalRegistry) -> ProfileValidator:
    """A validator over the (unmodified) core registry, shared by read-only tests."""
    return ProfileValidator(core_registry)


@pytest.fixture
def fresh_validator(core_registry: CanonicalRegistry) -> Callable[..., ProfileValidator]:
    """A validator over a private copy of the core registry plus the given resources."""

    def build(*resources: dict[str, Any]) -> ProfileValidator:
        registry = core_registry.copy()
        for resource in resources:
            registry.add(resource, source="test")
        return ProfileValidator(registry)

    return build


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.is_error]


def ids(issues: list[Issue]) -> list[str | None]:
    return [i.message_id for i in issues if i.is_error]
