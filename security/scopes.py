"""SMART App Launch scopes: parsing and matching.

Grammar (SMART v2, https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
``<context>/<ResourceType|*>.<permissions>`` where context is ``patient``, ``user`` or ``system``
and permissions are letters of ``cruds`` in that order (``rs``, ``cud``, ``cruds``).  SMART v1
``read``, ``write`` and ``*`` are accepted as ``rs``, ``cud`` and ``cruds``.

Scopes that are not resource scopes (``openid``, ``fhirUser``, ``launch/patient``,
``offline_access``) are ignored.  A v2 scope with a query constraint
(``patient/Observation.rs?category=vital-signs``) grants NOTHING here: telehub cannot enforce
the constraint, and honouring the scope without it would grant more than was consented to.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class ScopeContext(enum.Enum):
    PATIENT = "patient"
    USER = "user"
    SYSTEM = "system"


class Permission(enum.Enum):
    """SMART v2 permission letters, in the order the grammar requires."""

    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


_ORDER = "cruds"
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)$")
MAX_SCOPE_STRING = 4096


@dataclass(frozen=True, slots=True)
class SmartScope:
    context: ScopeContext
    resource_type: str  # a FHIR resource type or "*"
    permissions: frozenset[Permission]

    def permits(self, resource_type: str, permission: Permission) -> bool:
        return (self.resource_type in ("*", resource_type)) and permission in self.permissions

    def __str__(self) -> str:
        letters = "".join(p.value for p in sorted(self.permissions, key=lambda p: _ORDER.index(p.value)))
        return f"{self.context.value}/{self.resource_type}.{letters}"


def parse_scope(text: str) -> SmartScope | None:
    """One scope token; None when it is not a resource scope telehub can honour (see module docstring)."""
    match = _SCOPE.match(text)
    if match is None:
        return None
    context, resource_type, letters = match.groups()
    letters = _V1.get(letters, letters)
    if not _in_grammar_order(letters):
        return None
    return SmartScope(
        context=ScopeContext(context),
        resource_type=resource_type,
        permissions=frozenset(Permission(c) for c in letters),
    )


def _in_grammar_order(letters: str) -> bool:
    positions = [_ORDER.find(c) for c in letters]
    return bool(positions) and -1 not in positions and positions == sorted(set(positions))


def parse_scopes(value: str | Iterable[str]) -> frozenset[SmartScope]:
    """A space-separated ``scope`` claim (or an ``scp`` list) into the resource scopes it grants."""
    tokens = value.split() if isinstance(value, str) else [t for v in value for t in str(v).split()]
    found = (parse_scope(t) for t in tokens)
    return frozenset(s for s in found if s is not None)


def scopes_permit(
    scopes: Iterable[SmartScope],
    resource_type: str,
    permission: Permission,
    contexts: Iterable[ScopeContext],
) -> bool:
    """Whether any scope in one of ``contexts`` grants ``permission`` on ``resource_type``."""
    allowed = frozenset(contexts)
    return any(s.context in allowed and s.permits(resource_type, permission) for s in scopes)
