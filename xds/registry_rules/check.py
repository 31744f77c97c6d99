"""The rule sets of each transaction, run in one pass that returns every finding (never the first only).

- :func:`check_register`: ITI-42 Register Document Set-b and the registry half of ITI-41
  (ITI TF-2b 3.42.4.1.3; ITI TF-3 4.1-4.2) plus the Danish profile.
- :func:`check_provide_and_register`: the repository half of ITI-41 (ITI TF-2b 3.41.4.1.3).
- :func:`check_update`: ITI-57 Update Document Set (ITI TF-2b 3.57.4.1.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.core.settings import Strictness, XdsSettings
from xds.errors import RegistryError
from xds.model import RegistryObjectList
from xds.registry_rules.danish import check_danish_profile
from xds.registry_rules.repository import SubmittedDocument, check_documents
from xds.registry_rules.required import check_required
from xds.registry_rules.state import RegistryState
from xds.registry_rules.submission import (
    check_associations,
    check_patients,
    check_structure,
    check_uniqueness,
)
from xds.registry_rules.versions import check_new_object_versions
from xds.registry_rules.versions import check_update as check_versions


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """Rule configuration (from ``Settings.xds``); ``danish_strictness=None`` turns the DK checks off."""

    repository_unique_id: str
    max_document_bytes: int = 200 * 1024 * 1024
    danish_strictness: Strictness | None = Strictness.ERROR

    @classmethod
    def from_settings(cls, settings: XdsSettings) -> RuleOptions:
        return cls(
            repository_unique_id=settings.repository_unique_id,
            max_document_bytes=settings.max_document_bytes,
            danish_strictness=settings.danish_profile_strictness,
        )


def _danish(objects: RegistryObjectList, options: RuleOptions) -> list[RegistryError]:
    if options.danish_strictness is None:
        return []
    return check_danish_profile(objects, options.danish_strictness)


def check_register(
    objects: RegistryObjectList, state: RegistryState, options: RuleOptions
) -> list[RegistryError]:
    """Every registry finding of a new submission (documents, submission set, folders, associations)."""
    return [
        *check_required(objects),
        *check_structure(objects),
        *check_patients(objects, state),
        *check_uniqueness(objects, state),
        *check_associations(objects, state),
        *check_new_object_versions(objects),
        *_danish(objects, options),
    ]


def check_provide_and_register(
    objects: RegistryObjectList, documents: Mapping[str, SubmittedDocument], options: RuleOptions
) -> list[RegistryError]:
    """Repository findings of ITI-41, before the metadata is completed and registered."""
    return [
        *check_required(objects, for_repository=True),
        *check_documents(
            objects,
            documents,
            repository_unique_id=options.repository_unique_id,
            max_document_bytes=options.max_document_bytes,
        ),
    ]


def check_update(
    objects: RegistryObjectList, state: RegistryState, options: RuleOptions
) -> list[RegistryError]:
    """Every finding of an ITI-57 metadata update (new versions, status changes, new associations)."""
    return [
        *check_required(objects),
        *check_structure(objects),
        *check_patients(objects, state),
        *check_associations(objects, state, update=True),
        *check_versions(objects, state),
        *_danish(objects, options),
    ]
