"""The catalogue of registry and repository rules: one :class:`Rule` per check, each with an id, the XDS
error code it reports and the spec section it enforces (ITI TF-3 4.1-4.2, ITI TF-2b 3.41/3.42/3.57, the
Danish metadata profile).  ``RULES`` lists them all, for documentation and for the docs test.
"""

from __future__ import annotations

from dataclasses import dataclass

from xds.errors import RegistryError, RegistryErrorSeverity, XdsErrorCode

_E = XdsErrorCode


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    error_code: XdsErrorCode
    summary: str
    spec: str

    def finding(
        self,
        context: str,
        location: str | None = None,
        severity: RegistryErrorSeverity = RegistryErrorSeverity.ERROR,
    ) -> RegistryError:
        """A RegistryError whose codeContext starts with the rule id."""
        return RegistryError(self.error_code, f"[{self.id}] {context}", location or None, severity, self.id)


# ------------------------------------------------------------------ required attributes and formats
REQUIRED_ATTRIBUTE = Rule(
    "XDS-REQ-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "required attribute missing",
    "ITI TF-3 4.2.3.2/3/4 tables",
)
CODE_TRIPLE = Rule(
    "XDS-REQ-02",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "coded value needs code, codingScheme and display",
    "ITI TF-3 4.2.3.1.2",
)
ATTRIBUTE_FORMAT = Rule(
    "XDS-FMT-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "attribute value has the wrong format",
    "ITI TF-3 4.2.3.1.7",
)
HASH_FORMAT = Rule(
    "XDS-FMT-02",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "hash is not 40 hex digits (SHA-1)",
    "ITI TF-3 4.2.3.2.10",
)
ENTRY_UUID_FORMAT = Rule(
    "XDS-FMT-03",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "entryUUID is neither a UUID URN nor symbolic",
    "ITI TF-3 4.2.3.2.8",
)
LIMITED_METADATA = Rule(
    "XDS-FMT-04",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "an XDS registry does not accept limited metadata",
    "ITI TF-3 4.1.1",
)

# ------------------------------------------------------------------ submission structure
ONE_SUBMISSION_SET = Rule(
    "XDS-SUB-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "exactly one SubmissionSet per submission",
    "ITI TF-3 4.1.4",
)
MEMBER_OF_SUBMISSION_SET = Rule(
    "XDS-SUB-02",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "every new DocumentEntry and Folder is a HasMember of the SubmissionSet",
    "ITI TF-3 4.2.2.1.1",
)
DUPLICATE_ENTRY_UUID = Rule(
    "XDS-SUB-03",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "entryUUID used twice or already registered",
    "ITI TF-3 4.2.3.2.8",
)
SAME_PATIENT = Rule(
    "XDS-PAT-01",
    _E.XDS_PATIENT_ID_DOES_NOT_MATCH,
    "all objects of a submission share one patientId",
    "ITI TF-3 4.1.4",
)
UNKNOWN_PATIENT = Rule(
    "XDS-PAT-02",
    _E.XDS_UNKNOWN_PATIENT_ID,
    "patientId unknown to the patient registry",
    "ITI TF-2b 3.42.4.1.3.1",
)
UNIQUE_ID_IN_MESSAGE = Rule(
    "XDS-UID-01",
    _E.XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
    "uniqueId used twice in the message",
    "ITI TF-3 4.2.4",
)
UNIQUE_ID_IN_REGISTRY = Rule(
    "XDS-UID-02",
    _E.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
    "SubmissionSet/Folder uniqueId already registered",
    "ITI TF-3 4.2.4",
)
RESUBMISSION_HASH = Rule(
    "XDS-UID-03",
    _E.XDS_NON_IDENTICAL_HASH,
    "re-registered document has another hash",
    "ITI TF-2b 3.42.4.1.3.3",
)
RESUBMISSION_SIZE = Rule(
    "XDS-UID-04",
    _E.XDS_NON_IDENTICAL_SIZE,
    "re-registered document has another size",
    "ITI TF-2b 3.42.4.1.3.3",
)

# ------------------------------------------------------------------ associations
ASSOCIATION_REFERENCE = Rule(
    "XDS-ASC-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "association source/target is in the message or in the registry",
    "ITI TF-3 4.2.2",
)
ASSOCIATION_SHAPE = Rule(
    "XDS-ASC-02",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "association type does not fit its source/target",
    "ITI TF-3 4.2.2.1",
)
SUBMISSION_SET_STATUS = Rule(
    "XDS-ASC-03",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "SubmissionSetStatus Original/Reference is wrong",
    "ITI TF-3 4.2.2.1.1",
)
ASSOCIATION_PATIENT = Rule(
    "XDS-ASC-04",
    _E.XDS_PATIENT_ID_DOES_NOT_MATCH,
    "associated objects belong to one patient",
    "ITI TF-3 4.2.2",
)
RELATIONSHIP_TARGET = Rule(
    "XDS-REL-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "RPLC/APND/XFRM target is a registered DocumentEntry",
    "ITI TF-3 4.2.2.2",
)
RELATIONSHIP_DEPRECATED = Rule(
    "XDS-REL-02",
    _E.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
    "RPLC/APND/XFRM target must be Approved",
    "ITI TF-3 4.2.2.2",
)
REPLACE_TWICE = Rule(
    "XDS-REL-03",
    _E.XDS_REPLACE_FAILED,
    "a document is replaced twice in one submission",
    "ITI TF-3 4.2.2.2.2",
)

