"""What a stored query found (by kind, in response order) and whom it may show (consent, citizen scope).

ITI TF-2a 3.18.4.1.2.3.7 (the objects each query returns); issue 6 (consent inside the query).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.core.registry_query import StoredObject
from hub.storage import ConsentBlock


@dataclass(slots=True)
class QueryResult:
    """The objects a query found, by kind, in response order, and whether consent withheld any."""

    entries: list[StoredObject] = field(default_factory=list)
    submission_sets: list[StoredObject] = field(default_factory=list)
    folders: list[StoredObject] = field(default_factory=list)
    associations: list[StoredObject] = field(default_factory=list)
    withheld: bool = False

    def objects(self) -> list[StoredObject]:
        return [*self.entries, *self.submission_sets, *self.folders, *self.associations]

    def patient_keys(self) -> set[str]:
        return {
            o.header.patient_key
            for o in (*self.entries, *self.submission_sets, *self.folders)
            if o.header.patient_key is not None
        }


@dataclass(frozen=True, slots=True)
class QueryScope:
    """Who may see what: consent filter and (for a citizen) the one patient key."""

    consent: ConsentBlock | None = None
    patient_key: str | None = None
    with_ebrim: bool = True  # False for ObjectRef answers: the registry form bytes are not read at all
    # $MetadataLevel 1 (the default): no earlier versions of DocumentEntries and Folders, no Deprecated
    # Folders or Associations - what a consumer without the Metadata Update option expects
    current_metadata_only: bool = True
    # more objects of one kind than this: XDSTooManyResults (None: no limit)
    max_results: int | None = None
