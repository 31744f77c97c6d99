"""The built-in R4 search parameters of the resource types telehub serves, as compact data.

Written by the telehub team from https://hl7.org/fhir/R4/searchparameter-registry.html
and the "Search Parameters" table of each resource page.  Each row is
``(code, type, expression[, targets[, definition id]])`` for one resource type:
the expression is the part of the spec's expression that applies to that type
(the spec writes one union over all base types for shared parameters such as
``clinical-patient``).  ``targets`` lists the reference target types; an empty
tuple means "any resource type".  The definition id, when given, is the id of
the shared spec SearchParameter (``clinical-date``); otherwise it is
``<Type>-<code>``.

Left out on purpose: composite parameters (``code-value-quantity`` …), special
ones (``_text``, ``_content``, ``_list``, ``_has``, ``_query``, ``_filter``) and
parameters whose definition lives in an extension page rather than the core
registry (``Patient.age``, ``Observation.gene-*``, ``Device.din``).
"""

from __future__ import annotations

from typing import Final

from hub.core.search import SearchParamType

NUMBER = SearchParamType.NUMBER
DATE = SearchParamType.DATE
STRING = SearchParamType.STRING
TOKEN = SearchParamType.TOKEN
REFERENCE = SearchParamType.REFERENCE
QUANTITY = SearchParamType.QUANTITY
URI = SearchParamType.URI

Row = (
    tuple[str, SearchParamType, str]
    | tuple[str, SearchParamType, str, tuple[str, ...]]
    | tuple[str, SearchParamType, str, tuple[str, ...], str]
)

ANY: Final[tuple[str, ...]] = ()
_AGENTS = ("Practitioner", "Organization", "Device", "Patient", "PractitionerRole", "RelatedPerson")


def _common(t: str) -> list[Row]:
    """Parameters for all resources (spec ``Resource-*``), instantiated for type ``t``."""
    return [
        ("_id", TOKEN, f"{t}.id", ANY, "Resource-id"),
        ("_lastUpdated", DATE, f"{t}.meta.lastUpdated", ANY, "Resource-lastUpdated"),
        ("_profile", URI, f"{t}.meta.profile", ANY, "Resource-profile"),
        ("_security", TOKEN, f"{t}.meta.security", ANY, "Resource-security"),
        ("_source", URI, f"{t}.meta.source", ANY, "Resource-source"),
        ("_tag", TOKEN, f"{t}.meta.tag", ANY, "Resource-tag"),
    ]


def _individual(t: str) -> list[Row]:
    """Shared ``individual-*`` parameters of Patient and Practitioner."""
    return [
        ("address", STRING, f"{t}.address", ANY, "individual-address"),
        ("address-city", STRING, f"{t}.address.city", ANY, "individual-address-city"),
        ("address-country", STRING, f"{t}.address.country", ANY, "individual-address-country"),
        ("address-postalcode", STRING, f"{t}.address.postalCode", ANY, "individual-address-postalcode"),
        ("address-state", STRING, f"{t}.address.state", ANY, "individual-address-state"),
        ("address-use", TOKEN, f"{t}.address.use", ANY, "individual-address-use"),
        ("family", STRING, f"{t}.name.family", ANY, "individual-family"),
        ("gender", TOKEN, f"{t}.gender", ANY, "individual-gender"),
        ("given", STRING, f"{t}.name.given", ANY, "individual-given"),
        ("phonetic", STRING, f"{t}.name", ANY, "individual-phonetic"),
        *_telecom(t),
    ]


def _telecom(t: str) -> list[Row]:
    return [
        ("email", TOKEN, f"{t}.telecom.where(system='email')", ANY, "individual-email"),
        ("phone", TOKEN, f"{t}.telecom.where(system='phone')", ANY, "individual-phone"),
        ("telecom", TOKEN, f"{t}.telecom", ANY, "individual-telecom"),
    ]


