"""FHIR R4 REST semantics: interactions, Bundles, structural checks, capabilities, validation wiring."""

from hub.fhir.access import SecurityPolicy
from hub.fhir.access_log import access_log
from hub.fhir.audit_trail import AuditWriter, SecurityAuditTrail, audit_row, build_rows
from hub.fhir.capabilities import SOFTWARE_VERSION, capability_statement
from hub.fhir.consent_hook import ConsentHook
from hub.fhir.context import Handling, RequestContext, ReturnPreference
from hub.fhir.indexing import ResourceIndexer
from hub.fhir.interactions.audit_events import read_audit_event, refuse_write, search_audit_events
from hub.fhir.interactions.batch import process_bundle
from hub.fhir.interactions.create import create
from hub.fhir.interactions.delete import delete
from hub.fhir.interactions.history import history
from hub.fhir.interactions.patch import patch
from hub.fhir.interactions.read import read, vread
from hub.fhir.interactions.search import search as search_type
from hub.fhir.interactions.update import update, update_txn
from hub.fhir.interactions.validate import (
    ValidateRequest,
    ValidationMode,
    validate_operation,
    validate_request,
)
from hub.fhir.json_body import parse_json, parse_resource
from hub.fhir.outcomes import BundleOutcome, WriteOutcome
from hub.fhir.patient_keys import own_key
from hub.fhir.pipeline import (
    AccessDecision,
    AccessPolicy,
    Action,
    AllowAllPolicy,
    AuditEntry,
    AuditTrail,
    NullAuditTrail,
    NullWriteValidator,
    WriteValidator,
)
from hub.fhir.primitives import control_character
from hub.fhir.reindex import REINDEX_BATCH, ReindexResult, reindex
from hub.fhir.service import FhirService, WriteHook
from hub.fhir.stored_definitions import DefinitionWatcher
from hub.fhir.validation import (
    DefinitionSources,
    ValidationService,
    build_validation,
    load_definitions,
    unknown_required_profiles,
)
from hub.fhir.writes import PreparedWrite, finalise, prepare
from hub.storage import StoredResource

__all__ = [
    "REINDEX_BATCH",
    "SOFTWARE_VERSION",
    "AccessDecision",
    "AccessPolicy",
    "Action",
    "AllowAllPolicy",
    "AuditEntry",
    "AuditTrail",
    "AuditWriter",
    "BundleOutcome",
    "ConsentHook",
    "DefinitionSources",
    "DefinitionWatcher",
    "FhirService",
    "Handling",
    "NullAuditTrail",
    "NullWriteValidator",
    "PreparedWrite",
    "ReindexResult",
    "RequestContext",
    "ResourceIndexer",
    "ReturnPreference",
    "SecurityAuditTrail",
    "SecurityPolicy",
    "StoredResource",
    "ValidateRequest",
    "ValidationMode",
    "ValidationService",
    "WriteHook",
    "WriteOutcome",
    "WriteValidator",
    "access_log",
    "audit_row",
    "build_rows",
    "build_validation",
    "capability_statement",
    "control_character",
    "create",
    "delete",
    "finalise",
    "history",
    "load_definitions",
    "own_key",
    "parse_json",
    "parse_resource",
    "patch",
    "prepare",
    "process_bundle",
    "read",
    "read_audit_event",
    "refuse_write",
    "reindex",
    "search_audit_events",
    "search_type",
    "unknown_required_profiles",
    "update",
    "update_txn",
    "validate_operation",
    "validate_request",
    "vread",
]
