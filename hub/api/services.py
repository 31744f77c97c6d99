"""What the HTTP doors need from the composition root (``hub.app`` builds it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from hub.core.settings import Settings
from hub.fhir import FhirService, ValidationService
from security import Authenticator
from xds.services import XdsService


class HeaderAuthenticator(Protocol):
    """Turns request headers into a principal, or raises AuthenticationError."""

    def authenticate_headers(self, headers: Iterable[tuple[str, str]]) -> object | None: ...


class BearerAuthenticator:
    """REST: OAuth2 bearer JWT (or the explicit anonymous operator in ``open`` mode) through security."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    def authenticate_headers(self, headers: Iterable[tuple[str, str]]) -> object | None:
        return self.authenticator.authenticate_bearer(headers)


@dataclass(frozen=True, slots=True)
class ApiServices:
    settings: Settings
    fhir: FhirService
    authenticator: HeaderAuthenticator
    xds: XdsService | None = None  # the XDS.b registry + repository (SOAP doors at /xds/...)
    validation: ValidationService | None = None  # profiles, $validate, FHIR XML (hub.fhir.validation)