# fmt: off
def _conformance(t: str, *, identifier_title: bool) -> list[Row]:
    """Shared ``conformance-*`` parameters of the canonical resources."""
    rows: list[Row] = [
        ("context", TOKEN, f"({t}.useContext.value as CodeableConcept)", ANY, "conformance-context"),
        ("context-quantity", QUANTITY,
         f"({t}.useContext.value as Quantity) | ({t}.useContext.value as Range)",
         ANY, "conformance-context-quantity"),
        ("context-type", TOKEN, f"{t}.useContext.code", ANY, "conformance-context-type"),
        ("date", DATE, f"{t}.date", ANY, "conformance-date"),
        ("description", STRING, f"{t}.description", ANY, "conformance-description"),
        ("jurisdiction", TOKEN, f"{t}.jurisdiction", ANY, "conformance-jurisdiction"),
        ("name", STRING, f"{t}.name", ANY, "conformance-name"),
        ("publisher", STRING, f"{t}.publisher", ANY, "conformance-publisher"),
        ("status", TOKEN, f"{t}.status", ANY, "conformance-status"),
        ("url", URI, f"{t}.url", ANY, "conformance-url"),
        ("version", TOKEN, f"{t}.version", ANY, "conformance-version"),
    ]
    if identifier_title:
        rows += [
            ("identifier", TOKEN, f"{t}.identifier", ANY, "conformance-identifier"),
            ("title", STRING, f"{t}.title", ANY, "conformance-title"),
        ]
    return rows


