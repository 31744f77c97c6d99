"""Per-request context handed from the HTTP door to the FHIR interactions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ReturnPreference(enum.Enum):
    """``Prefer: return=…`` (https://hl7.org/fhir/R4/http.html#ops)."""

    MINIMAL = "minimal"
    REPRESENTATION = "representation"
    OPERATION_OUTCOME = "OperationOutcome"


class Handling(enum.Enum):
    """``Prefer: handling=…`` for unknown search parameters (https://hl7.org/fhir/R4/search.html#errors)."""

    LENIENT = "lenient"
    STRICT = "strict"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks, and how they want the answer."""

    base_url: str  # e.g. http://127.0.0.1:8080/fhir (no trailing slash)
    principal: object | None = None  # security.Principal once authenticated
    return_preference: ReturnPreference = ReturnPreference.REPRESENTATION
    handling: Handling = Handling.LENIENT
    request_id: str = ""
    client_address: str = ""
    extras: dict[str, str] = field(default_factory=dict)
