"""``GET /minlog``: the citizen's access log as a plain HTML page (the entries AuditEvent search gives)."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hub.api.errors import fhir_error_response
from hub.api.fhir_http import request_context
from hub.api.services import ApiServices
from hub.core.errors import HubError
from hub.fhir import access_log
from security import AccessLogEntry

_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Hvem har set mine data? / Who accessed my data</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;
padding:.3em .6em}}.override{{background:#fde2e2}}</style></head>
<body><h1>Hvem har set mine data?</h1><p>CPR {cpr}: {count} opslag (lookups), nyeste først.</p>
<table><thead><tr><th>Tidspunkt (UTC)</th><th>Hvem</th><th>Autorisation</th><th>Organisation (SOR)</th>
<th>System</th><th>Handling</th><th>Værdispring</th></tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""


async def minlog(request: Request) -> Response:
    services: ApiServices = request.app.state.services
    ctx = request_context(request, services.settings.base_url, None)
    try:
        principal = services.authenticator.authenticate_headers(request.headers.items())
        cpr, entries = await access_log(services.fhir, replace(ctx, principal=principal))
    except HubError as error:
        return fhir_error_response(error)
    rows = "\n".join(_row(e) for e in entries)
    return HTMLResponse(_PAGE.format(cpr=escape(cpr), count=len(entries), rows=rows))


def _row(e: AccessLogEntry) -> str:
    cells = [
        e.when.strftime("%Y-%m-%d %H:%M:%S"),
        e.who,
        e.authorisation_id or "",
        e.organisation_sor or "",
        e.it_system or "",
        e.action.value,
        ("JA: " + (e.override_reason or "")) if e.emergency_override else "",
    ]
    css = "override" if e.emergency_override else ""
    return f'<tr class="{css}">' + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
