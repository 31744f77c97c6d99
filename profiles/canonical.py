"""The canonical registry: conformance resources resolvable by ``url|version``.

See https://hl7.org/fhir/R4/references.html#canonical (canonical URLs, the
``|version`` suffix) and https://hl7.org/fhir/R4/resource.html#versions.

The registry holds StructureDefinitions, ValueSets, CodeSystems,
SearchParameters, OperationDefinitions and every other resource that carries a
``url``.  Packages fill it at start-up; the REST layer calls :meth:`add` when a
conformance resource is created or updated through the API.  Every change bumps
:attr:`CanonicalRegistry.generation`, which is how compiled validators know
that their caches are stale, and listeners registered with :meth:`subscribe`
are told about it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from hub.core.errors import InvalidInputError

CORE_SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"

_VERSION_PART = re.compile(r"(\d+)|([^\d.]+)")


# What a lazily loaded entry keeps in memory: enough to list and choose profiles without reading them.
SUMMARY_KEYS = ("resourceType", "url", "version", "name", "status", "kind", "derivation", "type", "abstract")


class CanonicalEntry:
    """One registered resource and where it came from (package id#version, file or ``api``).

    A package resource may be registered lazily: only its :attr:`summary` stays in memory until the
    resource is first needed, then ``load`` reads it (once).  The definitions of hl7.fhir.r4.core take
    about 110 MB as Python objects, and a hub validates against a few dozen of them.
    """

    __slots__ = ("_load", "_resource", "resource_type", "source", "summary", "url", "version")

    def __init__(
        self,
        url: str,
        version: str,
        resource_type: str,
        source: str,
        resource: dict[str, Any] | None = None,
        *,
        load: Callable[[], dict[str, Any]] | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> None:
        if resource is None and load is None:
            raise ValueError("a canonical entry needs its resource or a way to load it")
        self.url, self.version, self.resource_type, self.source = url, version, resource_type, source
        self._resource, self._load = resource, load
        self.summary: Mapping[str, Any] = (
            summary if summary is not None else resource if resource is not None else {}
        )

    @property
    def resource(self) -> dict[str, Any]:
        if self._resource is None:
            assert self._load is not None
            self._resource = self._load()  # two threads may both load: same content, last one wins
        return self._resource

    @property
    def loaded(self) -> bool:
        return self._resource is not None


def split_canonical(reference: str) -> tuple[str, str | None]:
    """``"http://x/y|1.0"`` -> ``("http://x/y", "1.0")``; a ``#fragment`` is dropped."""
    url, sep, version = reference.partition("|")
    url = url.split("#", 1)[0]
    version = version.split("#", 1)[0]
    return url, (version or None) if sep else None


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key treating numeric parts numerically (``4.0.10`` > ``4.0.9``); text parts sort lower."""
    key: list[tuple[int, int | str]] = []
    for number, text in _VERSION_PART.findall(version):
        key.append((1, int(number)) if number else (0, text))
    return tuple(key)


def _version_of(resource: Mapping[str, Any]) -> str:
    version = resource.get("version")
    return version if isinstance(version, str) else ""


def _version_matches(wanted: str, have: str) -> bool:
    """Exact match, or ``wanted`` is a dotted prefix of ``have`` (``4.0`` matches ``4.0.1``)."""
    return have == wanted or have.startswith(wanted + ".")


class CanonicalRegistry:
    """Thread-safe store of canonical resources keyed by url and business version."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_url: dict[str, dict[str, CanonicalEntry]] = {}
        self._by_type: dict[str, dict[str, None]] = {}
        self._listeners: list[Callable[[str], None]] = []
        self.generation = 0

    # -- changes -------------------------------------------------------------
    def add(self, resource: dict[str, Any], *, source: str = "") -> None:
        """Register (or replace) ``resource`` under its ``url`` and ``version``."""
        url = resource.get("url")
        resource_type = resource.get("resourceType")
        if not isinstance(url, str) or not url:
            raise InvalidInputError("A canonical resource needs a 'url'", message_id="CANONICAL_NO_URL")
        if not isinstance(resource_type, str) or not resource_type:
            raise InvalidInputError(
                f"Canonical resource {url} has no resourceType", message_id="CANONICAL_NO_TYPE"
            )
        self._put(CanonicalEntry(url, _version_of(resource), resource_type, source, resource))

    def add_lazy(
        self, summary: Mapping[str, Any], load: Callable[[], dict[str, Any]], *, source: str
    ) -> None:
        """Register a resource by its summary (see :data:`SUMMARY_KEYS`); ``load`` reads it when needed."""
        url, resource_type = summary["url"], summary["resourceType"]
        self._put(
            CanonicalEntry(url, _version_of(summary), resource_type, source, load=load, summary=summary)
        )

    def _put(self, entry: CanonicalEntry) -> None:
        url, version, resource_type = entry.url, entry.version, entry.resource_type
        with self._lock:
            self._by_url.setdefault(url, {})[version] = entry
            self._by_type.setdefault(resource_type, {})[url] = None
            self.generation += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(url)

    def add_all(self, resources: Iterable[dict[str, Any]], *, source: str = "") -> None:
        for resource in resources:
            self.add(resource, source=source)

    def remove(self, url: str, version: str | None = None) -> None:
        """Forget ``url`` (all versions, or just ``version``); unknown urls are ignored."""
        base, embedded = split_canonical(url)
        version = version if version is not None else embedded
        with self._lock:
            versions = self._by_url.get(base)
            if versions is None:
                return
            if version is None:
                removed = list(versions.values())
                versions.clear()
            else:
                gone = versions.pop(version, None)
                removed = [gone] if gone else []
            if not versions:
                del self._by_url[base]
                for entry in removed:
                    self._by_type.get(entry.resource_type, {}).pop(base, None)
            self.generation += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(base)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(url)`` after every add/remove (used to drop compiled validators)."""
        with self._lock:
            self._listeners.append(listener)

    def copy(self) -> CanonicalRegistry:
        """An independent registry with the same entries (resources shared, not copied); no listeners."""
        other = CanonicalRegistry()
        with self._lock:
            other._by_url = {url: dict(versions) for url, versions in self._by_url.items()}
            other._by_type = {t: dict(urls) for t, urls in self._by_type.items()}
        return other

    # -- lookups -------------------------------------------------------------
    def entry(self, url: str, version: str | None = None) -> CanonicalEntry | None:
        """The entry for ``url`` (``url|version`` allowed); newest version when none is given."""
        base, embedded = split_canonical(url)
        version = version if version is not None else embedded
        versions = self._by_url.get(base)
        if not versions:
            return None
        if version is None:
            return (
                versions[max(versions, key=version_key)]
                if len(versions) > 1
                else next(iter(versions.values()))
            )
        exact = versions.get(version)
        if exact is not None:
            return exact
        candidates = [v for v in versions if _version_matches(version, v)]
        if candidates:
            return versions[max(candidates, key=version_key)]
        return None

    def resolve(self, url: str, version: str | None = None) -> dict[str, Any] | None:
        """The resource for ``url`` (``url|version`` allowed), or None when unknown."""
        found = self.entry(url, version)
        return found.resource if found else None

    def versions(self, url: str) -> list[str]:
        """Known business versions of ``url``, oldest first."""
        return sorted(self._by_url.get(split_canonical(url)[0], {}), key=version_key)

    def structure_definition_for_type(self, type_name: str) -> dict[str, Any] | None:
        """The core StructureDefinition of a type or resource (``Patient``, ``string``, ``HumanName``)."""
        if type_name.startswith(("http://", "https://")):
            return self.resolve(type_name)
        return self.resolve(CORE_SD_PREFIX + type_name)

    def all(self, resource_type: str) -> Iterable[dict[str, Any]]:
        """Every registered resource of ``resource_type`` (newest version of each url)."""
        with self._lock:
            urls = list(self._by_type.get(resource_type, {}))
        for url in urls:
            found = self.entry(url)
            if found is not None and found.resource_type == resource_type:
                yield found.resource

    def summaries(self, resource_type: str) -> Iterable[Mapping[str, Any]]:
        """The summaries of :meth:`all` (no lazily registered resource is read)."""
        with self._lock:
            urls = list(self._by_type.get(resource_type, {}))
        for url in urls:
            found = self.entry(url)
            if found is not None and found.resource_type == resource_type:
                yield found.summary

    def entries(self) -> Iterator[CanonicalEntry]:
        """Every registered entry, all versions."""
        with self._lock:
            snapshot = [e for versions in self._by_url.values() for e in versions.values()]
        yield from snapshot

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self.entry(url) is not None

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_url.values())
