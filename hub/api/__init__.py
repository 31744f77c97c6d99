"""The HTTP doors (the only package that imports starlette): FHIR REST now, XDS SOAP later."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hub.api.document_routes import document_routes
from hub.api.errors import fhir_error_response
from hub.api.fhir_routes import fhir_routes
from hub.api.health import health
from hub.api.minlog import minlog
from hub.api.services import ApiServices, BearerAuthenticator
from hub.api.xds_routes import xds_routes
from hub.core.errors import MethodNotAllowedError, NotFoundError


def build_routes() -> list[BaseRoute]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/minlog", minlog, methods=["GET"]),
        *document_routes(),  # before fhir_routes(): its /fhir/{type} routes would match these paths
        *fhir_routes(),
        *xds_routes(),
    ]


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route, wrong method) as OperationOutcomes."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return fhir_error_response(
            MethodNotAllowedError(
                f"{request.method} is not allowed on {request.url.path}", message_id="TH-HTTP-METHOD"
            )
        )
    return fhir_error_response(NotFoundError(f"no endpoint at {request.url.path}", message_id="TH-HTTP-PATH"))


def install_error_handlers(app: Starlette) -> None:
    app.add_exception_handler(HTTPException, _http_exception)


__all__ = ["ApiServices", "BearerAuthenticator", "build_routes", "install_error_handlers"]
