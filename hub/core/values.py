"""``value_record``: immutable to the type checker, a plain slotted dataclass at run time.

Domain values are frozen dataclasses (STYLE.md).  A frozen dataclass pays for that at run time: its
``__init__`` stores each field through ``object.__setattr__``, which made it 3.5 times slower to construct
than a plain slotted one (1.46 us against 0.42 us for three fields on the benchmark machine).  The PHMR
reader builds a few hundred such values per document, so the hot ones use this decorator instead:
``typing.dataclass_transform(frozen_default=True)`` makes mypy treat the class as frozen (assigning a field
is a type error, and ``mypy --strict`` runs in CI), while the class itself is ``dataclass(slots=True,
unsafe_hash=True)``: equal and hashable by value like a frozen one.  Code must not rely on
``FrozenInstanceError`` at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def value_record(cls: type[_T]) -> type[_T]:
    """Decorate a class like ``@dataclass(frozen=True, slots=True)``, without the run-time freezing cost."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
