"""Values the PHMR processor hands from its CPU phase to its transaction phase, and what it reports back.

:class:`PhmrPayload` is ``ProcessedDocument.payload`` (xds.services.processing): the checked, indexed
Observations and Devices of one document (``hub.fhir`` ``PreparedWrite`` values, so no FHIR work is left
for the write transaction).  :class:`ProcessingRecord` is the per-request notebook of a processor copy made
for one ``$submit-document`` call: the door reads the CDA issues (with their source lines) and which
resources were created or found unchanged, which the ITI-41 RegistryResponse has no room for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hub.core.issues import Issue
from hub.fhir import PreparedWrite
from xds.hl7v2 import CX
from xds.model import DocumentEntry


@dataclass(frozen=True, slots=True)
class PhmrPayload:
    """The derived resources of one accepted document.

    ``reference_id`` is the DocumentReference id the Observations' ``derivedFrom`` names; it is provisional
    when the submission used a symbolic entry id, and the transaction phase retargets it to the final
    entryUUID.
    """

    unique_id: str
    patient: CX | None
    reference_id: str
    observations: tuple[PreparedWrite, ...] = ()
    devices: tuple[PreparedWrite, ...] = ()


class WriteResult(enum.Enum):
    """What the transaction phase did with one derived resource."""

    CREATED = "created"
    UPDATED = "updated"  # a new version: changed content, or a retired resource brought back
    UNCHANGED = "unchanged"  # an identical current resource was left alone (idempotent re-submission)


@dataclass(slots=True)
class ProcessingRecord:
    """Mutable notebook of ONE request's processor copy (never shared between requests)."""

    issues: list[Issue] = field(default_factory=list)
    entry: DocumentEntry | None = None
    results: list[tuple[str, str, WriteResult]] = field(default_factory=list)  # (type, id, result)

    def written(self, resource_type: str) -> list[tuple[str, WriteResult]]:
        return [(rid, result) for rtype, rid, result in self.results if rtype == resource_type]


__all__ = ["PhmrPayload", "ProcessingRecord", "WriteResult"]
