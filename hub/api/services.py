"""What the HTTP doors need from the composition root (``hub.app`` builds it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hub.core.settings import Settings
from hub.fhir import FhirService


class HeaderAuthenticator(Protocol):
    """Turns request headers into a principal, or raises AuthenticationError."""

    def authenticate_headers(self, headers: dict[str, str]) -> object | None: ...


class OpenAuthenticator:
    """Security mode ``open``: no principal (loudly logged at start-up by hub.app)."""

    def authenticate_headers(self, headers: dict[str, str]) -> object | None:
        return None


@dataclass(frozen=True, slots=True)
class ApiServices:
    settings: Settings
    fhir: FhirService
    authenticator: HeaderAuthenticator