_OBSERVATION: list[Row] = [
    ("based-on", REFERENCE, "Observation.basedOn",
     ("CarePlan", "DeviceRequest", "ImmunizationRecommendation", "MedicationRequest", "NutritionOrder",
      "ServiceRequest")),
    ("category", TOKEN, "Observation.category"),
    ("code", TOKEN, "Observation.code", ANY, "clinical-code"),
    ("combo-code", TOKEN, "Observation.code | Observation.component.code"),
    ("combo-data-absent-reason", TOKEN,
     "Observation.dataAbsentReason | Observation.component.dataAbsentReason"),
    ("combo-value-concept", TOKEN,
     "(Observation.value as CodeableConcept) | (Observation.component.value as CodeableConcept)"),
    ("combo-value-quantity", QUANTITY,
     "(Observation.value as Quantity) | (Observation.value as SampledData)"
     " | (Observation.component.value as Quantity) | (Observation.component.value as SampledData)"),
    ("component-code", TOKEN, "Observation.component.code"),
    ("component-data-absent-reason", TOKEN, "Observation.component.dataAbsentReason"),
    ("component-value-concept", TOKEN, "(Observation.component.value as CodeableConcept)"),
    ("component-value-quantity", QUANTITY,
     "(Observation.component.value as Quantity) | (Observation.component.value as SampledData)"),
    ("data-absent-reason", TOKEN, "Observation.dataAbsentReason"),
    ("date", DATE, "Observation.effective", ANY, "clinical-date"),
    ("derived-from", REFERENCE, "Observation.derivedFrom",
     ("DocumentReference", "ImagingStudy", "Media", "MolecularSequence", "Observation",
      "QuestionnaireResponse")),
    ("device", REFERENCE, "Observation.device", ("Device", "DeviceMetric")),
    ("encounter", REFERENCE, "Observation.encounter", ("Encounter",), "clinical-encounter"),
    ("focus", REFERENCE, "Observation.focus"),
    ("has-member", REFERENCE, "Observation.hasMember",
     ("MolecularSequence", "Observation", "QuestionnaireResponse")),
    ("identifier", TOKEN, "Observation.identifier", ANY, "clinical-identifier"),
    ("method", TOKEN, "Observation.method"),
    ("part-of", REFERENCE, "Observation.partOf",
     ("ImagingStudy", "Immunization", "MedicationAdministration", "MedicationDispense",
      "MedicationStatement", "Procedure")),
    ("patient", REFERENCE, "Observation.subject.where(resolve() is Patient)",
     ("Patient",), "clinical-patient"),
    ("performer", REFERENCE, "Observation.performer",
     ("CareTeam", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson")),
    ("specimen", REFERENCE, "Observation.specimen", ("Specimen",)),
    ("status", TOKEN, "Observation.status"),
    ("subject", REFERENCE, "Observation.subject", ("Device", "Group", "Location", "Patient")),
    ("value-concept", TOKEN, "(Observation.value as CodeableConcept)"),
    ("value-date", DATE, "(Observation.value as dateTime) | (Observation.value as Period)"),
    ("value-quantity", QUANTITY, "(Observation.value as Quantity) | (Observation.value as SampledData)"),
    ("value-string", STRING, "(Observation.value as string) | (Observation.value as CodeableConcept).text"),
]

_PATIENT: list[Row] = [
    ("active", TOKEN, "Patient.active"),
    ("birthdate", DATE, "Patient.birthDate", ANY, "individual-birthdate"),
    ("death-date", DATE, "(Patient.deceased as dateTime)"),
    ("deceased", TOKEN, "Patient.deceased.exists() and Patient.deceased != false"),
    ("general-practitioner", REFERENCE, "Patient.generalPractitioner",
     ("Organization", "Practitioner", "PractitionerRole")),
    ("identifier", TOKEN, "Patient.identifier"),
    ("language", TOKEN, "Patient.communication.language"),
    ("link", REFERENCE, "Patient.link.other", ("Patient", "RelatedPerson")),
    ("name", STRING, "Patient.name"),
    ("organization", REFERENCE, "Patient.managingOrganization", ("Organization",)),
    *_individual("Patient"),
]

_PRACTITIONER: list[Row] = [
    ("active", TOKEN, "Practitioner.active"),
    ("communication", TOKEN, "Practitioner.communication"),
    ("identifier", TOKEN, "Practitioner.identifier"),
    ("name", STRING, "Practitioner.name"),
    *_individual("Practitioner"),
]

_PRACTITIONER_ROLE: list[Row] = [
    ("active", TOKEN, "PractitionerRole.active"),
    ("date", DATE, "PractitionerRole.period"),
    ("endpoint", REFERENCE, "PractitionerRole.endpoint", ("Endpoint",)),
    ("identifier", TOKEN, "PractitionerRole.identifier"),
    ("location", REFERENCE, "PractitionerRole.location", ("Location",)),
    ("organization", REFERENCE, "PractitionerRole.organization", ("Organization",)),
    ("practitioner", REFERENCE, "PractitionerRole.practitioner", ("Practitioner",)),
    ("role", TOKEN, "PractitionerRole.code"),
    ("service", REFERENCE, "PractitionerRole.healthcareService", ("HealthcareService",)),
    ("specialty", TOKEN, "PractitionerRole.specialty"),
    *_telecom("PractitionerRole"),
]

_ORGANIZATION: list[Row] = [
    ("active", TOKEN, "Organization.active"),
    ("address", STRING, "Organization.address"),
    ("address-city", STRING, "Organization.address.city"),
    ("address-country", STRING, "Organization.address.country"),
    ("address-postalcode", STRING, "Organization.address.postalCode"),
    ("address-state", STRING, "Organization.address.state"),
    ("address-use", TOKEN, "Organization.address.use"),
    ("endpoint", REFERENCE, "Organization.endpoint", ("Endpoint",)),
    ("identifier", TOKEN, "Organization.identifier"),
    ("name", STRING, "Organization.name | Organization.alias"),
    ("partof", REFERENCE, "Organization.partOf", ("Organization",)),
    ("phonetic", STRING, "Organization.name"),
    ("type", TOKEN, "Organization.type"),
]

_DEVICE: list[Row] = [
    ("device-name", STRING, "Device.deviceName.name | Device.type.coding.display | Device.type.text"),
    ("identifier", TOKEN, "Device.identifier"),
    ("location", REFERENCE, "Device.location", ("Location",)),
    ("manufacturer", STRING, "Device.manufacturer"),
    ("model", STRING, "Device.modelNumber"),
    ("organization", REFERENCE, "Device.owner", ("Organization",)),
    ("patient", REFERENCE, "Device.patient", ("Patient",)),
    ("status", TOKEN, "Device.status"),
    ("type", TOKEN, "Device.type"),
    ("udi-carrier", STRING, "Device.udiCarrier.carrierHRF"),
    ("udi-di", STRING, "Device.udiCarrier.deviceIdentifier"),
    ("url", URI, "Device.url"),
]

_CONSENT: list[Row] = [
    ("action", TOKEN, "Consent.provision.action"),
    ("actor", REFERENCE, "Consent.provision.actor.reference",
     ("CareTeam", "Device", "Group", "Organization", "Patient", "Practitioner", "PractitionerRole",
      "RelatedPerson")),
    ("category", TOKEN, "Consent.category"),
    ("consentor", REFERENCE, "Consent.performer",
     ("Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson")),
    ("data", REFERENCE, "Consent.provision.data.reference"),
    ("date", DATE, "Consent.dateTime", ANY, "clinical-date"),
    ("identifier", TOKEN, "Consent.identifier", ANY, "clinical-identifier"),
    ("organization", REFERENCE, "Consent.organization", ("Organization",)),
    ("patient", REFERENCE, "Consent.patient", ("Patient",), "clinical-patient"),
    ("period", DATE, "Consent.provision.period"),
    ("purpose", TOKEN, "Consent.provision.purpose"),
    ("scope", TOKEN, "Consent.scope"),
    ("security-label", TOKEN, "Consent.provision.securityLabel"),
    ("source-reference", REFERENCE, "Consent.source",
     ("Consent", "Contract", "DocumentReference", "QuestionnaireResponse")),
    ("status", TOKEN, "Consent.status"),
]

_AUDIT_EVENT: list[Row] = [
    ("action", TOKEN, "AuditEvent.action"),
    ("address", STRING, "AuditEvent.agent.network.address"),
    ("agent", REFERENCE, "AuditEvent.agent.who", _AGENTS),
    ("agent-name", STRING, "AuditEvent.agent.name"),
    ("agent-role", TOKEN, "AuditEvent.agent.role"),
    ("altid", TOKEN, "AuditEvent.agent.altId"),
    ("date", DATE, "AuditEvent.recorded"),
    ("entity", REFERENCE, "AuditEvent.entity.what"),
    ("entity-name", STRING, "AuditEvent.entity.name"),
    ("entity-role", TOKEN, "AuditEvent.entity.role"),
    ("entity-type", TOKEN, "AuditEvent.entity.type"),
    ("outcome", TOKEN, "AuditEvent.outcome"),
    ("patient", REFERENCE,
     "AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)",
     ("Patient",)),
    ("policy", URI, "AuditEvent.agent.policy"),
    ("site", TOKEN, "AuditEvent.source.site"),
    ("source", REFERENCE, "AuditEvent.source.observer", _AGENTS),
    ("subtype", TOKEN, "AuditEvent.subtype"),
    ("type", TOKEN, "AuditEvent.type"),
]

_PROVENANCE: list[Row] = [
    ("agent", REFERENCE, "Provenance.agent.who", _AGENTS),
    ("agent-role", TOKEN, "Provenance.agent.role"),
    ("agent-type", TOKEN, "Provenance.agent.type"),
    ("entity", REFERENCE, "Provenance.entity.what"),
    ("location", REFERENCE, "Provenance.location", ("Location",)),
    ("patient", REFERENCE, "Provenance.target.where(resolve() is Patient)", ("Patient",)),
    ("recorded", DATE, "Provenance.recorded"),
    ("signature-type", TOKEN, "Provenance.signature.type"),
    ("target", REFERENCE, "Provenance.target"),
    ("when", DATE, "(Provenance.occurred as dateTime)"),
]

_BUNDLE: list[Row] = [
    ("composition", REFERENCE, "Bundle.entry[0].resource", ("Composition",)),
    ("identifier", TOKEN, "Bundle.identifier"),
    ("message", REFERENCE, "Bundle.entry[0].resource", ("MessageHeader",)),
    ("timestamp", DATE, "Bundle.timestamp"),
    ("type", TOKEN, "Bundle.type"),
]

_CODE_SYSTEM: list[Row] = [
    ("code", TOKEN, "CodeSystem.concept.code"),
    ("content-mode", TOKEN, "CodeSystem.content"),
    ("language", TOKEN, "CodeSystem.concept.designation.language"),
    ("supplements", REFERENCE, "CodeSystem.supplements", ("CodeSystem",)),
    ("system", URI, "CodeSystem.url"),
    *_conformance("CodeSystem", identifier_title=True),
]

_VALUE_SET: list[Row] = [
    ("code", TOKEN, "ValueSet.expansion.contains.code | ValueSet.compose.include.concept.code"),
    ("expansion", URI, "ValueSet.expansion.identifier"),
    ("reference", URI, "ValueSet.compose.include.system"),
    *_conformance("ValueSet", identifier_title=True),
]

_STRUCTURE_DEFINITION: list[Row] = [
    ("abstract", TOKEN, "StructureDefinition.abstract"),
    ("base", REFERENCE, "StructureDefinition.baseDefinition", ("StructureDefinition",)),
    ("base-path", TOKEN,
     "StructureDefinition.snapshot.element.base.path | StructureDefinition.differential.element.base.path"),
    ("derivation", TOKEN, "StructureDefinition.derivation"),
    ("experimental", TOKEN, "StructureDefinition.experimental"),
    ("ext-context", TOKEN, "StructureDefinition.context.type"),
    ("keyword", TOKEN, "StructureDefinition.keyword"),
    ("kind", TOKEN, "StructureDefinition.kind"),
    ("path", TOKEN,
     "StructureDefinition.snapshot.element.path | StructureDefinition.differential.element.path"),
    ("type", URI, "StructureDefinition.type"),
    ("valueset", REFERENCE, "StructureDefinition.snapshot.element.binding.valueSet", ("ValueSet",)),
    *_conformance("StructureDefinition", identifier_title=True),
]

_SEARCH_PARAMETER: list[Row] = [
    ("base", TOKEN, "SearchParameter.base"),
    ("code", TOKEN, "SearchParameter.code"),
    ("component", REFERENCE, "SearchParameter.component.definition", ("SearchParameter",)),
    ("derived-from", REFERENCE, "SearchParameter.derivedFrom", ("SearchParameter",)),
    ("target", TOKEN, "SearchParameter.target"),
    ("type", TOKEN, "SearchParameter.type"),
    *_conformance("SearchParameter", identifier_title=False),
]

_DOCUMENT_REFERENCE: list[Row] = [
    ("authenticator", REFERENCE, "DocumentReference.authenticator",
     ("Organization", "Practitioner", "PractitionerRole")),
    ("author", REFERENCE, "DocumentReference.author", _AGENTS),
    ("category", TOKEN, "DocumentReference.category"),
    ("contenttype", TOKEN, "DocumentReference.content.attachment.contentType"),
    ("custodian", REFERENCE, "DocumentReference.custodian", ("Organization",)),
    ("date", DATE, "DocumentReference.date"),
    ("description", STRING, "DocumentReference.description"),
    ("encounter", REFERENCE, "DocumentReference.context.encounter",
     ("Encounter", "EpisodeOfCare"), "clinical-encounter"),
    ("event", TOKEN, "DocumentReference.context.event"),
    ("facility", TOKEN, "DocumentReference.context.facilityType"),
    ("format", TOKEN, "DocumentReference.content.format"),
    ("identifier", TOKEN, "DocumentReference.masterIdentifier | DocumentReference.identifier", ANY,
     "clinical-identifier"),
    ("language", TOKEN, "DocumentReference.content.attachment.language"),
    ("location", URI, "DocumentReference.content.attachment.url"),
    ("patient", REFERENCE, "DocumentReference.subject.where(resolve() is Patient)",
     ("Patient",), "clinical-patient"),
    ("period", DATE, "DocumentReference.context.period"),
    ("related", REFERENCE, "DocumentReference.context.related"),
    ("relatesto", REFERENCE, "DocumentReference.relatesTo.target", ("DocumentReference",)),
    ("relation", TOKEN, "DocumentReference.relatesTo.code"),
    ("security-label", TOKEN, "DocumentReference.securityLabel"),
    ("setting", TOKEN, "DocumentReference.context.practiceSetting"),
    ("status", TOKEN, "DocumentReference.status"),
    ("subject", REFERENCE, "DocumentReference.subject", ("Device", "Group", "Patient", "Practitioner")),
    ("type", TOKEN, "DocumentReference.type", ANY, "clinical-type"),
]

# List: the MHD ITI-66 view of SubmissionSets and Folders (xds.mhd), never stored as FHIR resources
_LIST: list[Row] = [
    ("code", TOKEN, "List.code", ANY, "clinical-code"),
    ("date", DATE, "List.date", ANY, "clinical-date"),
    ("empty-reason", TOKEN, "List.emptyReason"),
    ("encounter", REFERENCE, "List.encounter", ("Encounter",), "clinical-encounter"),
    ("identifier", TOKEN, "List.identifier", ANY, "clinical-identifier"),
    ("item", REFERENCE, "List.entry.item", ANY),
    ("notes", STRING, "List.note.text"),
    ("patient", REFERENCE, "List.subject.where(resolve() is Patient)", ("Patient",), "clinical-patient"),
    ("source", REFERENCE, "List.source", ("Device", "Patient", "Practitioner", "PractitionerRole")),
    ("status", TOKEN, "List.status"),
    ("subject", REFERENCE, "List.subject", ("Device", "Group", "Location", "Patient")),
    ("title", STRING, "List.title"),
]
# fmt: on

#: Resource type -> its rows, common parameters included.
R4_PARAMETERS: Final[dict[str, list[Row]]] = {
    t: [*rows, *_common(t)]
    for t, rows in {
        "AuditEvent": _AUDIT_EVENT,
        "Bundle": _BUNDLE,
        "CodeSystem": _CODE_SYSTEM,
        "Consent": _CONSENT,
        "Device": _DEVICE,
        "DocumentReference": _DOCUMENT_REFERENCE,
        "List": _LIST,
        "Observation": _OBSERVATION,
        "Organization": _ORGANIZATION,
        "Patient": _PATIENT,
        "Practitioner": _PRACTITIONER,
        "PractitionerRole": _PRACTITIONER_ROLE,
        "Provenance": _PROVENANCE,
        "SearchParameter": _SEARCH_PARAMETER,
        "StructureDefinition": _STRUCTURE_DEFINITION,
        "ValueSet": _VALUE_SET,
    }.items()
}
