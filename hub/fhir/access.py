"""The access policy of the FHIR door: authorisation (security.authorization's one table) and Danish negative
consent turned into the filter that storage puts INSIDE the query.

Open security mode still runs through here (its principal is an explicit anonymous operator), so
"everyone" blocks are honoured in every mode.
"""

from __future__ import annotations

from typing import Any

from hub.core.errors import AuthenticationError
from hub.core.instants import now_us
from hub.fhir.context import RequestContext
from hub.fhir.patient_keys import own_key
from hub.fhir.pipeline import AccessDecision, Action
from hub.storage import ConsentBlock
from security import Action as SecurityAction
from security import Principal, actor_keys, consent_filter_applies, decide

_ACTIONS: dict[Action, SecurityAction | None] = {
    Action.READ: SecurityAction.READ,
    Action.VREAD: SecurityAction.READ,
    Action.HISTORY: SecurityAction.READ,
    Action.SEARCH: SecurityAction.SEARCH,
    Action.CREATE: SecurityAction.CREATE,
    Action.UPDATE: SecurityAction.UPDATE,
    Action.PATCH: SecurityAction.UPDATE,
    Action.DELETE: SecurityAction.DELETE,
    Action.VALIDATE: SecurityAction.VALIDATE,
    Action.TRANSACTION: None,  # each entry is decided on its own
    Action.BATCH: None,
    Action.CAPABILITIES: None,
    Action.CONSENT_DENIAL: None,
}


def principal_of(ctx: RequestContext) -> Principal:
    if not isinstance(ctx.principal, Principal):
        raise AuthenticationError("the request is not authenticated", message_id="TH-AUTH-MISSING")
    return ctx.principal


class SecurityPolicy:
    """AccessPolicy backed by the security package."""

    def check(
        self,
        ctx: RequestContext,
        action: Action,
        resource_type: str | None,
        resource: dict[str, Any] | None = None,
    ) -> AccessDecision:
        principal = principal_of(ctx)
        wanted = _ACTIONS[action]
        if wanted is None:
            return AccessDecision(reason=f"{action.value}: authenticated; entries are decided one by one")
        patient = own_key(resource) if resource is not None else None
        decision = decide(principal, wanted, resource_type or "Resource", patient_cpr=patient).enforce()
        consent = None
        if consent_filter_applies(principal):
            consent = ConsentBlock(actor_keys=actor_keys(principal), now_us=now_us())
        return AccessDecision(
            reason=decision.reason,
            consent=consent,
            patient_key=decision.patient_scope,
            override=decision.override,
        )
