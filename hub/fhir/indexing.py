"""Index rows and Patient-compartment key of a resource about to be stored (hub.fhir.search does the work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.core.search import IndexEntry
from hub.fhir.search import IndexExtractor, SearchParameterRegistry, patient_compartment_key


class ResourceIndexer:
    """Extracts what a write needs for search: typed index entries and the ``patient_key``."""

    def __init__(self, registry: SearchParameterRegistry, *, local_base: str | None = None) -> None:
        self.registry = registry
        self.local_base = local_base  # absolute references under it are local Type/id (index and queries)
        self._extractor = IndexExtractor(registry, local_base=local_base)

    def index(self, resource: Mapping[str, Any]) -> tuple[tuple[IndexEntry, ...], str | None]:
        return self._extractor.extract(resource), patient_compartment_key(resource, self.local_base)
