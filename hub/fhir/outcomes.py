"""What FHIR interactions return to the HTTP door (which alone chooses status codes and headers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.core.issues import Issue
from hub.storage import StoredResource


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """A create/update/patch result. ``created`` picks 201 vs 200; ``matched`` marks a conditional no-op."""

    stored: StoredResource
    created: bool
    warnings: tuple[Issue, ...] = ()
    matched: bool = False


@dataclass(frozen=True, slots=True)
class BundleOutcome:
    """A Bundle built by the server (searchset, history, transaction-response).

    Entry resources are ``orjson.Fragment`` wrappers around the stored bytes, so a
    stored resource is spliced into the response without being parsed or re-serialised.
    """

    body: dict[str, Any]
    warnings: tuple[Issue, ...] = field(default=())
