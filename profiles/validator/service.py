"""The profile validator service: the one entry point for validating FHIR JSON resources.

See https://hl7.org/fhir/R4/validation.html and https://hl7.org/fhir/R4/resource-operation-validate.html.
A resource is checked against its base definition from ``hl7.fhir.r4.core``, every profile it
declares in ``meta.profile`` and every profile the caller names.  Compiled profiles are cached
and rebuilt when the canonical registry changes, so StructureDefinitions, ValueSets and
CodeSystems added at run time (for example through the REST API) apply to the next call.

With no core package installed, only definition-free structure (:mod:`profiles.structure`)
and the profiles' own differentials are checked, and an information issue names what was
skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles.canonical import CanonicalRegistry
from profiles.fhirpath import FhirPathEngine
from profiles.snapshot import SnapshotGenerator
from profiles.structure import RESOURCE_ID, check_structure
from profiles.terminology import TerminologyService
from profiles.validator import bundles, profile_checks, questionnaire, resource_rules, signatures
from profiles.validator.compiler import ProfileCompiler
from profiles.validator.context import CustomChecks, Services, ValidationContext
from profiles.validator.elements import ElementWalker
from profiles.validator.messages import MessageId
from profiles.validator.model import CompiledProfile
from profiles.validator.options import ValidationOptions

MAX_BYTES = 50 * 1024 * 1024
CORE_MISSING = (
    "hl7.fhir.r4.core is not installed: element names, types, base cardinality, base invariants and "
    "core bindings were not checked; only JSON structure and the differentials of the profiles were"
)


def _issue(severity: IssueSeverity, code: IssueType, message: str, path: str, message_id: MessageId) -> Issue:
    return Issue(severity, code, message, expression=(path,), message_id=message_id.value)


class ProfileValidator:
    """Validates resources against base definitions and profiles held in a :class:`CanonicalRegistry`."""

    def __init__(
        self,
        registry: CanonicalRegistry,
        *,
        custom_checks: CustomChecks | None = None,
        engine: FhirPathEngine | None = None,
        options: ValidationOptions | None = None,
    ) -> None:
        self.registry = registry
        self.engine = engine or FhirPathEngine()
        snapshots = SnapshotGenerator(registry)
        self.compiler = ProfileCompiler(registry, self.engine, snapshots)
        self.services = Services(
            registry=registry,
            engine=self.engine,
            terminology=TerminologyService(registry),
            compiler=self.compiler,
            custom_checks=custom_checks or {},
            has_core=self.has_core,
            options=options or ValidationOptions(),
        )
        self._walker = ElementWalker()
        self._globals: dict[str, list[str]] = {}
        self._globals_generation = -1

    def has_core(self) -> bool:
        """Whether base definitions (``hl7.fhir.r4.core``) are loaded."""
        return self.compiler.compile_type("Resource") is not None

    # -- entry points --------------------------------------------------------
    @property
    def options(self) -> ValidationOptions:
        """The options every call uses unless it passes its own."""
        return self.services.options

    def validate(
        self,
        resource: Any,
        profiles: Sequence[str] = (),
        *,
        declared_profiles: bool = True,
        options: ValidationOptions | None = None,
    ) -> list[Issue]:
        """All issues of ``resource`` against its base type, its ``meta.profile`` and ``profiles``."""
        ctx = ValidationContext(self.services, options)
        if not isinstance(resource, dict):
            return [
                _issue(
                    IssueSeverity.ERROR,
                    IssueType.STRUCTURE,
                    "A resource must be a JSON object",
                    "$",
                    MessageId.JSON_NOT_OBJECT,
                )
            ]
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return [
                _issue(
                    IssueSeverity.ERROR,
                    IssueType.STRUCTURE,
                    "The resource has no resourceType",
                    "$",
                    MessageId.RESOURCE_TYPE_MISSING,
                )
            ]
        base = self.compiler.compile_type(resource_type)
        if base is None or base.kind != "resource":
            if self.has_core():
                return [
                    _issue(
                        IssueSeverity.ERROR,
                        IssueType.STRUCTURE,
                        f"Unknown resource type '{resource_type}'",
                        resource_type,
                        MessageId.RESOURCE_TYPE_UNKNOWN,
                    )
                ]
            ctx.issues.append(
                _issue(
                    IssueSeverity.INFORMATION,
                    IssueType.INFORMATIONAL,
                    CORE_MISSING,
                    resource_type,
                    MessageId.CORE_MISSING,
                )
            )
            ctx.issues.extend(check_structure(resource))
        elif not profile_checks.covers_base(resource, base, profiles, ctx, declared=declared_profiles):
            self._base(resource, base, ctx)
        else:
            self._base_extras(resource, base, ctx)
        self._profiles(resource, profiles, ctx, declared=declared_profiles)
        return ctx.issues

    def validate_bytes(
        self, data: bytes, profiles: Sequence[str] = (), *, options: ValidationOptions | None = None
    ) -> list[Issue]:
        """Parse JSON ``data`` (UTF-8) and validate; bad bytes or JSON become issues, not exceptions."""
        if len(data) > MAX_BYTES:
            return [
                _issue(
                    IssueSeverity.FATAL,
                    IssueType.TOO_LONG,
                    f"Content larger than {MAX_BYTES} bytes",
                    "$",
                    MessageId.JSON_TOO_LARGE,
                )
            ]
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return [
                _issue(
                    IssueSeverity.FATAL,
                    IssueType.INVALID,
                    f"Content is not valid UTF-8: {exc.reason} at byte {exc.start}",
                    "$",
                    MessageId.JSON_UTF8,
                )
            ]
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            return [
                _issue(
                    IssueSeverity.FATAL,
                    IssueType.INVALID,
                    f"Invalid JSON: {exc}",
                    "$",
                    MessageId.JSON_INVALID,
                )
            ]
        return self.validate(parsed, profiles, options=options)

    def conforms(self, resource: dict[str, Any], url: str) -> bool:
        """Whether ``resource`` has no errors against profile ``url``."""
        return profile_checks.conforms(resource, url, ValidationContext(self.services))

    def profile_issues(self, url: str) -> list[Issue]:
        """Problems found when compiling profile ``url`` (bad FHIRPath, unplaceable differential...)."""
        compiled = self.compiler.compile_url(url)
        if compiled is None:
            return [
                _issue(
                    IssueSeverity.ERROR,
                    IssueType.NOT_FOUND,
                    f"Profile '{url}' is unknown",
                    url,
                    MessageId.PROFILE_UNKNOWN,
                )
            ]
        return list(compiled.load_issues)

    def compiled(self, url: str) -> CompiledProfile | None:
        return self.compiler.compile_url(url)

    # -- internals -----------------------------------------------------------
    def _base(self, resource: dict[str, Any], base: CompiledProfile, ctx: ValidationContext) -> None:
        if base.abstract:
            ctx.error(
                IssueType.STRUCTURE,
                f"Resource type '{base.type}' is abstract",
                base.type,
                MessageId.RESOURCE_ABSTRACT,
            )
            return
        bundle = resource if base.type == "Bundle" else None
        self._walker.resource(resource, base, base.type, ctx, bundle=bundle)
        self._base_extras(resource, base, ctx)

    def _base_extras(self, resource: dict[str, Any], base: CompiledProfile, ctx: ValidationContext) -> None:
        """Resource-level rules that are not element rules of any profile."""
        ident = resource.get("id")
        if isinstance(ident, str) and not RESOURCE_ID.fullmatch(ident):
            ctx.error(
                IssueType.VALUE, f"Invalid resource id '{ident}'", f"{base.type}.id", MessageId.RESOURCE_ID
            )
        if base.type == "Bundle":
            bundles.check(resource, ctx)
            signatures.check(resource, ctx)
            if ctx.options.bundle_rules:
                self._bundle_rules(resource, ctx)
        if base.type == "QuestionnaireResponse":
            questionnaire.check_response(resource, base.type, ctx)
        resource_rules.check(resource, base.type, ctx)

    def _bundle_rules(self, bundle: dict[str, Any], ctx: ValidationContext) -> None:
        """Entries the options name (``Patient:0``), validated against the profile given with them."""
        seen: dict[str, int] = {}
        for index, entry in enumerate(bundle.get("entry") or ()):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                continue
            resource_type = resource["resourceType"]
            position = seen.get(resource_type, 0)
            seen[resource_type] = position + 1
            for rule in ctx.options.bundle_rules:
                if rule.matches(resource_type, position):
                    profile_checks.against(
                        self._walker, resource, rule.profile, f"Bundle.entry[{index}].resource", ctx
                    )

    def global_profiles(self, resource_type: str) -> list[str]:
        """Profiles that loaded ImplementationGuides declare for every resource of a type (IG.global)."""
        if self._globals_generation != self.registry.generation:
            table: dict[str, list[str]] = {}
            for guide in self.registry.all("ImplementationGuide"):
                for entry in guide.get("global") or ():
                    if isinstance(entry, dict) and isinstance(entry.get("profile"), str):
                        table.setdefault(str(entry.get("type")), []).append(entry["profile"])
            self._globals = table
            self._globals_generation = self.registry.generation
        return self._globals.get(resource_type, [])

    def _profiles(
        self, resource: dict[str, Any], profiles: Sequence[str], ctx: ValidationContext, *, declared: bool
    ) -> None:
        path = str(resource.get("resourceType"))
        if declared:
            profile_checks.declared(self._walker, resource, path, ctx)
        extra = [*profiles, *self.global_profiles(path)]
        for url in extra:
            profile_checks.against(self._walker, resource, url, path, ctx)
        profile_checks.vital_sign(self._walker, resource, path, ctx, extra)
