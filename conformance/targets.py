"""Where suite cases are validated: in this process, or a running hub over HTTP (``$validate``).

See https://hl7.org/fhir/R4/resource-operation-validate.html: ``POST [base]/$validate`` with a
resource, or a Parameters resource carrying ``resource`` and ``profile``; the answer is an
OperationOutcome.  The in-process target builds a registry per case (base packages + the case's
supporting files and packages) so cases cannot leak definitions into each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from hub.core.errors import HubError, InvalidInputError
from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles import CanonicalRegistry, PackageLoader
from profiles.validator import CustomChecks, ProfileValidator, ValidationOptions


@dataclass(frozen=True, slots=True)
class ValidationRequest:
    """One validation to perform: content, its format, profiles and the definitions it needs."""

    content: bytes
    media: str  # "json" or "xml"
    profiles: tuple[str, ...] = ()
    supporting: tuple[dict[str, Any], ...] = ()
    packages: tuple[Path, ...] = ()
    label: str = ""
    # validator switches the case asks for (None: the target's own); the HTTP target cannot send them
    options: ValidationOptions | None = None


class Target(Protocol):
    """Something that validates a request and answers with issues."""

    name: str

    def unsupported(self, request: ValidationRequest) -> str | None:
        """Why this target cannot run ``request`` (None when it can)."""
        ...

    def validate(self, request: ValidationRequest) -> list[Issue]: ...


def issues_from_outcome(outcome: Any) -> list[Issue]:
    """Issues of an OperationOutcome JSON object (unknown severities/codes mapped conservatively)."""
    issues: list[Issue] = []
    for raw in (outcome or {}).get("issue") or ():
        try:
            severity = IssueSeverity(raw.get("severity"))
        except ValueError:
            severity = IssueSeverity.ERROR
        try:
            code = IssueType(raw.get("code"))
        except ValueError:
            code = IssueType.PROCESSING
        details = (raw.get("details") or {}).get("text")
        issues.append(
            Issue(
                severity=severity,
                code=code,
                diagnostics=str(details or raw.get("diagnostics") or ""),
                expression=tuple(raw.get("expression") or ()),
                location=tuple(raw.get("location") or ()),
            )
        )
    return issues


@dataclass(slots=True)
class InProcessTarget:
    """Validates with telehub's own :class:`ProfileValidator`, on top of a base registry."""

    base: CanonicalRegistry
    custom_checks: CustomChecks = field(default_factory=dict)
    name: str = "in-process"

    def unsupported(self, request: ValidationRequest) -> str | None:
        if request.media == "xml" and _xml_codec_class() is None:
            return "FHIR XML support (profiles.fhir_xml) is not available"
        return None

    def validate(self, request: ValidationRequest) -> list[Issue]:
        registry = self.base.copy()
        loader = PackageLoader(registry, search_dirs=sorted({p.parent for p in request.packages}))
        for package in request.packages:
            loader.load(package, strict=False)
        for resource in request.supporting:
            if isinstance(resource.get("url"), str):
                registry.add(resource, source=f"supporting:{request.label}")
        validator = ProfileValidator(registry, custom_checks=self.custom_checks, options=request.options)
        if request.media == "xml":
            codec_class = _xml_codec_class()
            if codec_class is None:
                raise InvalidInputError("FHIR XML support is not available")
            try:
                result = codec_class(registry).read(request.content)
            except HubError as exc:
                return list(exc.issues)
            issues = list(result.issues)
            if result.resource is not None:
                issues.extend(validator.validate(result.resource, request.profiles))
            return issues
        return validator.validate_bytes(request.content, request.profiles)


def _xml_codec_class() -> Any:
    try:
        from profiles.fhir_xml import FhirXmlCodec
    except ImportError:
        return None
    return FhirXmlCodec


class TargetRefusedError(Exception):
    """The hub under test refused the runner itself (401/403): every case would only measure that, so the
    run stops instead of counting each refusal as a disagreement."""


@dataclass(slots=True)
class HttpTarget:
    """Posts each request to ``{url}/$validate`` of a running hub."""

    url: str
    timeout: float = 60.0
    headers: dict[str, str] = field(default_factory=dict)
    name: str = "http"

    def unsupported(self, request: ValidationRequest) -> str | None:
        if request.supporting or request.packages:
            return "the HTTP target cannot load a case's supporting files or packages into the hub"
        if request.media == "xml" and request.profiles:
            return "profile parameters are only sent with JSON content to the HTTP target"
        return None

    def validate(self, request: ValidationRequest) -> list[Issue]:
        media_type = "application/fhir+xml" if request.media == "xml" else "application/fhir+json"
        body = request.content
        if request.profiles:
            parameters: list[dict[str, Any]] = [
                {"name": "resource", "resource": orjson.loads(request.content)}
            ]
            parameters.extend({"name": "profile", "valueCanonical": p} for p in request.profiles)
            body = orjson.dumps({"resourceType": "Parameters", "parameter": parameters})
        headers = {"Content-Type": media_type, "Accept": "application/fhir+json", **self.headers}
        try:
            response = httpx.post(
                f"{self.url.rstrip('/')}/$validate", content=body, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise InvalidInputError(f"$validate at {self.url} failed: {exc}") from exc
        if response.status_code in (401, 403):
            raise TargetRefusedError(
                f"$validate at {self.url} answered {response.status_code}: {_diagnostics(response)}"
            )
        try:
            outcome = response.json()
        except ValueError as exc:
            raise InvalidInputError(
                f"$validate at {self.url} answered {response.status_code} without JSON"
            ) from exc
        return issues_from_outcome(outcome)


def _diagnostics(response: httpx.Response) -> str:
    """The first diagnostics of an OperationOutcome answer, else the start of the body."""
    try:
        issues = response.json().get("issue") or [{}]
        return str(issues[0].get("diagnostics") or response.text[:200])
    except (ValueError, AttributeError):
        return response.text[:200]


def error_count(issues: Sequence[Issue]) -> int:
    return sum(1 for i in issues if i.is_error)
