"""$validate (https://hl7.org/fhir/R4/resource-operation-validate.html).

``POST [base]/$validate`` and ``POST [base]/[type]/$validate`` validate the resource in the body, or the
``resource`` parameter of a Parameters body with optional ``profile`` (repeatable) and ``mode`` (``create``,
``update``, ``delete``, ``profile``; https://hl7.org/fhir/R4/valueset-resource-validation-mode.html);
``?profile=`` and ``?mode=`` are accepted in the URL too.  ``GET|POST [base]/[type]/[id]/$validate``
validates the stored resource (read under the caller's read rights and consent, and audited as a read),
or - when a body is given - the body as an update of that instance.

The answer is always an OperationOutcome with HTTP 200, also for an invalid resource: that is the
operation's contract.  It carries every issue: the resource against its base definition, its
``meta.profile``, the profiles the hub requires for the type and the ones asked for; with ``mode=create``
or ``update`` also the hub's own write rules for the type (the ones a write would be refused by, such as
the Danish negative-consent shape).  A body that cannot be read at all (malformed JSON, unsafe XML) is a
400, as for any other interaction.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hub.core.errors import HubError, InvalidInputError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from hub.fhir.context import RequestContext
from hub.fhir.interactions.read import read
from hub.fhir.pipeline import AccessDecision, Action, AuditEntry
from hub.fhir.service import FhirService

_WRAPPER_PARAMETERS = frozenset({"resource", "profile", "mode"})
_PROFILE_VALUES = ("valueCanonical", "valueUri", "valueString", "valueUrl")


class ValidationMode(enum.Enum):
    """http://hl7.org/fhir/resource-validation-mode"""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    PROFILE = "profile"


@dataclass(frozen=True, slots=True)
class ValidateRequest:
    """What to validate: a resource (None: the stored instance), profiles, a mode, and issues met while
    reading the body (e.g. FHIR XML structure) that belong in the answer."""

    resource: dict[str, Any] | None
    profiles: tuple[str, ...] = ()
    mode: ValidationMode | None = None
    read_issues: tuple[Issue, ...] = ()


def parse_mode(value: str | None) -> ValidationMode | None:
    if value is None or value == "":
        return None
    try:
        return ValidationMode(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"$validate mode {value!r} is unknown; use one of: " + ", ".join(m.value for m in ValidationMode),
            expression="mode",
            message_id="TH-VALIDATE-MODE",
        ) from exc


def validate_request(
    body: dict[str, Any] | None,
    *,
    query: Sequence[tuple[str, str]] = (),
    read_issues: Sequence[Issue] = (),
) -> ValidateRequest:
    """The request carried by ``body`` (a resource, or a Parameters wrapper) and the URL ``query``."""
    profiles = [v for k, v in query if k == "profile" and v]
    modes = [v for k, v in query if k == "mode"]
    resource = body
    if body is not None and _is_wrapper(body):
        resource = None
        for parameter in body.get("parameter") or ():
            name = parameter.get("name")
            if name == "resource":
                if resource is not None or not isinstance(parameter.get("resource"), dict):
                    raise InvalidInputError(
                        "the Parameters body must carry exactly one 'resource' parameter with a resource",
                        expression="Parameters.parameter",
                        message_id="TH-VALIDATE-PARAMETERS",
                    )
                resource = parameter["resource"]
            elif name == "profile":
                value = next(
                    (parameter[k] for k in _PROFILE_VALUES if isinstance(parameter.get(k), str)), None
                )
                if value is None:
                    raise InvalidInputError(
                        "a 'profile' parameter needs a valueCanonical (or valueUri)",
                        expression="Parameters.parameter",
                        message_id="TH-VALIDATE-PARAMETERS",
                    )
                profiles.append(value)
            elif name == "mode":
                modes.append(str(parameter.get("valueCode", "")))
    if len(set(modes)) > 1:
        raise InvalidInputError(
            "$validate accepts one mode", expression="mode", message_id="TH-VALIDATE-MODE"
        )
    mode = parse_mode(modes[0] if modes else None)
    return ValidateRequest(resource, tuple(dict.fromkeys(profiles)), mode, tuple(read_issues))


def _is_wrapper(body: dict[str, Any]) -> bool:
    """A Parameters resource is the operation's input (not the thing to validate) when it only uses the
    operation's parameter names (``profile``/``mode`` alone: the stored instance is validated)."""
    if body.get("resourceType") != "Parameters":
        return False
    parameters = body.get("parameter")
    if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
        return False
    names = {p.get("name") for p in parameters}
    return bool(names) and names <= _WRAPPER_PARAMETERS


