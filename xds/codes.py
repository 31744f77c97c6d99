"""XDS metadata code sets: classification schemes, identification schemes and object-type UUIDs.

Source: IHE ITI TF-3 4.2.5 "Metadata Identifiers" (Table 4.2.5-1, 4.2.5-2) and ITI TF-3 4.2.2
(association types), ebRIM 3.0 §2.4 (status types).  Every code set is an :class:`enum.Enum` whose value
is the exact string that appears on the wire.
"""

from __future__ import annotations

import enum


class AvailabilityStatus(enum.Enum):
    """ebRIM 3.0 StatusType; XDS uses Approved and Deprecated (ITI TF-3 4.2.3.2.2); ITI-57 adds Submitted."""

    SUBMITTED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted"
    APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    WITHDRAWN = "urn:oasis:names:tc:ebxml-regrep:StatusType:Withdrawn"


class DocumentEntryType(enum.Enum):
    """DocumentEntry.objectType (ITI TF-3 4.2.5.2): stable or on-demand."""

    STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
    ON_DEMAND = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"


class AssociationType(enum.Enum):
    """Association types (ITI TF-3 4.2.2, Table 4.2.2-1; ITI-57 types from TF-3 4.2.2.1.x)."""

    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
    APND = "urn:ihe:iti:2007:AssociationType:APND"
    XFRM = "urn:ihe:iti:2007:AssociationType:XFRM"
    XFRM_RPLC = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC"
    SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
    IS_SNAPSHOT_OF = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf"
    UPDATE_AVAILABILITY_STATUS = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
    SUBMIT_ASSOCIATION = "urn:ihe:iti:2010:AssociationType:SubmitAssociation"

    @property
    def is_relationship(self) -> bool:
        """Document relationships (ITI TF-3 4.2.2.2): RPLC, APND, XFRM, XFRM_RPLC, signs, IsSnapshotOf."""
        return self in _RELATIONSHIPS

    @property
    def replaces(self) -> bool:
        """RPLC and XFRM_RPLC deprecate their target (ITI TF-3 4.2.2.2.2)."""
        return self in (AssociationType.RPLC, AssociationType.XFRM_RPLC)


_RELATIONSHIPS = frozenset(
    {
        AssociationType.RPLC,
        AssociationType.APND,
        AssociationType.XFRM,
        AssociationType.XFRM_RPLC,
        AssociationType.SIGNS,
        AssociationType.IS_SNAPSHOT_OF,
    }
)


class SubmissionSetStatus(enum.Enum):
    """Slot SubmissionSetStatus on a SubmissionSet HasMember association (ITI TF-3 4.2.2.1.1)."""

    ORIGINAL = "Original"
    REFERENCE = "Reference"


class ClassificationScheme(enum.Enum):
    """classificationScheme UUIDs of coded attributes and authors (ITI TF-3 Table 4.2.5-1)."""

    DOC_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
    DOC_CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    DOC_CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
    DOC_EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
    DOC_FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    DOC_HEALTHCARE_FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    DOC_PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
    DOC_TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
    SS_CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
    FOLDER_CODE_LIST = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"


class IdentificationScheme(enum.Enum):
    """identificationScheme UUIDs of ExternalIdentifiers (ITI TF-3 Table 4.2.5-2)."""

    DOC_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
    DOC_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
    SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
    SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
    SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
    FOLDER_PATIENT_ID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
    FOLDER_UNIQUE_ID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"


class ClassificationNode(enum.Enum):
    """classificationNode of marker Classifications (ITI TF-3 4.2.5): the kind of a RegistryPackage and
    the limitedMetadata flags (ITI TF-3 4.2.3.2.29, 4.2.3.3.x, 4.2.3.4.x)."""

    SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
    FOLDER = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
    DOC_LIMITED_METADATA = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"
    SS_LIMITED_METADATA = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707"
    FOLDER_LIMITED_METADATA = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03"


class ObjectTypeUrn(enum.Enum):
    """ebRIM 3.0 canonical objectType URNs the writer emits on packages and associations."""

    REGISTRY_PACKAGE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
    ASSOCIATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
    CLASSIFICATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
    EXTERNAL_IDENTIFIER = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"


# Name of the ExternalIdentifier written for each scheme (ITI TF-3 4.2.3.2.x: "XDSDocumentEntry.patientId" …).
EXTERNAL_IDENTIFIER_NAMES: dict[IdentificationScheme, str] = {
    IdentificationScheme.DOC_PATIENT_ID: "XDSDocumentEntry.patientId",
    IdentificationScheme.DOC_UNIQUE_ID: "XDSDocumentEntry.uniqueId",
    IdentificationScheme.SS_PATIENT_ID: "XDSSubmissionSet.patientId",
    IdentificationScheme.SS_UNIQUE_ID: "XDSSubmissionSet.uniqueId",
    IdentificationScheme.SS_SOURCE_ID: "XDSSubmissionSet.sourceId",
    IdentificationScheme.FOLDER_PATIENT_ID: "XDSFolder.patientId",
    IdentificationScheme.FOLDER_UNIQUE_ID: "XDSFolder.uniqueId",
}
