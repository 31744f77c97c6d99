"""Invariants (ElementDefinition.constraint) evaluated with FHIRPath, compiled once per profile.

See https://hl7.org/fhir/R4/conformance-rules.html#constraints: a constraint holds when its
expression evaluates to ``true``; ``severity`` decides whether a failure is an error or a
warning.  The hottest core invariants run natively (:mod:`profiles.validator.natives`); the
rest run through :class:`~profiles.fhirpath.FhirPathEngine` with ``%resource`` and
``%rootResource`` set from the resource being walked, and with :class:`ValidatorHooks`
providing ``resolve()``, ``conformsTo()`` and ``memberOf()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.core.issues import IssueSeverity, IssueType
from profiles.fhirpath import FIXED_VARIABLES, FhirPathEvaluationError
from profiles.fhirpath_values import Frame, Unsupported
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId
from profiles.validator.model import Invariant


class ValidatorHooks:
    """The FHIRPath hooks of one validation run."""

    def __init__(self, ctx: ValidationContext) -> None:
        self.ctx = ctx

    def conforms_to(self, data: Any, url: str) -> bool:
        from profiles.validator.profile_checks import conforms

        return isinstance(data, dict) and conforms(data, url, self.ctx)

    def member_of(self, data: Any, value_set: str) -> bool | None:
        if isinstance(data, str):
            codings: list[tuple[str | None, str]] = [(None, data)]
        elif isinstance(data, dict) and isinstance(data.get("coding"), list):
            codings = [
                (c.get("system"), c["code"])
                for c in data["coding"]
                if isinstance(c, dict) and isinstance(c.get("code"), str)
            ]
        elif isinstance(data, dict) and isinstance(data.get("code"), str):
            system = data.get("system")
            codings = [(system if isinstance(system, str) else None, data["code"])]
        else:
            return None
        return self.ctx.services.terminology.member_of(value_set, codings)

    def resolve(self, reference: str) -> dict[str, Any] | None:
        frame = self.ctx.frame
        if frame is None:
            return None
        if reference.startswith("#"):
            for contained in frame.root.get("contained") or ():
                if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                    return contained
            return frame.root if reference == "#" else None
        if frame.bundle is not None:
            return self.ctx.bundle_lookup(frame.bundle, reference)
        return None


def check(
    invariants: Sequence[Invariant], value: Any, type_path: str, path: str, ctx: ValidationContext
) -> None:
    """Evaluate ``invariants`` on ``value`` (an element of type/path ``type_path``)."""
    if not invariants:
        return
    frame = ctx.frame
    resource = frame.resource if frame else value
    root = frame.root if frame else value
    hooks: ValidatorHooks | None = None
    fast_frame: Frame | None = None
    for invariant in invariants:
        native = invariant.native
        answer = None if native is None else native(value, resource, root)
        if answer is True:
            continue
        if answer is False:
            passed = False
        elif invariant.expression is None:
            continue
        else:
            expression = invariant.expression
            hooks = hooks or ValidatorHooks(ctx)
            passed = None
            if expression.fast is not None:
                if fast_frame is None:
                    variables = {
                        "context": value,
                        "resource": resource,
                        "rootResource": root,
                        **FIXED_VARIABLES,
                    }
                    fast_frame = Frame([value], variables, hooks)
                evaluation = (
                    fast_frame.with_variables(dict(expression.constants))
                    if expression.constants
                    else fast_frame
                )
                try:
                    result = expression.fast([value], evaluation)
                    passed = not (len(result) == 1 and result[0] is False)
                except Unsupported:
                    passed = None  # this data needs the full engine
            if passed is None:
                try:
                    passed = ctx.services.engine.is_true(
                        expression,
                        value,
                        base_type=type_path,
                        resource=resource,
                        root_resource=root,
                        hooks=hooks,
                        slow=True,
                    )
                except FhirPathEvaluationError as exc:
                    ctx.warning(
                        IssueType.INVARIANT,
                        f"Constraint {invariant.key} could not be evaluated: {exc.message}",
                        path,
                        MessageId.INVARIANT_ERROR,
                    )
                    continue
        if not passed:
            severity = IssueSeverity.ERROR if invariant.severity == "error" else IssueSeverity.WARNING
            ctx.add(
                severity,
                IssueType.INVARIANT,
                f"Constraint failed: {invariant.key}: '{invariant.human}' "
                f"(defined in {invariant.source or 'profile'})",
                path,
                MessageId.INVARIANT,
            )
