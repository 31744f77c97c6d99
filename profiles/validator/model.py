"""The compiled form of a StructureDefinition: a tree of element nodes, ready to walk instances.

See https://hl7.org/fhir/R4/elementdefinition.html.  Compilation happens once per profile
(:mod:`profiles.validator.compiler`); these values are what validation reads, so everything
an instance walk needs (JSON names of choice types, slicing matchers, compiled invariants) is
worked out ahead of time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from profiles.fhirpath import CompiledExpression

if TYPE_CHECKING:
    from profiles.validator.element_rules import ElementRule

SYSTEM_STRING = "http://hl7.org/fhirpath/System.String"


class BindingStrength(enum.Enum):
    """http://hl7.org/fhir/binding-strength"""

    REQUIRED = "required"
    EXTENSIBLE = "extensible"
    PREFERRED = "preferred"
    EXAMPLE = "example"


class SlicingRules(enum.Enum):
    """http://hl7.org/fhir/resource-slicing-rules"""

    CLOSED = "closed"
    OPEN = "open"
    OPEN_AT_END = "openAtEnd"


class DiscriminatorType(enum.Enum):
    """http://hl7.org/fhir/discriminator-type"""

    VALUE = "value"
    EXISTS = "exists"
    PATTERN = "pattern"
    TYPE = "type"
    PROFILE = "profile"


@dataclass(frozen=True, slots=True)
class TypeRef:
    """One allowed type of an element; ``suffix`` is how a choice element spells it in JSON."""

    code: str
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()
    aggregation: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return self.code[:1].upper() + self.code[1:]

    @property
    def is_primitive(self) -> bool:
        return (
            self.code[:1].islower()
            or self.code == SYSTEM_STRING
            or self.code.startswith("http://hl7.org/fhirpath/")
        )


@dataclass(frozen=True, slots=True)
class Binding:
    strength: BindingStrength
    value_set: str | None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Invariant:
    """A constraint with its compiled FHIRPath (``None`` when no expression is given)."""

    key: str
    severity: str
    human: str
    expression: CompiledExpression | None
    source: str = ""
    # the native Python form of a core invariant (profiles.validator.natives), looked up once
    native: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Discriminator:
    type: DiscriminatorType
    path: str


@dataclass(frozen=True, slots=True)
class Slicing:
    discriminators: tuple[Discriminator, ...]
    rules: SlicingRules
    ordered: bool


@dataclass(slots=True)
class ElementNode:
    """One element of a compiled profile; ``children`` are keyed by JSON property name stem."""

    id: str
    path: str
    name: str
    min: int = 0
    max: int | None = None  # None = unbounded
    types: tuple[TypeRef, ...] = ()
    is_choice: bool = False
    fixed: tuple[str, Any] | None = None
    pattern: tuple[str, Any] | None = None
    binding: Binding | None = None
    invariants: tuple[Invariant, ...] = ()
    max_length: int | None = None
    min_value: tuple[str, Any] | None = None
    max_value: tuple[str, Any] | None = None
    is_modifier: bool = False
    must_support: bool = False
    content_reference: str | None = None
    slice_name: str | None = None
    slicing: Slicing | None = None
    slices: list[ElementNode] = field(default_factory=list)
    children: dict[str, ElementNode] = field(default_factory=dict)
    # "valueQuantity" -> (value[x] node, Quantity type): every JSON name a choice child may take
    choice_names: dict[str, tuple[ElementNode, TypeRef]] = field(default_factory=dict)
    # children were given by the profile (not only by the type's own definition)
    has_children: bool = False
    # JSON array or not, from the base definition's max (None: unknown, no core package)
    base_array: bool | None = None
    owner: str = ""  # URL of the profile this node belongs to (custom checks are keyed by it)
    # rules stated by extensions on the element (minLength, mustHaveValue, narrative controls, ...)
    extension_rules: tuple[ElementRule, ...] = ()
    partial: bool = False  # compiled from a differential only: unlisted children are not errors
    # filled lazily by the walker, once per node: children that must appear, custom checks, type
    required: tuple[tuple[ElementNode, tuple[str, ...]], ...] | None = None
    custom: tuple[Any, ...] | None = None
    has_rules: bool | None = None  # any node-level value rule (fixed, pattern, binding, invariants, ...)
    # compiled core definitions of the types values of this element have had (by type code)
    type_cache: dict[str, Any] = field(default_factory=dict)
    # the element each discriminator path (as steps) leads to within this slice
    discriminator_targets: dict[tuple[str, ...], ElementNode | None] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        return self.max == 1

    @property
    def prohibited(self) -> bool:
        return self.max == 0

    def type_for_suffix(self, suffix: str) -> TypeRef | None:
        for type_ref in self.types:
            if type_ref.suffix == suffix:
                return type_ref
        return None


@dataclass(slots=True)
class CompiledProfile:
    """A profile (or base type) ready for validation."""

    url: str
    type: str
    kind: str
    root: ElementNode
    name: str = ""
    abstract: bool = False
    derivation: str = ""
    base_definition: str = ""
    from_differential: bool = False  # compiled without a snapshot (core not installed)
    load_issues: list[Any] = field(default_factory=list)
    context: tuple[tuple[str, str], ...] = ()  # extension contexts (type, expression)
    context_invariants: tuple[str, ...] = ()
    status: str = ""