async def validate_operation(
    svc: FhirService,
    ctx: RequestContext,
    resource_type: str | None,
    resource_id: str | None,
    request: ValidateRequest,
) -> dict[str, Any]:
    """The OperationOutcome of ``$validate`` at system (no type), type or instance level."""
    resource = request.resource
    mode = request.mode
    if resource is None and resource_id is None:
        raise InvalidInputError("$validate needs a resource to validate", message_id="TH-VALIDATE-EMPTY")
    if mode is ValidationMode.DELETE and resource_id is None:
        raise InvalidInputError(
            "mode=delete validates deleting an existing resource: use [type]/[id]/$validate",
            expression="mode",
            message_id="TH-VALIDATE-MODE",
        )
    if resource is not None:
        _check_type(resource, resource_type)
    rtype = resource_type or str((resource or {}).get("resourceType"))
    decision = svc.policy.check(ctx, Action.VALIDATE, rtype, resource)
    patients: tuple[str, ...] = ()
    if resource_id is not None and (resource is None or mode is ValidationMode.DELETE):
        stored = await read(svc, ctx, rtype, resource_id)  # read rights, consent, and a read audit
        patients = (stored.patient_key,) if stored.patient_key else ()
        if mode is ValidationMode.DELETE:
            issues = [_deletable(rtype, resource_id)]
            await _audit(svc, ctx, decision, rtype, resource_id, patients)
            return operation_outcome(issues)
        assert stored.data is not None
        resource = orjson.loads(stored.data)
    assert resource is not None
    issues = [*request.read_issues, *svc.validator.validate(resource, request.profiles)]
    if mode in (ValidationMode.CREATE, ValidationMode.UPDATE):
        issues.extend(_write_rules(svc, resource, mode, resource_id))
    await _audit(svc, ctx, decision, rtype, resource_id, patients)
    return operation_outcome(issues)


def _check_type(resource: dict[str, Any], resource_type: str | None) -> None:
    found = resource.get("resourceType")
    if not isinstance(found, str) or not found:
        raise InvalidInputError(
            "the resource to validate has no resourceType",
            expression="resourceType",
            message_id="TH-JSON-NO-TYPE",
        )
    if resource_type is not None and found != resource_type:
        raise InvalidInputError(
            f"resourceType {found!r} does not match the URL type {resource_type!r}",
            expression="resourceType",
            message_id="TH-REST-TYPE-MISMATCH",
        )


def _write_rules(
    svc: FhirService, resource: dict[str, Any], mode: ValidationMode, resource_id: str | None
) -> list[Issue]:
    """What a create/update of ``resource`` would additionally be refused for, as issues."""
    rtype = str(resource.get("resourceType"))
    if rtype not in svc.supported_types:
        return [
            Issue(
                IssueSeverity.ERROR,
                IssueType.NOT_SUPPORTED,
                f"this server does not store {rtype} resources; supported types: "
                + ", ".join(sorted(svc.supported_types)),
                expression=(rtype,),
                message_id="TH-REST-UNSUPPORTED-TYPE",
            )
        ]
    issues: list[Issue] = []
    body_id = resource.get("id")
    if mode is ValidationMode.UPDATE and body_id is None:
        issues.append(_error(f"{rtype}.id", "an update must carry the resource id", "TH-REST-UPDATE-NO-ID"))
    if mode is ValidationMode.UPDATE and resource_id is not None and body_id not in (None, resource_id):
        issues.append(
            _error(
                f"{rtype}.id",
                f"the resource id {body_id!r} does not match the URL id {resource_id!r}",
                "TH-REST-UPDATE-ID-MISMATCH",
            )
        )
    try:
        svc.run_checks(rtype, resource)
    except HubError as error:  # a write would be refused with these issues: they are the answer here
        issues.extend(error.issues)
    return issues


def _error(expression: str, message: str, message_id: str) -> Issue:
    return Issue(
        IssueSeverity.ERROR, IssueType.INVALID, message, expression=(expression,), message_id=message_id
    )


def _deletable(resource_type: str, resource_id: str) -> Issue:
    return Issue(
        IssueSeverity.INFORMATION,
        IssueType.INFORMATIONAL,
        f"{resource_type}/{resource_id} exists and may be deleted: telehub enforces no referential "
        "integrity on delete (references to it stay as they are)",
        expression=(resource_type,),
        message_id="TH-VALIDATE-DELETE-OK",
    )


async def _audit(
    svc: FhirService,
    ctx: RequestContext,
    decision: AccessDecision,
    resource_type: str,
    resource_id: str | None,
    patients: tuple[str, ...],
) -> None:
    ids = (resource_id,) if resource_id else ()
    await svc.audit.record(ctx, AuditEntry(Action.VALIDATE, "0", resource_type, ids, patients), decision)
