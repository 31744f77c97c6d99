"""A benchmark-only build of the hub without authentication, authorisation, consent or audit: the baseline
that ``bench_security_http`` compares the real read path against.  Never served in production."""

from __future__ import annotations

from dataclasses import replace

from starlette.applications import Starlette

from hub.app import build_app
from hub.core.settings import Settings
from hub.fhir import AllowAllPolicy, NullAuditTrail


class _NoAuthentication:
    def authenticate_headers(self, headers: object) -> object | None:
        return None


def create_app() -> Starlette:
    app = build_app(Settings())
    services = app.state.services
    services.fhir.policy = AllowAllPolicy()
    services.fhir.audit = NullAuditTrail()
    app.state.services = replace(services, authenticator=_NoAuthentication())
    return app
