"""Issues: the unit of every validation and error report (FHIR OperationOutcome.issue).

See https://hl7.org/fhir/R4/operationoutcome.html.  Validators, the CDA rule
engine and the XDS registry rules all produce :class:`Issue` values; the API
layer renders them as OperationOutcome, RegistryError or SOAP Fault detail.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class IssueSeverity(enum.Enum):
    """http://hl7.org/fhir/issue-severity"""

    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    IssueSeverity.FATAL: 3,
    IssueSeverity.ERROR: 2,
    IssueSeverity.WARNING: 1,
    IssueSeverity.INFORMATION: 0,
}


class IssueType(enum.Enum):
    """http://hl7.org/fhir/issue-type (the codes telehub uses)."""

    INVALID = "invalid"
    STRUCTURE = "structure"
    REQUIRED = "required"
    VALUE = "value"
    INVARIANT = "invariant"
    SECURITY = "security"
    LOGIN = "login"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    FORBIDDEN = "forbidden"
    SUPPRESSED = "suppressed"
    PROCESSING = "processing"
    NOT_SUPPORTED = "not-supported"
    DUPLICATE = "duplicate"
    MULTIPLE_MATCHES = "multiple-matches"
    NOT_FOUND = "not-found"
    DELETED = "deleted"
    TOO_LONG = "too-long"
    CODE_INVALID = "code-invalid"
    EXTENSION = "extension"
    TOO_COSTLY = "too-costly"
    BUSINESS_RULE = "business-rule"
    CONFLICT = "conflict"
    TRANSIENT = "transient"
    LOCK_ERROR = "lock-error"
    NO_STORE = "no-store"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    INCOMPLETE = "incomplete"
    THROTTLED = "throttled"
    INFORMATIONAL = "informational"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding.  ``expression`` holds FHIRPath expressions; ``location`` XPath or ``line:col``."""

    severity: IssueSeverity
    code: IssueType
    diagnostics: str
    expression: tuple[str, ...] = ()
    location: tuple[str, ...] = ()
    message_id: str | None = None
    line: int | None = None
    column: int | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity in (IssueSeverity.ERROR, IssueSeverity.FATAL)

    def to_fhir(self) -> dict[str, Any]:
        """Render as an ``OperationOutcome.issue`` JSON object."""
        out: dict[str, Any] = {"severity": self.severity.value, "code": self.code.value}
        if self.message_id:
            out["details"] = {
                "coding": [{"system": "urn:telehub:message-id", "code": self.message_id}],
                "text": self.diagnostics,
            }
        out["diagnostics"] = self.diagnostics
        locations = list(self.location)
        if self.line is not None:
            locations.append(f"line {self.line}" + (f", col {self.column}" if self.column else ""))
        if locations:
            out["location"] = locations
        if self.expression:
            out["expression"] = list(self.expression)
        return out


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(i.is_error for i in issues)


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """An OperationOutcome resource for ``issues`` (an all-clear information issue when empty)."""
    rendered = [i.to_fhir() for i in issues]
    if not rendered:
        rendered = [{"severity": "information", "code": "informational", "diagnostics": "No issues detected"}]
    return {"resourceType": "OperationOutcome", "issue": rendered}
