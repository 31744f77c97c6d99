"""read and vread (https://hl7.org/fhir/R4/http.html#read, #vread).

A deleted resource answers 410 Gone; the stored bytes are returned untouched.
"""

from __future__ import annotations

from hub.core.errors import GoneError, NotFoundError
from hub.fhir.context import RequestContext
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.resource_types import ensure_supported
from hub.fhir.service import FhirService
from hub.storage import StoredResource, read_current_txn, read_version_txn


async def read(svc: FhirService, ctx: RequestContext, resource_type: str, resource_id: str) -> StoredResource:
    ensure_supported(resource_type, svc.supported_types)
    decision = svc.policy.check(ctx, Action.READ, resource_type)
    stored = await svc.db.run_single(
        "fhir_read", read_current_txn, resource_type, resource_id, decision.consent, decision.patient_key
    )
    return await _answer(svc, ctx, decision, Action.READ, resource_type, resource_id, stored)


async def vread(
    svc: FhirService, ctx: RequestContext, resource_type: str, resource_id: str, version: str
) -> StoredResource:
    ensure_supported(resource_type, svc.supported_types)
    decision = svc.policy.check(ctx, Action.VREAD, resource_type)
    if not version.isdigit():
        raise NotFoundError(f"{resource_type}/{resource_id} has no version {version!r}")
    stored = await svc.db.run_single(
        "fhir_vread",
        read_version_txn,
        resource_type,
        resource_id,
        int(version),
        decision.consent,
        decision.patient_key,
    )
    return await _answer(svc, ctx, decision, Action.VREAD, resource_type, resource_id, stored)


async def _answer(
    svc: FhirService,
    ctx: RequestContext,
    decision: AccessDecision,
    action: Action,
    resource_type: str,
    resource_id: str,
    stored: StoredResource | None,
) -> StoredResource:
    """Success is audited here; failures by the door (one place for every refused or failed request)."""
    if stored is None:
        if decision.consent is not None:
            await _audit_consent_denial(svc, ctx, decision, resource_type, resource_id)
        raise NotFoundError(f"{resource_type}/{resource_id} is not known", message_id="TH-REST-NOT-FOUND")
    if stored.deleted:
        raise GoneError(
            f"{resource_type}/{resource_id} was deleted (version {stored.version})", message_id="TH-REST-GONE"
        )
    patients = (stored.patient_key,) if stored.patient_key else ()
    await svc.audit.record(ctx, AuditEntry(action, "0", resource_type, (resource_id,), patients), decision)
    return stored


async def _audit_consent_denial(
    svc: FhirService, ctx: RequestContext, decision: AccessDecision, resource_type: str, resource_id: str
) -> None:
    """A read that consent (not absence) made empty is audited as a consent denial; the answer stays 404."""
    hidden = await svc.db.run_single("fhir_read_consent_check", read_current_txn, resource_type, resource_id)
    if hidden is not None and not hidden.deleted:
        patients = (hidden.patient_key,) if hidden.patient_key else ()
        entry = AuditEntry(
            Action.CONSENT_DENIAL,
            "4",
            resource_type,
            (resource_id,),
            patients,
            detail="blocked by the patient's negative consent",
        )
        await svc.audit.record(ctx, entry, decision)
