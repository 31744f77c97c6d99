"""Per-call validation state: collected issues, the resource being walked, recursion guards.

See https://hl7.org/fhir/R4/fhirpath.html#variables for ``%resource`` / ``%rootResource``
(the frame stack below) and https://hl7.org/fhir/R4/operationoutcome.html for the issues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles.canonical import CanonicalRegistry
from profiles.fhirpath import FhirPathEngine
from profiles.terminology import TerminologyService
from profiles.validator.compiler import ProfileCompiler
from profiles.validator.messages import MessageId
from profiles.validator.options import DEFAULT_OPTIONS, ValidationOptions

MAX_DEPTH = 64  # nesting of JSON objects inside one resource walk
# Issues are immutable, and a stream of similar resources (home measurements) yields the same ones
# again and again: they are shared rather than rebuilt (a frozen dataclass costs microseconds).
_ISSUES: dict[tuple[str, str, str, str, str], Issue] = {}
_ISSUES_LIMIT = 20_000


class CustomCheck(Protocol):
    """An extra rule attached to a profile element (e.g. the Danish CPR date check)."""

    def __call__(self, value: Any, path: str) -> list[Issue]: ...


CustomChecks = Mapping[tuple[str, str], Sequence[CustomCheck]]


@dataclass(slots=True)
class Services:
    """What a validation run needs; shared by every call of one validator."""

    registry: CanonicalRegistry
    engine: FhirPathEngine
    terminology: TerminologyService
    compiler: ProfileCompiler
    custom_checks: CustomChecks = field(default_factory=dict)
    has_core: Callable[[], bool] = lambda: True
    options: ValidationOptions = DEFAULT_OPTIONS


@dataclass(slots=True)
class ResourceFrame:
    resource: dict[str, Any]
    root: dict[str, Any]
    bundle: dict[str, Any] | None
    path: str


class ValidationContext:
    """Issues and state of one ``validate()`` call."""

    def __init__(self, services: Services, options: ValidationOptions | None = None) -> None:
        self.services = services
        self.options = options or services.options
        self.issues: list[Issue] = []
        self.frames: list[ResourceFrame] = []
        self.depth = 0
        # (type, instance path) of the objects being walked; extensions check their context against it
        self.holders: list[tuple[str, str, Any]] = []
        self.guard: set[tuple[int, str]] = set()
        # ValueSets bound to the coded elements being walked: their displays are valid alternatives
        self.bound_value_sets: list[str] = []
        # element ids met in each resource walk (keyed by its frame), own per context: trials do not count
        self.element_ids: dict[int, dict[str, int]] = {}
        self.reported: set[tuple[str, str]] = set()  # once-per-call issues already added
        self._bundle_indexes: dict[int, dict[str, dict[str, Any]]] = {}

    def add(
        self,
        severity: IssueSeverity,
        code: IssueType,
        message: str,
        path: str,
        message_id: MessageId,
    ) -> None:
        # plain values in the key: hashing an Enum member runs Python code
        key = (severity._value_, code._value_, message, path, message_id._value_)
        issue = _ISSUES.get(key)
        if issue is None:
            if len(_ISSUES) >= _ISSUES_LIMIT:
                _ISSUES.clear()
            # positional: a frozen dataclass takes keywords markedly slower
            issue = _ISSUES[key] = Issue(severity, code, message, (path,), (), message_id._value_)
        self.issues.append(issue)

    def error(self, code: IssueType, message: str, path: str, message_id: MessageId) -> None:
        self.add(IssueSeverity.ERROR, code, message, path, message_id)

    def warning(self, code: IssueType, message: str, path: str, message_id: MessageId) -> None:
        self.add(IssueSeverity.WARNING, code, message, path, message_id)

    def info(self, code: IssueType, message: str, path: str, message_id: MessageId) -> None:
        self.add(IssueSeverity.INFORMATION, code, message, path, message_id)

    @property
    def frame(self) -> ResourceFrame | None:
        return self.frames[-1] if self.frames else None

    def bundle_lookup(self, bundle: dict[str, Any], reference: str) -> dict[str, Any] | None:
        """The entry resource ``reference`` points at (by fullUrl, ``Type/id`` or a URL ending in it).

        ``bundle`` is the grouping resource: a Bundle, or a Parameters whose parameters carry
        resources (they may refer to each other, as in ``$member-match``).
        """
        index = self._bundle_indexes.get(id(bundle))
        if index is None:
            index = {}
            for full_url, resource in _grouped(bundle):
                if isinstance(full_url, str):
                    index.setdefault(full_url, resource)
                typed = f"{resource.get('resourceType')}/{resource.get('id')}"
                index.setdefault(typed, resource)
            self._bundle_indexes[id(bundle)] = index
        found = index.get(reference)
        if found is None and "/" in reference and not reference.startswith("urn:"):
            parts = reference.split("/_history/", 1)[0].rstrip("/").split("/")
            found = index.get("/".join(parts[-2:]))
        return found

    def sub_context(self) -> ValidationContext:
        """A context sharing state but collecting issues separately (slice/profile trials)."""
        trial = ValidationContext(self.services, self.options)
        trial.frames = list(self.frames)
        trial.depth = self.depth
        trial.holders = list(self.holders)
        trial.bound_value_sets = list(self.bound_value_sets)
        trial.guard = self.guard
        trial.reported = self.reported
        trial._bundle_indexes = self._bundle_indexes
        return trial


def _grouped(container: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(fullUrl, resource) of the resources a Bundle or Parameters groups."""
    if container.get("resourceType") == "Parameters":
        pending = list(container.get("parameter") or ())
        while pending:
            parameter = pending.pop(0)
            if not isinstance(parameter, dict):
                continue
            if isinstance(parameter.get("resource"), dict):
                yield None, parameter["resource"]
            pending.extend(parameter.get("part") or ())
        return
    for entry in container.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            yield entry.get("fullUrl"), resource
