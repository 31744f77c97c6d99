"""Repository rules of ITI-41 Provide and Register Document Set-b (ITI TF-2b 3.41.4.1.3).

Every DocumentEntry has its document (XDSMissingDocument) and every document its DocumentEntry
(XDSMissingDocumentMetadata); a submitted hash or size must equal what the repository computed
(XDSRepositoryMetadataError, as the NIST tests 11981 expect); a repositoryUniqueId, when given, names this
repository; uniqueIds are unique in the message; documents respect the configured size limit.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from xds.errors import RegistryError
from xds.model import RegistryObjectList
from xds.registry_rules import catalogue as rules


@dataclass(frozen=True, slots=True)
class SubmittedDocument:
    """What the repository measured of one received document."""

    size: int
    sha1: str


def check_documents(
    objects: RegistryObjectList,
    documents: Mapping[str, SubmittedDocument],
    *,
    repository_unique_id: str,
    max_document_bytes: int,
) -> list[RegistryError]:
    findings: list[RegistryError] = []
    entries = {e.entry_uuid: e for e in objects.document_entries}
    for entry_id in entries.keys() - documents.keys():
        findings.append(
            rules.MISSING_DOCUMENT.finding(f"no xdsb:Document for DocumentEntry {entry_id}", entry_id)
        )
    for doc_id in documents.keys() - entries.keys():
        findings.append(
            rules.MISSING_METADATA.finding(f"no DocumentEntry for xdsb:Document {doc_id}", doc_id)
        )
    for entry_id, entry in entries.items():
        document = documents.get(entry_id)
        if document is None:
            continue
        if entry.hash is not None and entry.hash.lower() != document.sha1:
            findings.append(
                rules.REPOSITORY_HASH_SIZE.finding(
                    f"hash {entry.hash} was submitted but the document's SHA-1 is {document.sha1}", entry_id
                )
            )
        if entry.size is not None and entry.size != document.size:
            findings.append(
                rules.REPOSITORY_HASH_SIZE.finding(
                    f"size {entry.size} was submitted but the document has {document.size} bytes", entry_id
                )
            )
        if entry.repository_unique_id and entry.repository_unique_id != repository_unique_id:
            findings.append(
                rules.REPOSITORY_ID.finding(
                    f"repositoryUniqueId {entry.repository_unique_id} is not {repository_unique_id}", entry_id
                )
            )
        if document.size > max_document_bytes:
            findings.append(
                rules.DOCUMENT_TOO_LARGE.finding(
                    f"document has {document.size} bytes, the limit is {max_document_bytes}", entry_id
                )
            )
    counts = Counter(e.unique_id for e in objects.document_entries if e.unique_id)
    for unique_id, count in counts.items():
        if count > 1:
            findings.append(
                rules.REPOSITORY_UNIQUE_ID.finding(f"uniqueId {unique_id} used {count} times", unique_id)
            )
    return findings


def with_repository_attributes(
    objects: RegistryObjectList, documents: Mapping[str, SubmittedDocument], *, repository_unique_id: str
) -> RegistryObjectList:
    """The entries completed by the repository: hash, size and repositoryUniqueId (ITI TF-2b 3.41.4.1.3)."""
    entries = tuple(
        dataclasses.replace(
            entry,
            hash=documents[entry.entry_uuid].sha1,
            size=documents[entry.entry_uuid].size,
            repository_unique_id=repository_unique_id,
        )
        if entry.entry_uuid in documents
        else entry
        for entry in objects.document_entries
    )
    return dataclasses.replace(objects, document_entries=entries)
