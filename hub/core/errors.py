"""The one error hierarchy of telehub.

Everything the hub raises on purpose is a :class:`HubError` carrying an
:class:`ErrorCategory`.  Only ``hub.api.errors`` turns a category into an HTTP
status + OperationOutcome, a SOAP Fault or an XDS RegistryResponse.

Exception tree::

    HubError
    ├── InvalidInputError        (category INVALID: malformed JSON/XML, bad parameters)
    │   └── UnsafeXmlError       (DTD, entity expansion, XInclude, depth/size limits)
    ├── ValidationFailedError    (category PROCESSABLE: well-formed but non-conformant content)
    ├── NotFoundError            (NOT_FOUND)
    ├── GoneError                (GONE: the resource was deleted)
    ├── ConflictError            (CONFLICT: version conflict, duplicate)
    ├── PreconditionFailedError  (PRECONDITION_FAILED: If-Match, conditional operations)
    ├── PayloadTooLargeError     (TOO_LARGE)
    ├── UnsupportedMediaTypeError(UNSUPPORTED_MEDIA_TYPE)
    ├── NotAcceptableError       (NOT_ACCEPTABLE)
    ├── MethodNotAllowedError    (METHOD_NOT_ALLOWED)
    ├── NotSupportedError        (NOT_SUPPORTED: valid FHIR the hub does not implement)
    ├── AuthenticationError      (UNAUTHENTICATED)
    ├── ForbiddenError           (FORBIDDEN: authorisation or consent refusal)
    ├── ConfigurationError       (CONFIGURATION: refused start-up, bad settings)
    └── StorageError             (STORAGE: schema missing/newer, database unavailable)

Validation collects every issue and raises once, with all issues attached.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from hub.core.issues import Issue, IssueSeverity, IssueType


class ErrorCategory(enum.Enum):
    """Why an operation failed; mapped to a transport status exactly once, in hub.api.errors."""

    INVALID = "invalid"
    PROCESSABLE = "processable"
    NOT_FOUND = "not-found"
    GONE = "gone"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition-failed"
    TOO_LARGE = "too-large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    NOT_ACCEPTABLE = "not-acceptable"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    NOT_SUPPORTED = "not-supported"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CONFIGURATION = "configuration"
    STORAGE = "storage"


_DEFAULT_ISSUE_TYPE: dict[ErrorCategory, IssueType] = {
    ErrorCategory.INVALID: IssueType.INVALID,
    ErrorCategory.PROCESSABLE: IssueType.PROCESSING,
    ErrorCategory.NOT_FOUND: IssueType.NOT_FOUND,
    ErrorCategory.GONE: IssueType.DELETED,
    ErrorCategory.CONFLICT: IssueType.CONFLICT,
    ErrorCategory.PRECONDITION_FAILED: IssueType.CONFLICT,
    ErrorCategory.TOO_LARGE: IssueType.TOO_LONG,
    ErrorCategory.UNSUPPORTED_MEDIA_TYPE: IssueType.NOT_SUPPORTED,
    ErrorCategory.NOT_ACCEPTABLE: IssueType.NOT_SUPPORTED,
    ErrorCategory.METHOD_NOT_ALLOWED: IssueType.NOT_SUPPORTED,
    ErrorCategory.NOT_SUPPORTED: IssueType.NOT_SUPPORTED,
    ErrorCategory.UNAUTHENTICATED: IssueType.LOGIN,
    ErrorCategory.FORBIDDEN: IssueType.FORBIDDEN,
    ErrorCategory.CONFIGURATION: IssueType.EXCEPTION,
    ErrorCategory.STORAGE: IssueType.EXCEPTION,
}


class HubError(Exception):
    """Base of every error telehub raises on purpose."""

    category: ErrorCategory = ErrorCategory.INVALID

    def __init__(
        self,
        message: str,
        *,
        issues: Iterable[Issue] = (),
        expression: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        collected = tuple(issues)
        if not collected:
            collected = (
                Issue(
                    severity=IssueSeverity.ERROR,
                    code=_DEFAULT_ISSUE_TYPE[self.category],
                    diagnostics=message,
                    expression=(expression,) if expression else (),
                    message_id=message_id,
                ),
            )
        self.issues: tuple[Issue, ...] = collected


class InvalidInputError(HubError):
    category = ErrorCategory.INVALID


class UnsafeXmlError(InvalidInputError):
    """XML that could attack the parser: DTDs, entities, XInclude, too deep or too large."""


class ValidationFailedError(HubError):
    category = ErrorCategory.PROCESSABLE


class NotFoundError(HubError):
    category = ErrorCategory.NOT_FOUND


class GoneError(HubError):
    category = ErrorCategory.GONE


class ConflictError(HubError):
    category = ErrorCategory.CONFLICT


class PreconditionFailedError(HubError):
    category = ErrorCategory.PRECONDITION_FAILED


class PayloadTooLargeError(HubError):
    category = ErrorCategory.TOO_LARGE


class UnsupportedMediaTypeError(HubError):
    category = ErrorCategory.UNSUPPORTED_MEDIA_TYPE


class NotAcceptableError(HubError):
    category = ErrorCategory.NOT_ACCEPTABLE


class MethodNotAllowedError(HubError):
    category = ErrorCategory.METHOD_NOT_ALLOWED


class NotSupportedError(HubError):
    category = ErrorCategory.NOT_SUPPORTED


class AuthenticationError(HubError):
    category = ErrorCategory.UNAUTHENTICATED


class ForbiddenError(HubError):
    category = ErrorCategory.FORBIDDEN


class ConfigurationError(HubError):
    category = ErrorCategory.CONFIGURATION


class StorageError(HubError):
    category = ErrorCategory.STORAGE