# ------------------------------------------------------------------ entryUUID / logicalId / version
LOGICAL_ID_NEW_OBJECT = Rule(
    "XDS-VER-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "a new object's logicalId equals its entryUUID; version is absent or 1",
    "ITI TF-3 4.2.3.2.13, 4.2.3.2.31",
)
UPDATE_PREVIOUS_VERSION = Rule(
    "XDS-VER-02",
    _E.XDS_METADATA_VERSION_ERROR,
    "PreviousVersion matches the latest registered version",
    "ITI TF-2b 3.57.4.1.3.3.1",
)
UPDATE_TARGET = Rule(
    "XDS-VER-03",
    _E.XDS_METADATA_UPDATE_ERROR,
    "the updated object exists, is Approved and keeps its identity",
    "ITI TF-2b 3.57.4.1.3.3",
)
UPDATE_PATIENT = Rule(
    "XDS-VER-04",
    _E.XDS_PATIENT_ID_RECONCILIATION_ERROR,
    "an update keeps the patientId",
    "ITI TF-2b 3.57.4.1.3.3.1",
)
UPDATE_OPERATION = Rule(
    "XDS-VER-05",
    _E.XDS_METADATA_UPDATE_OPERATION_ERROR,
    "the update operation cannot be decoded",
    "ITI TF-2b 3.57.4.1.3.2",
)
STATUS_CHANGE = Rule(
    "XDS-VER-06",
    _E.XDS_METADATA_UPDATE_ERROR,
    "OriginalStatus matches and NewStatus is allowed",
    "ITI TF-2b 3.57.4.1.3.3.2",
)

# ------------------------------------------------------------------ repository (ITI-41)
MISSING_DOCUMENT = Rule(
    "XDS-REP-01",
    _E.XDS_MISSING_DOCUMENT,
    "DocumentEntry without a document",
    "ITI TF-2b 3.41.4.1.3",
)
MISSING_METADATA = Rule(
    "XDS-REP-02",
    _E.XDS_MISSING_DOCUMENT_METADATA,
    "document without a DocumentEntry",
    "ITI TF-2b 3.41.4.1.3",
)
REPOSITORY_HASH_SIZE = Rule(
    "XDS-REP-03",
    _E.XDS_REPOSITORY_METADATA_ERROR,
    "submitted hash/size differ from the document",
    "ITI TF-2b 3.41.4.1.3",
)
REPOSITORY_UNIQUE_ID = Rule(
    "XDS-REP-04",
    _E.XDS_REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
    "document uniqueId used twice in the message",
    "ITI TF-2b 3.41.4.1.3",
)
REPOSITORY_ID = Rule(
    "XDS-REP-05",
    _E.XDS_REPOSITORY_METADATA_ERROR,
    "repositoryUniqueId names another repository",
    "ITI TF-2b 3.41.4.1.3",
)
DOCUMENT_TOO_LARGE = Rule(
    "XDS-REP-06",
    _E.XDS_REPOSITORY_ERROR,
    "document exceeds the configured maximum size",
    "telehub limit",
)

# ------------------------------------------------------------------ Danish profile
DK_VALUE_SET = Rule(
    "DK-XDS-01",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "coded attribute outside the Danish value set",
    "DK XDS metadata §2.3",
)
DK_REQUIRED = Rule(
    "DK-XDS-02",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "attribute required by the Danish profile is missing",
    "DK XDS metadata Table 5",
)
DK_IDENTIFIERS = Rule(
    "DK-XDS-03",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "CPR patient id / SOR institution form",
    "DK XDS metadata §2.3",
)
DK_TIME_PRECISION = Rule(
    "DK-XDS-04",
    _E.XDS_REGISTRY_METADATA_ERROR,
    "times are UTC to the second (14 digits)",
    "DK XDS metadata §2.3",
)

# ------------------------------------------------------------------ ITI-62 delete
UNRESOLVED = Rule(
    "XDS-DEL-01",
    _E.UNRESOLVED_REFERENCE_EXCEPTION,
    "the object to delete is not registered",
    "ITI TF-2b 3.62.4.1.3",
)
REFERENCES_EXIST = Rule(
    "XDS-DEL-02",
    _E.REFERENCES_EXIST_EXCEPTION,
    "a remaining association refers to a deleted object",
    "ITI TF-2b 3.62.4.1.3",
)
UNREFERENCED = Rule(
    "XDS-DEL-03",
    _E.XDS_UNREFERENCED_OBJECT_EXCEPTION,
    "an object would be left without SubmissionSet membership",
    "ITI TF-2b 3.62.4.1.3",
)

RULES: tuple[Rule, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Rule))
