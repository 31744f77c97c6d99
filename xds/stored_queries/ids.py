"""Stored query ids and return types of ITI-18 Registry Stored Query (ITI TF-2a 3.18.4.1.2.3.7).

The ``AdhocQuery/@id`` UUID selects the query; ``ResponseOption/@returnType`` selects ObjectRef or LeafClass
results (ITI TF-2a 3.18.4.1.2.1).
"""

from __future__ import annotations

import enum


class StoredQueryId(enum.Enum):
    """The fourteen XDS stored queries (ITI TF-2a 3.18.4.1.2.3.7.1-3.18.4.1.2.3.7.14)."""

    FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    FIND_DOCUMENTS_BY_REFERENCE_ID = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
    FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
    FIND_FOLDERS = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
    GET_ALL = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
    GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
    GET_FOLDERS = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
    GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
    GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
    GET_SUBMISSION_SETS = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"
    GET_SUBMISSION_SET_AND_CONTENTS = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
    GET_FOLDER_AND_CONTENTS = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
    GET_FOLDERS_FOR_DOCUMENT = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
    GET_RELATED_DOCUMENTS = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"

    @property
    def spec_name(self) -> str:
        """The name as the spec spells it, e.g. ``FindDocuments``."""
        return "".join(part.capitalize() for part in self.name.split("_"))


class ReturnType(enum.Enum):
    """``ResponseOption/@returnType`` values XDS allows (ITI TF-2a 3.18.4.1.2.1)."""

    OBJECT_REF = "ObjectRef"
    LEAF_CLASS = "LeafClass"
