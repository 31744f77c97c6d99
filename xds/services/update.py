"""ITI-57 Update Document Set: metadata update at the registry (IHE ITI TF-2b 3.57.4.1.3).

A new version of a DocumentEntry/Folder (same logicalId, a SubmissionSet HasMember association with the
``PreviousVersion`` slot) deprecates the previous version and becomes the latest one; an
``UpdateAvailabilityStatus`` association changes an object's status; other associations are added.  The
rules are :func:`xds.registry_rules.check_update`; everything else is the shared submission transaction,
so processors hear about deprecated entries (their derived data follows the document's life).
"""

from __future__ import annotations

from security import Action, AuditAction
from xds.model import SubmitObjectsRequest
from xds.services.register import register_objects
from xds.services.runtime import Caller, XdsRuntime
from xds.services.submission import SubmissionKind, SubmissionResult


async def update(rt: XdsRuntime, caller: Caller, request: SubmitObjectsRequest) -> SubmissionResult:
    """Apply one ITI-57 metadata update; XdsError (Failure response) when a rule fails."""
    return await register_objects(
        rt, caller, request.objects, SubmissionKind.UPDATE, AuditAction.ITI_57, Action.UPDATE_DOCUMENTS
    )
