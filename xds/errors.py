"""XDS error codes, RegistryError values and the XDS branch of the HubError tree.

Error codes: IHE ITI TF-3 4.2.4.1 (Table 4.2.4.1-2 "Error Codes"), ITI TF-2b 3.57.4.1.3 (metadata update),
ITI TF-2b 3.62.4.1.3 (delete).  A :class:`RegistryError` is one ``rs:RegistryError`` element
(ebRS 3.0 §2.1.6: errorCode, codeContext, location, severity).

Exception tree (below :class:`hub.core.errors.HubError`)::

    HubError
    ├── ValidationFailedError
    │   └── XdsError                (carries RegistryErrors -> RegistryResponse status Failure)
    │       ├── XdsMetadataError    (ebRIM that cannot be read into the model)
    │       └── XdsStoredQueryError (ITI-18 parameter errors)
    └── InvalidInputError
        ├── Hl7FormatError          (xds.hl7v2: bad CX/XCN/XON; readers turn it into a finding)
        ├── DtmFormatError          (xds.dtm: not a DTM time)
        ├── ValueSyntaxError        (xds.stored_queries.values: bad stored-query value)
        └── SoapFaultError          (carries SOAP 1.2 fault code/subcode -> env:Fault)
            ├── SoapEnvelopeError   (not a SOAP 1.2 envelope, missing/wrong WS-Addressing Action)
            └── MtomError           (multipart/related + XOP problems)
                └── MtomPartTooLargeError (category TOO_LARGE)

``hub.api.errors`` renders XdsError as a RegistryResponse / AdhocQueryResponse and SoapFaultError as a
SOAP Fault, via :mod:`xds.responses` and :mod:`xds.soap`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from hub.core.errors import ErrorCategory, InvalidInputError, ValidationFailedError
from hub.core.issues import Issue, IssueSeverity, IssueType


class XdsErrorCode(enum.Enum):
    """Every XDS error code telehub emits (value = wire string)."""

    XDS_REGISTRY_METADATA_ERROR = "XDSRegistryMetadataError"
    XDS_REPOSITORY_METADATA_ERROR = "XDSRepositoryMetadataError"
    XDS_REGISTRY_ERROR = "XDSRegistryError"
    XDS_REPOSITORY_ERROR = "XDSRepositoryError"
    XDS_REGISTRY_BUSY = "XDSRegistryBusy"
    XDS_REGISTRY_OUT_OF_RESOURCES = "XDSRegistryOutOfResources"
    XDS_PATIENT_ID_DOES_NOT_MATCH = "XDSPatientIdDoesNotMatch"
    XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRegistryDuplicateUniqueIdInMessage"
    XDS_REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRepositoryDuplicateUniqueIdInMessage"
    XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY = "XDSDuplicateUniqueIdInRegistry"
    XDS_NON_IDENTICAL_HASH = "XDSNonIdenticalHash"
    XDS_NON_IDENTICAL_SIZE = "XDSNonIdenticalSize"
    XDS_MISSING_DOCUMENT = "XDSMissingDocument"
    XDS_MISSING_DOCUMENT_METADATA = "XDSMissingDocumentMetadata"
    XDS_UNKNOWN_PATIENT_ID = "XDSUnknownPatientId"
    XDS_REPLACE_FAILED = "XDSReplaceFailed"
    XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR = "XDSRegistryDeprecatedDocumentError"
    XDS_UNKNOWN_REPOSITORY_ID = "XDSUnknownRepositoryId"
    XDS_DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"
    XDS_UNAVAILABLE_DOCUMENT = "XDSUnavailableDocument"
    XDS_STORED_QUERY_PARAM_NUMBER = "XDSStoredQueryParamNumber"
    XDS_STORED_QUERY_MISSING_PARAM = "XDSStoredQueryMissingParam"
    XDS_UNKNOWN_STORED_QUERY = "XDSUnknownStoredQuery"
    XDS_RESULT_NOT_SINGLE_PATIENT = "XDSResultNotSinglePatient"
    XDS_TOO_MANY_RESULTS = "XDSTooManyResults"
    XDS_EXTRA_METADATA_NOT_SAVED = "XDSExtraMetadataNotSaved"
    XDS_MISSING_HOME_COMMUNITY_ID = "XDSMissingHomeCommunityId"
    XDS_UNKNOWN_COMMUNITY = "XDSUnknownCommunity"
    XDS_METADATA_UPDATE_ERROR = "XDSMetadataUpdateError"
    XDS_METADATA_UPDATE_OPERATION_ERROR = "XDSMetadataUpdateOperationError"
    XDS_METADATA_VERSION_ERROR = "XDSMetadataVersionError"
    XDS_PATIENT_ID_RECONCILIATION_ERROR = "XDSPatientIDReconciliationError"
    PARTIAL_FOLDER_CONTENT_NOT_PROCESSED = "PartialFolderContentNotProcessed"
    PARTIAL_REPLACE_CONTENT_NOT_PROCESSED = "PartialReplaceContentNotProcessed"
    PARTIAL_APPEND_CONTENT_NOT_PROCESSED = "PartialAppendContentNotProcessed"
    PARTIAL_TRANSFORM_CONTENT_NOT_PROCESSED = "PartialTransformContentNotProcessed"
    PARTIAL_TRANSFORM_REPLACE_CONTENT_NOT_PROCESSED = "PartialTransformReplaceContentNotProcessed"
    UNRESOLVED_REFERENCE_EXCEPTION = "UnresolvedReferenceException"
    REFERENCES_EXIST_EXCEPTION = "ReferencesExistException"
    XDS_UNREFERENCED_OBJECT_EXCEPTION = "XDSUnreferencedObjectException"


class RegistryErrorSeverity(enum.Enum):
    """ebRS 3.0 ErrorSeverityType."""

    ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


@dataclass(frozen=True, slots=True)
class RegistryError:
    """One finding, rendered as ``rs:RegistryError``.

    ``code_context`` is the human-readable message; ``location`` names the offending object
    (entryUUID or symbolic id) or parameter; ``rule_id`` is telehub's rule id (kept out of the wire format
    except inside ``codeContext``).
    """

    error_code: XdsErrorCode
    code_context: str
    location: str | None = None
    severity: RegistryErrorSeverity = RegistryErrorSeverity.ERROR
    rule_id: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is RegistryErrorSeverity.ERROR

    def to_issue(self) -> Issue:
        """The same finding as a hub :class:`Issue` (for OperationOutcome rendering and logs)."""
        return Issue(
            severity=IssueSeverity.ERROR if self.is_error else IssueSeverity.WARNING,
            code=IssueType.PROCESSING if self.is_error else IssueType.BUSINESS_RULE,
            diagnostics=f"{self.error_code.value}: {self.code_context}",
            location=(self.location,) if self.location else (),
            message_id=self.rule_id or self.error_code.value,
        )


def has_registry_errors(findings: Iterable[RegistryError]) -> bool:
    return any(f.is_error for f in findings)


class XdsError(ValidationFailedError):
    """A transaction failed with XDS error codes; rendered as a Failure RegistryResponse."""

    def __init__(self, message: str, errors: Iterable[RegistryError]) -> None:
        collected = tuple(errors)
        if not collected:
            raise ValueError("XdsError needs at least one RegistryError")
        super().__init__(message, issues=[e.to_issue() for e in collected])
        self.errors: tuple[RegistryError, ...] = collected

    @classmethod
    def single(cls, code: XdsErrorCode, context: str, location: str | None = None) -> XdsError:
        return cls(context, [RegistryError(code, context, location)])


class XdsMetadataError(XdsError):
    """ebRIM content that cannot be read into the model (bad CX, size, status, association type …)."""


class XdsStoredQueryError(XdsError):
    """An ITI-18 request with an unknown query id or bad/missing/too many parameters."""


class FaultCode(enum.Enum):
    """SOAP 1.2 fault codes (SOAP 1.2 Part 1 §5.4.6)."""

    SENDER = "Sender"
    RECEIVER = "Receiver"
    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"
    DATA_ENCODING_UNKNOWN = "DataEncodingUnknown"


class SoapFaultError(InvalidInputError):
    """A request that must be answered with a SOAP Fault rather than a RegistryResponse.

    ``subcode`` is a qualified name text (e.g. ``wsa:ActionNotSupported``) placed in ``env:Subcode``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: FaultCode = FaultCode.SENDER,
        subcode: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, message_id=message_id)
        self.code = code
        self.subcode = subcode


class SoapEnvelopeError(SoapFaultError):
    """Not a SOAP 1.2 envelope, no Body, missing or unsupported WS-Addressing Action."""


class MtomError(SoapFaultError):
    """Malformed multipart/related or XOP: missing start/part, duplicate or bad Content-ID, truncation."""


class MtomPartTooLargeError(MtomError):
    """A MIME part exceeds the configured limit."""

    category = ErrorCategory.TOO_LARGE
