"""``GET /health``: liveness and the database engine, for operators and load balancers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.api.services import ApiServices


async def health(request: Request) -> JSONResponse:
    services: ApiServices = request.app.state.services
    return JSONResponse({"status": "ok", "database": services.fhir.db.engine.name})
