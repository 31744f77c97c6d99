"""ITI-42 Register Document Set-b at the registry (IHE ITI TF-2b 3.42.4.1.3), and the submission helpers
ITI-41 and ITI-57 share: authorisation of every patient in a submission, success/failure audit facts, and
running :func:`xds.services.submission.submit_txn` as one named write transaction.
"""

from __future__ import annotations

from hub.core.errors import HubError
from security import Action, AuditAction, AuditOutcome
from xds.errors import XdsError
from xds.model import RegistryObjectList, SubmitObjectsRequest
from xds.services.audit_records import AuditFacts, audit_rows
from xds.services.registry_rows import patient_key
from xds.services.runtime import Caller, XdsRuntime
from xds.services.submission import SubmissionKind, SubmissionPlan, SubmissionResult, submit_txn


async def register(rt: XdsRuntime, caller: Caller, request: SubmitObjectsRequest) -> SubmissionResult:
    """Register one ITI-42 submission (metadata only; documents live in some repository)."""
    return await register_objects(
        rt, caller, request.objects, SubmissionKind.REGISTER, AuditAction.ITI_42, Action.SUBMIT_DOCUMENTS
    )


async def register_objects(
    rt: XdsRuntime,
    caller: Caller,
    objects: RegistryObjectList,
    kind: SubmissionKind,
    action: AuditAction,
    permission: Action,
) -> SubmissionResult:
    decision = rt.authorize(caller, permission, action, submission_patients(objects))
    try:
        plan = SubmissionPlan(kind=kind, objects=objects)
        name = "xds_update" if kind is SubmissionKind.UPDATE else "xds_register"
        return await submit(rt, caller, plan, action, name, decision.reason)
    except HubError as exc:
        rt.record(caller, failure_facts(action, objects, decision.reason, exc))
        raise


def submission_patients(objects: RegistryObjectList) -> tuple[str, ...]:
    keys = (patient_key(o.patient_id) for o in objects.identified_objects())
    return tuple(dict.fromkeys(k for k in keys if k))


def submission_facts(
    action: AuditAction, outcome: AuditOutcome, objects: RegistryObjectList, *, reason: str, detail: str = ""
) -> AuditFacts:
    return AuditFacts(
        action,
        outcome,
        patient_keys=submission_patients(objects),
        documents=tuple(e.unique_id for e in objects.document_entries if e.unique_id),
        submission_sets=tuple(s.unique_id for s in objects.submission_sets if s.unique_id),
        decision_reason=reason,
        detail=detail or None,
    )


async def submit(
    rt: XdsRuntime,
    caller: Caller,
    plan: SubmissionPlan,
    action: AuditAction,
    name: str,
    reason: str,
) -> SubmissionResult:
    """Run the submission transaction with its success audit records."""
    ctx = rt.context(caller, action.value)
    facts = submission_facts(action, AuditOutcome.SUCCESS, plan.objects, reason=reason)
    audit = audit_rows(caller.principal, facts, client_address=caller.client_address)
    return await rt.db.run_write(
        name,
        submit_txn,
        plan,
        options=rt.options,
        check_patients=rt.settings.xds.patient_registry,
        processors=rt.processors,
        ctx=ctx,
        audit=audit,
    )


def failure_facts(action: AuditAction, objects: RegistryObjectList, reason: str, exc: HubError) -> AuditFacts:
    detail = str(exc)
    if isinstance(exc, XdsError):
        detail = "; ".join(f"{e.error_code.value}: {e.code_context}" for e in exc.errors if e.is_error)
    return submission_facts(action, AuditOutcome.SERIOUS_FAILURE, objects, reason=reason, detail=detail)
