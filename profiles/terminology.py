"""Local terminology: ValueSet expansion from loaded CodeSystems, and code validation.

See https://hl7.org/fhir/R4/valueset.html#compositions (compose.include/exclude, filters),
https://hl7.org/fhir/R4/codesystem.html#hierarchy (is-a, descendent-of) and
https://hl7.org/fhir/R4/terminology-service.html ($validate-code semantics).

No terminology server is contacted.  Codes of systems the hub cannot enumerate (SNOMED CT,
LOINC, UCUM, ... without a complete CodeSystem loaded) come back as
:attr:`CodeValidity.UNKNOWN` so that the validator reports "not checked" instead of passing
silently.  Expansions are cached per ValueSet and dropped when the registry changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from profiles.canonical import CanonicalRegistry, split_canonical
from profiles.code_systems import CodeCheck, CodeSystemIndex, CodeValidity, grammar_check

_MAX_DEPTH = 16  # ValueSet imports nesting
_MAX_MEMO = 100_000  # answers remembered; hostile input with endless distinct codes cannot grow it further


@dataclass(slots=True)
class Expansion:
    """A locally computed expansion: enumerated codes plus systems that could not be enumerated."""

    codes: set[tuple[str, str]] = field(default_factory=set)
    open_systems: set[str] = field(default_factory=set)  # any code of these systems might be a member
    excluded: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    case_insensitive: set[str] = field(default_factory=set)
    # displays and designations the ValueSet itself gives its codes (alternatives to the CodeSystem's)
    displays: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def contains(self, system: str | None, code: str) -> CodeValidity:
        if system is None:
            if any(c == code for _, c in self.codes):
                return CodeValidity.VALID
            return CodeValidity.UNKNOWN if self.open_systems else CodeValidity.INVALID
        key = (system, code)
        if system in self.case_insensitive:
            key = (system, code.lower())
        if key in self.excluded:
            return CodeValidity.INVALID
        if key in self.codes:
            return CodeValidity.VALID
        if system in self.open_systems:
            return CodeValidity.UNKNOWN
        return CodeValidity.INVALID


class TerminologyService:
    """Expands ValueSets and validates codes against them, using only the canonical registry."""

    def __init__(self, registry: CanonicalRegistry) -> None:
        self.registry = registry
        self.systems = CodeSystemIndex(registry)
        self._expansions: dict[str, Expansion | None] = {}
        # memo of answers: validation asks the same questions for every instance
        self._memo: dict[tuple[str, str | None, str | None, str], CodeCheck] = {}
        self._value_sets: dict[str, bool] = {}
        self._generation = -1

    def _fresh(self) -> None:
        if self._generation != self.registry.generation:
            self._expansions.clear()
            self._memo.clear()
            self._value_sets.clear()
            self.systems.clear()
            self._generation = self.registry.generation

    # -- expansion -----------------------------------------------------------
    def expand(self, value_set: str) -> Expansion | None:
        """The expansion of ``value_set`` (``url|version`` allowed); None when the ValueSet is unknown."""
        self._fresh()
        if value_set in self._expansions:
            return self._expansions[value_set]
        self._expansions[value_set] = None  # guards against import cycles
        resource = self._value_set(value_set)
        result = None if resource is None else self._expand_resource(resource, depth=0)
        self._expansions[value_set] = result
        return result

    def _value_set(self, value_set: str) -> Mapping[str, Any] | None:
        """The ValueSet ``value_set`` names; ``<canonical>#id`` is one contained in that resource."""
        if "#" in value_set:
            container, _, local = value_set.partition("#")
            holder = self.registry.resolve(container)
            for contained in (holder or {}).get("contained") or ():
                if isinstance(contained, dict) and contained.get("id") == local:
                    return contained if contained.get("resourceType") == "ValueSet" else None
            return None
        resource = self.registry.resolve(value_set)
        return resource if resource is None or resource.get("resourceType") == "ValueSet" else None

    def _expand_resource(self, vs: Mapping[str, Any], depth: int) -> Expansion:
        out = Expansion()
        compose = vs.get("compose")
        if not isinstance(compose, dict):
            for entry in _walk_contains((vs.get("expansion") or {}).get("contains") or ()):
                if isinstance(entry.get("system"), str) and isinstance(entry.get("code"), str):
                    out.codes.add((entry["system"], entry["code"]))
                    _note_displays(out, entry["system"], entry)
            if not out.codes:
                out.problems.append(f"ValueSet {vs.get('url')} has neither compose nor expansion")
            return out
        for include in compose.get("include") or ():
            if isinstance(include, dict):
                self._include(out, include, depth, exclude=False)
        for exclude in compose.get("exclude") or ():
            if isinstance(exclude, dict):
                part = Expansion()
                self._include(part, exclude, depth, exclude=True)
                out.excluded |= part.codes
        out.codes -= out.excluded
        return out

    def _include(self, out: Expansion, include: Mapping[str, Any], depth: int, *, exclude: bool) -> None:
        part = Expansion()
        system = include.get("system")
        if isinstance(system, str):
            self._include_system(part, system, include)
        imported = [v for v in include.get("valueSet") or () if isinstance(v, str)]
        for url in imported:
            nested = self.expand(url) if depth < _MAX_DEPTH else None
            if nested is None:
                out.problems.append(f"imported ValueSet {url} is unknown")
                part.open_systems.add(system if isinstance(system, str) else "*")
                continue
            if isinstance(system, str):  # intersection: codes of the system also in the import
                part.codes = {c for c in part.codes if nested.contains(*c) is not CodeValidity.INVALID}
            else:
                part.codes |= nested.codes
                part.open_systems |= nested.open_systems
                part.case_insensitive |= nested.case_insensitive
            out.problems.extend(nested.problems)
        out.codes |= part.codes
        for key, names in part.displays.items():
            out.displays.setdefault(key, set()).update(names)
        out.problems.extend(part.problems)
        if not exclude:
            out.open_systems |= part.open_systems
            out.case_insensitive |= part.case_insensitive

    def _include_system(self, part: Expansion, system: str, include: Mapping[str, Any]) -> None:
        concepts = [c for c in include.get("concept") or () if isinstance(c, dict)]
        filters = [f for f in include.get("filter") or () if isinstance(f, dict)]
        cs = self.systems.get(system)
        if cs is not None and not cs.case_sensitive:
            part.case_insensitive.add(system)
        if concepts:
            for concept in concepts:
                code = concept.get("code")
                if isinstance(code, str):
                    part.codes.add((system, code.lower() if cs and not cs.case_sensitive else code))
                    _note_displays(part, system, concept)
            return
        if cs is None or not cs.complete:
            part.open_systems.add(system)
            return
        codes = set(cs.codes) if not filters else None
        for flt in filters:
            matched = cs.filter(flt.get("property"), flt.get("op"), flt.get("value"))
            if matched is None:
                part.problems.append(
                    f"filter {flt.get('property')} {flt.get('op')} not supported on {system}"
                )
                part.open_systems.add(system)
                return
            codes = matched if codes is None else codes & matched
        part.codes |= {(system, c) for c in codes or ()}

    # -- validation ----------------------------------------------------------
    def check_system_code(self, system: str, code: str, version: str | None = None) -> CodeCheck:
        """Is ``code`` defined by ``system`` (when the hub knows the system)?"""
        self._fresh()
        key = ("cs", system, version, code)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > _MAX_MEMO:
                self._memo.clear()
            found = self._memo[key] = self._check_system_code(system, code, version)
        return found

    def is_value_set(self, url: str) -> bool:
        """Whether ``url`` names a ValueSet (a common mistake in ``Coding.system``)."""
        self._fresh()
        known = self._value_sets.get(url)
        if known is None:
            if len(self._value_sets) > _MAX_MEMO:
                self._value_sets.clear()
            resource = self.registry.resolve(url)
            known = self._value_sets[url] = (
                resource is not None and resource.get("resourceType") == "ValueSet"
            )
        return known

    def _check_system_code(self, system: str, code: str, version: str | None) -> CodeCheck:
        grammar = grammar_check(system, code)
        if grammar is not None:
            return grammar
        cs = self.systems.get(system if version is None else f"{system}|{version}") or self.systems.get(
            system
        )
        if cs is None:
            return CodeCheck(CodeValidity.UNKNOWN, f"CodeSystem '{system}' is not known to the hub")
        if not cs.complete:
            return CodeCheck(
                CodeValidity.UNKNOWN, f"CodeSystem '{system}' is not complete (content={cs.content})"
            )
        if cs.has(code):
            return CodeCheck(CodeValidity.VALID)
        return CodeCheck(CodeValidity.INVALID, f"Unknown code '{code}' in the CodeSystem '{system}'")

    def check_display(self, system: str, code: str, display: str) -> str | None:
        """Why ``display`` is wrong for ``system#code`` (None when it is fine or cannot be judged)."""
        cs = self.systems.get(system)
        if cs is None or not cs.complete:
            return None
        known = cs.displays.get(code)
        if not known or display.strip().lower() in known:
            return None
        return f"Wrong Display Name '{display}' for {system}#{code}"

    def display_in_value_set(self, value_set: str, system: str, code: str, display: str) -> bool:
        """Whether ``value_set`` itself gives ``display`` (or a designation) for ``system#code``."""
        expansion = self.expand(value_set)
        if expansion is None:
            return False
        return display.strip().lower() in expansion.displays.get((system, code), ())

    def check_in_value_set(self, value_set: str, system: str | None, code: str) -> CodeCheck:
        """Is ``system#code`` a member of ``value_set``?"""
        self._fresh()
        key = (value_set, system, None, code)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > _MAX_MEMO:
                self._memo.clear()
            found = self._memo[key] = self._check_in_value_set(value_set, system, code)
        return found

    def _check_in_value_set(self, value_set: str, system: str | None, code: str) -> CodeCheck:
        expansion = self.expand(value_set)
        if expansion is None:
            return CodeCheck(CodeValidity.UNKNOWN, f"ValueSet '{value_set}' is not known to the hub")
        validity = expansion.contains(system, code)
        if validity is CodeValidity.VALID:
            return CodeCheck(validity)
        name = split_canonical(value_set)[0]
        shown = f"{system}#{code}" if system else code
        if validity is CodeValidity.UNKNOWN:
            return CodeCheck(validity, f"The code '{shown}' cannot be checked against {name} locally")
        return CodeCheck(validity, f"The code provided ({shown}) was not found in the value set '{name}'")

    def member_of(self, value_set: str, codings: Iterable[tuple[str | None, str]]) -> bool | None:
        """FHIRPath memberOf(): True/False, or None when membership cannot be decided locally."""
        unknown = False
        for system, code in codings:
            validity = self.check_in_value_set(value_set, system, code).validity
            if validity is CodeValidity.VALID:
                return True
            unknown = unknown or validity is CodeValidity.UNKNOWN
        return None if unknown else False


def _note_displays(out: Expansion, system: str, concept: Mapping[str, Any]) -> None:
    """Record the display and designations a ValueSet gives a code (expansion.contains or compose concept)."""
    names = [concept.get("display")]
    names.extend(d.get("value") for d in concept.get("designation") or () if isinstance(d, dict))
    found = {n.strip().lower() for n in names if isinstance(n, str) and n.strip()}
    if found:
        out.displays.setdefault((system, str(concept.get("code"))), set()).update(found)


def _walk_contains(entries: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for entry in entries:
        if isinstance(entry, dict):
            yield entry
            yield from _walk_contains(entry.get("contains") or ())
