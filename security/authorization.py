"""Authorisation: ONE table of role × action × resource class rules, and the decision it yields.

The rules (issue 6, "Authorisation and consent"):

* citizens read only their own data (and their own consents and access log);
* professionals (physician, nurse, other professional) read with purpose of use "treatment",
  or "emergency" with an override reason (værdispring, always audited as an override);
* systems submit (FHIR create/update, ITI-41/42/57, MHD ITI-65);
* only admins install packages, write conformance resources, delete, and read the full audit log;
* anyone authenticated may ``$validate`` and read conformance/directory resources.

The same function serves FHIR read/search, XDS ITI-18/43 and MHD: a door maps its interaction
to an :class:`Action`, asks :func:`decide`, and writes ``Decision.reason`` into the audit record.
For tokens with SMART scopes the scope must also grant the interaction (``patient/`` scopes only
for citizens, ``user/`` for people, ``system/`` for systems and admins).  A citizen's decision
carries ``patient_scope``: the query layer MUST restrict the query to that CPR.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hub.core.errors import ForbiddenError
from security.principal import Principal, PurposeOfUse, Role
from security.scopes import Permission, ScopeContext, scopes_permit


class Action(enum.Enum):
    READ = "read"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VALIDATE = "validate"
    SUBMIT_DOCUMENTS = "submit-documents"  # ITI-41, ITI-42, MHD ITI-65
    QUERY_DOCUMENTS = "query-documents"  # ITI-18, MHD ITI-67
    RETRIEVE_DOCUMENT = "retrieve-document"  # ITI-43, MHD ITI-68
    UPDATE_DOCUMENTS = "update-documents"  # ITI-57
    DELETE_DOCUMENTS = "delete-documents"  # ITI-62
    INSTALL_PACKAGE = "install-package"


class ResourceClass(enum.Enum):
    CLINICAL = "clinical"  # the Patient compartment and documents: everything not listed below
    CONSENT = "consent"
    AUDIT = "audit"
    CONFORMANCE = "conformance"
    DIRECTORY = "directory"
    PACKAGE = "package"


class Condition(enum.Enum):
    ALWAYS = "always"
    OWN_DATA = "own-data"  # the principal's CPR is the patient
    PURPOSE = "purpose"  # treatment, or emergency with a reason


PACKAGE_TYPE = "package"
_CLASSES = {
    "Consent": ResourceClass.CONSENT,
    "AuditEvent": ResourceClass.AUDIT,
    PACKAGE_TYPE: ResourceClass.PACKAGE,
    **dict.fromkeys(
        (
            "StructureDefinition",
            "ValueSet",
            "CodeSystem",
            "ConceptMap",
            "NamingSystem",
            "SearchParameter",
            "OperationDefinition",
            "CapabilityStatement",
            "ImplementationGuide",
            "CompartmentDefinition",
            "StructureMap",
            "GraphDefinition",
            "MessageDefinition",
        ),
        ResourceClass.CONFORMANCE,
    ),
    **dict.fromkeys(
        ("Organization", "Practitioner", "PractitionerRole", "Location", "Endpoint", "HealthcareService"),
        ResourceClass.DIRECTORY,
    ),
}


def resource_class(resource_type: str) -> ResourceClass:
    return _CLASSES.get(resource_type, ResourceClass.CLINICAL)


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    actions: frozenset[Action]
    resource_class: ResourceClass
    condition: Condition


_R = frozenset
_PROFESSIONALS = _R({Role.PHYSICIAN, Role.NURSE, Role.OTHER_PROFESSIONAL})
_EVERYONE = _R(Role)
_READS = _R({Action.READ, Action.SEARCH})
_CLINICAL_READS = _R({Action.READ, Action.SEARCH, Action.QUERY_DOCUMENTS, Action.RETRIEVE_DOCUMENT})
_WRITES = _R({Action.CREATE, Action.UPDATE, Action.DELETE})
_DELETES = _R({Action.DELETE, Action.DELETE_DOCUMENTS})

RULES: tuple[Rule, ...] = (
    Rule(_R({Role.CITIZEN}), _CLINICAL_READS, ResourceClass.CLINICAL, Condition.OWN_DATA),
    Rule(_R({Role.CITIZEN}), _READS | _WRITES, ResourceClass.CONSENT, Condition.OWN_DATA),
    Rule(_R({Role.CITIZEN}), _READS, ResourceClass.AUDIT, Condition.OWN_DATA),
    Rule(_PROFESSIONALS, _CLINICAL_READS, ResourceClass.CLINICAL, Condition.PURPOSE),
    Rule(
        _R({Role.SYSTEM}),
        _R({Action.CREATE, Action.UPDATE, Action.SUBMIT_DOCUMENTS, Action.UPDATE_DOCUMENTS}),
        ResourceClass.CLINICAL,
        Condition.ALWAYS,
    ),
    Rule(_R({Role.SYSTEM, Role.ADMIN}), _WRITES, ResourceClass.DIRECTORY, Condition.ALWAYS),
    Rule(_R({Role.ADMIN}), _R({Action.INSTALL_PACKAGE}), ResourceClass.PACKAGE, Condition.ALWAYS),
    Rule(_R({Role.ADMIN}), _WRITES, ResourceClass.CONFORMANCE, Condition.ALWAYS),
    Rule(_R({Role.ADMIN}), _READS | _WRITES, ResourceClass.CONSENT, Condition.ALWAYS),
    Rule(_R({Role.ADMIN}), _READS, ResourceClass.AUDIT, Condition.ALWAYS),
    Rule(_R({Role.ADMIN}), _DELETES, ResourceClass.CLINICAL, Condition.ALWAYS),
    Rule(_EVERYONE, _READS, ResourceClass.CONFORMANCE, Condition.ALWAYS),
    Rule(_EVERYONE, _READS, ResourceClass.DIRECTORY, Condition.ALWAYS),
    Rule(_EVERYONE, _R({Action.VALIDATE}), ResourceClass.CLINICAL, Condition.ALWAYS),
    Rule(_EVERYONE, _R({Action.VALIDATE}), ResourceClass.CONFORMANCE, Condition.ALWAYS),
    Rule(_EVERYONE, _R({Action.VALIDATE}), ResourceClass.DIRECTORY, Condition.ALWAYS),
    Rule(_EVERYONE, _R({Action.VALIDATE}), ResourceClass.CONSENT, Condition.ALWAYS),
)

_PERMISSION = {
    Action.READ: Permission.READ,
    Action.SEARCH: Permission.SEARCH,
    Action.CREATE: Permission.CREATE,
    Action.UPDATE: Permission.UPDATE,
    Action.DELETE: Permission.DELETE,
    Action.SUBMIT_DOCUMENTS: Permission.CREATE,
    Action.QUERY_DOCUMENTS: Permission.SEARCH,
    Action.RETRIEVE_DOCUMENT: Permission.READ,
    Action.UPDATE_DOCUMENTS: Permission.UPDATE,
    Action.DELETE_DOCUMENTS: Permission.DELETE,
}
_CONTEXTS = {
    Role.CITIZEN: (ScopeContext.PATIENT, ScopeContext.USER),
    Role.PHYSICIAN: (ScopeContext.USER,),
    Role.NURSE: (ScopeContext.USER,),
    Role.OTHER_PROFESSIONAL: (ScopeContext.USER,),
    Role.SYSTEM: (ScopeContext.SYSTEM,),
    Role.ADMIN: (ScopeContext.USER, ScopeContext.SYSTEM),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """``reason`` always says why (it goes into the audit record); ``override`` marks værdispring."""

    allowed: bool
    reason: str
    override: bool = False
    patient_scope: str | None = None  # a citizen's CPR: the query MUST be restricted to it

    def enforce(self) -> Decision:
        """Self when allowed; ForbiddenError carrying the reason otherwise."""
        if not self.allowed:
            raise ForbiddenError(self.reason)
        return self


def decide(
    principal: Principal, action: Action, resource_type: str, *, patient_cpr: str | None = None
) -> Decision:
    """May ``principal`` perform ``action`` on ``resource_type`` (of patient ``patient_cpr`` when known)?

    The first rule that grants wins; when none grants, the most specific refusal is returned.
    """
    cls = resource_class(resource_type)
    refusals: list[str] = []
    for rule in RULES:
        if rule.resource_class is not cls or action not in rule.actions:
            continue
        for role in sorted(principal.roles & rule.roles, key=lambda r: r.value):
            decision = _apply(rule.condition, principal, role, action, resource_type, patient_cpr)
            if not decision.allowed:
                refusals.append(decision.reason)
                continue
            scope_refusal = _scope_refusal(principal, role, action, resource_type)
            if scope_refusal is None:
                return decision
            refusals.append(scope_refusal)
    if refusals:
        return Decision(False, refusals[0])
    roles = ", ".join(sorted(r.value for r in principal.roles)) or "no role"
    return Decision(False, f"denied: {roles} may not {action.value} {resource_type}")


def _apply(
    condition: Condition,
    principal: Principal,
    role: Role,
    action: Action,
    resource_type: str,
    patient_cpr: str | None,
) -> Decision:
    what = f"{role.value} {action.value} {resource_type}"
    if condition is Condition.ALWAYS:
        return Decision(True, f"allowed: {what}")
    if condition is Condition.OWN_DATA:
        if principal.cpr is None:
            return Decision(False, f"denied: {what} needs the citizen's own CPR in the credential")
        if patient_cpr is not None and patient_cpr != principal.cpr:
            return Decision(False, "denied: a citizen may only access their own data, not another CPR's")
        return Decision(True, f"allowed: {what} (own data)", patient_scope=principal.cpr)
    purpose = principal.purpose_of_use
    if purpose is PurposeOfUse.TREATMENT:
        return Decision(True, f"allowed: {what} with purpose of use treatment")
    if purpose is PurposeOfUse.EMERGENCY:
        if principal.emergency_override:
            return Decision(True, f"allowed: {what} as emergency override (værdispring)", override=True)
        return Decision(False, f"denied: {what} with purpose emergency needs an override reason")
    return Decision(False, f"denied: {what} needs a purpose of use (treatment, or emergency with a reason)")


def _scope_refusal(principal: Principal, role: Role, action: Action, resource_type: str) -> str | None:
    if principal.scopes is None:
        return None
    permission = _PERMISSION.get(action)
    if permission is None:
        return None  # $validate and package installation are not SMART interactions
    if scopes_permit(principal.scopes, resource_type, permission, _CONTEXTS[role]):
        return None
    contexts = "/".join(c.value for c in _CONTEXTS[role])
    return f"denied: the token's scopes do not grant {contexts}/{resource_type}.{permission.value}"
