"""Registry and repository rules: a catalogue of checks, each mapped to an XDS error code.

ITI TF-3 4.1-4.2 (metadata), ITI TF-2b 3.41/3.42/3.57/3.62, and the Danish metadata profile.  Rules are pure:
they read a submission and a :class:`RegistryState` snapshot (fetched through :class:`RegistryLookup`)
and return every :class:`xds.errors.RegistryError` they find.  :func:`plan_changes` then says what an
accepted submission changes in the registry (deprecations, folder membership, lastUpdateTime).
"""

from xds.registry_rules.catalogue import RULES, Rule
from xds.registry_rules.check import RuleOptions, check_provide_and_register, check_register, check_update
from xds.registry_rules.deletion import check_delete, gather_delete_state
from xds.registry_rules.effects import RegistryChanges, plan_changes
from xds.registry_rules.repository import SubmittedDocument, with_repository_attributes
from xds.registry_rules.state import RegistryLookup, RegistryState, gather_registry_state

__all__ = [
    "RULES",
    "RegistryChanges",
    "RegistryLookup",
    "RegistryState",
    "Rule",
    "RuleOptions",
    "SubmittedDocument",
    "check_delete",
    "check_provide_and_register",
    "check_register",
    "check_update",
    "gather_delete_state",
    "gather_registry_state",
    "plan_changes",
    "with_repository_attributes",
]
