"""PHMR measurements as FHIR R4 Observations and Devices, with lineage to the document (issue 4).

Mapping (PHMR-DK 1.3 body, DANISH-STANDARDS §1.4 -> https://hl7.org/fhir/R4/observation.html):

* ``code``: the NPU (``urn:oid:1.2.208.176.2.1``), MCS (``urn:oid:1.2.208.184.100.8``) or MDC
  (``urn:iso:std:iso:11073:10101``) coding, then any other coding of the element;
* ``valueQuantity``: the PQ value with UCUM system ``http://unitsofmeasure.org`` (FUT's non-UCUM ``NA``
  for an O2 saturation fraction becomes UCUM ``1``, keeping ``unit`` "NA");
* ``effectiveDateTime`` with timezone; ``subject`` = the caller's patient reference; ``performer`` = the
  patient for citizen-performed (POT) measurements, else the author's SOR organisation (overridable);
* ``method``: the two context codes (``urn:oid:1.2.208.184.100.1``) as codings of one CodeableConcept;
* ``referenceRange``: the red (RAL) / yellow (GAL) thresholds of CONF-PHMR-DK-36, ``type`` coded;
* ``derivedFrom`` = the document's DocumentReference; ``device`` = the Device when the document
  describes exactly one device (PHMR does not link a measurement to one of several devices);
* ``identifier`` = ``urn:telehub:phmr:<document uniqueId>/<entry id>`` (system ``urn:ietf:rfc:3986``;
  the entry id is the observation's ``root^extension``, or ``entry-<n>`` by document order when it has
  none), and ``id`` is derived from it, so submitting the same document again yields the same resources;
* ``status``: ``final``, or ``entered-in-error`` for a nullified organizer.

Devices (https://hl7.org/fhir/R4/device.html) are keyed by their physical identity (participantRole ids,
serial, manufacturer, model), so one device measuring for many documents is one Device resource.
Pure functions: no storage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lxml import etree

from hub.core.issues import Issue, IssueSeverity, IssueType
from hub.core.values import value_record
from hub.core.xml_safety import source_line
from profiles.cda import (
    CONTEXT_DISPLAYS,
    CdaHeader,
    CodedValue,
    DeviceInfo,
    Hl7Timestamp,
    Measurement,
    MeasurementCodeSystem,
    MeasurementStatus,
    Oid,
    PhmrContent,
    PhmrSection,
    ThresholdCode,
    UcumProblem,
    check_ucum,
    read_header,
    read_phmr,
)

DK_HOME_MEASUREMENT_PROFILE = "http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"
DK_DEVICE_PROFILE = "http://telehub.dk/fhir/StructureDefinition/dk-tm-device"
UCUM = "http://unitsofmeasure.org"
MEASUREMENT_IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
MEASUREMENT_IDENTIFIER_PREFIX = "urn:telehub:phmr:"
CONTEXT_SYSTEM = f"urn:oid:{Oid.MEDCOM_MESSAGE_CODES.value}"
_MESSAGE_CODES = Oid.MEDCOM_MESSAGE_CODES.value
_URI_SAFE = re.compile(r"[A-Za-z0-9._-]*")
_NULLIFIED = MeasurementStatus.NULLIFIED.value
_THRESHOLD_CODES = {code.value for code in ThresholdCode}
_SOR_SYSTEM = f"urn:oid:{Oid.SOR.value}"
_INSTRUMENT_CODES = Oid.MEDCOM_INSTRUMENT_CODES.value
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _vital_signs_category() -> list[dict[str, Any]]:
    # a fresh structure per Observation: callers may mutate the dicts they get
    return [{"coding": [{"system": _CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}]


_SYSTEMS = {
    **{system.value: system.fhir_system for system in MeasurementCodeSystem},
    Oid.LOINC.value: "http://loinc.org",
    Oid.SNOMED_CT.value: "http://snomed.info/sct",
}
# FUT sends O2 saturation as a fraction with unit "NA"; UCUM's unity "1" is the code for a fraction.
_NON_UCUM_UNITS = {"NA": "1"}


@dataclass(frozen=True, slots=True)
class PhmrExtraction:
    """The FHIR resources one PHMR yields; ``issues`` name measurements that could not be mapped."""

    observations: tuple[dict[str, Any], ...]
    devices: tuple[dict[str, Any], ...]
    issues: tuple[Issue, ...] = ()


def measurement_identifier(unique_id: str, entry_id: str) -> dict[str, str]:
    """The Observation identifier of entry ``entry_id`` of document ``unique_id`` (idempotency key)."""
    return {
        "system": MEASUREMENT_IDENTIFIER_SYSTEM,
        "value": _identifier_prefix(unique_id) + _escape(entry_id),
    }


def _escape(text: str) -> str:
    # ids are mostly OIDs and UUIDs, which need no escaping: skip urllib for them
    if _URI_SAFE.fullmatch(text):
        return text
    if _URI_SAFE.fullmatch(text.replace("^", "")):
        return text.replace("^", "%5E")  # the usual root^extension id
    return quote(text, safe=".-_")


def _identifier_prefix(unique_id: str) -> str:
    return f"{MEASUREMENT_IDENTIFIER_PREFIX}{_escape(unique_id)}/"


def _resource_id(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"


def _number(lexical: str) -> int | float:
    """A JSON number for a decimal string (the hub's JSON layer is float based); integers stay integers."""
    text = lexical.strip()
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def _quantity(value: str, unit: str | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": _number(value)}
    if unit:
        quantity["unit"] = unit
        code = _NON_UCUM_UNITS.get(unit, unit)
        if check_ucum(code) is not UcumProblem.SYNTAX:
            quantity["system"] = UCUM
            quantity["code"] = code
    return quantity


def _system(oid: str) -> str:
    return _SYSTEMS.get(oid) or f"urn:oid:{oid}"


def _coding(code: str, system_oid: str, display: str | None) -> dict[str, str]:
    coding = {"system": _system(system_oid), "code": code}
    if display:
        coding["display"] = display
    return coding


def _code(m: Measurement, code: CodedValue) -> dict[str, Any]:
    codings = [_coding(code.code, code.system, code.display)]
    codings.extend(_coding(c.code, c.system, c.display) for c in m.codes if c is not code and c.code)
    concept: dict[str, Any] = {"coding": codings}
    if code.display:
        concept["text"] = code.display
    return concept


def _reference_ranges(m: Measurement) -> list[dict[str, Any]]:
    ranges: list[dict[str, Any]] = []
    for threshold in m.ranges:
        entry: dict[str, Any] = {}
        for name, bound in (("low", threshold.low), ("high", threshold.high)):
            if bound is not None and bound.value is not None and bound.null_flavor is None:
                entry[name] = _quantity(bound.value, bound.unit or m.unit)
        code = threshold.code
        if code is not None and code.code in _THRESHOLD_CODES:
            display = code.display or ThresholdCode(code.code).display
            entry["type"] = {
                "coding": [{"system": CONTEXT_SYSTEM, "code": code.code, "display": display}],
                "text": display,
            }
        if "low" not in entry and "high" not in entry:
            entry["text"] = "open-ended threshold without bounds"
        ranges.append(entry)
    return ranges


def _device(device: DeviceInfo) -> dict[str, Any]:
    identity = "|".join(
        [
            *(f"{root}^{ext or ''}" for root, ext in device.ids),
            device.serial_number or "",
            device.manufacturer or "",
            device.model or "",
        ]
    )
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": _resource_id("phmr-device", identity),
        "meta": {"profile": [DK_DEVICE_PROFILE]},
    }
    identifiers = [{"system": f"urn:oid:{root}", "value": ext} for root, ext in device.ids if root and ext]
    if identifiers:
        resource["identifier"] = identifiers
    # an instrument-code id (1.2.208.184.100.3) names the device type, not the physical device
    serial = device.serial_number or next(
        (ext for root, ext in device.ids if ext and root != _INSTRUMENT_CODES), None
    )
    if serial:
        resource["serialNumber"] = serial
    if device.manufacturer:
        resource["manufacturer"] = device.manufacturer
    if device.model:
        resource["modelNumber"] = device.model
    codings = []
    if device.code is not None and device.code.code not in ("", "NI"):
        codings.append(_coding(device.code.code, device.code.system, device.code.display))
    codings.extend(
        _coding(t.code, t.system, t.display) for t in device.translations if t.code and t.code != "NI"
    )
    device_type: dict[str, Any] = {"coding": codings} if codings else {}
    if device.manufacturer_model:
        device_type["text"] = " ".join(device.manufacturer_model.split())
    if device_type:
        resource["type"] = device_type
    if device.software_revision:
        resource["version"] = [{"value": device.software_revision}]
    return resource


def _performer(
    m: Measurement, patient_reference: Mapping[str, Any], author_sor: str | None
) -> list[dict[str, Any]]:
    if any(c.code == "POT" and c.system == _MESSAGE_CODES for c in m.method_codes):
        return [dict(patient_reference)]
    if author_sor:
        return [{"identifier": {"system": _SOR_SYSTEM, "value": author_sor}}]
    return []


def _observation(
    m: Measurement,
    mapped: _Mappable,
    *,
    identifier: dict[str, str],
    document_reference_id: str,
    patient_reference: Mapping[str, Any],
    performer: list[dict[str, Any]],
    device_id: str | None,
) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _resource_id("phmr-obs", identifier["value"]),
        "meta": {"profile": [DK_HOME_MEASUREMENT_PROFILE]},
        "identifier": [identifier],
        "status": "entered-in-error" if m.status == _NULLIFIED else "final",
    }
    if m.section is PhmrSection.VITAL_SIGNS:
        observation["category"] = _vital_signs_category()
    observation["code"] = _code(m, mapped.code)
    observation["subject"] = dict(patient_reference)
    observation["effectiveDateTime"] = mapped.time.to_fhir()
    if performer:
        observation["performer"] = performer
    observation["valueQuantity"] = _quantity(mapped.value, m.unit)
    if m.comment:
        observation["note"] = [{"text": m.comment}]
    context = [c for c in m.method_codes if c.system == _MESSAGE_CODES]
    if context:
        observation["method"] = {
            "coding": [
                {
                    "system": CONTEXT_SYSTEM,
                    "code": c.code,
                    "display": c.display or CONTEXT_DISPLAYS.get(c.code, c.code),
                }
                for c in context
            ]
        }
    if device_id:
        observation["device"] = {"reference": f"Device/{device_id}"}
    ranges = _reference_ranges(m)
    if ranges:
        observation["referenceRange"] = ranges
    observation["derivedFrom"] = [{"reference": f"DocumentReference/{document_reference_id}"}]
    return observation


@value_record
class _Mappable:
    """The parts of a measurement an Observation cannot do without."""

    code: CodedValue
    value: str
    time: Hl7Timestamp


def _mappable(m: Measurement) -> _Mappable | str:
    """The mandatory parts, or why the measurement cannot become an Observation."""
    if m.code is None:
        return "it has no NPU, MCS or MDC code"
    if m.value is None or m.value_type != "PQ":
        return "it has no PQ value"
    try:
        _number(m.value)
    except ValueError:
        return "its value is not a number"
    if m.time is None or (m.time.has_time and not m.time.has_timezone):
        return "its time is missing or has no timezone"
    return _Mappable(m.code, m.value, m.time)


def extract_observations(
    root: etree._Element,
    *,
    document_reference_id: str,
    uniqueid: str,
    patient_reference: Mapping[str, Any],
    performer_reference: Mapping[str, Any] | None = None,
    content: PhmrContent | None = None,
    header: CdaHeader | None = None,
) -> PhmrExtraction:
    """FHIR Observation and Device dicts for every measurement of the PHMR ``root``.

    ``patient_reference`` is the FHIR Reference of the subject (e.g. ``{"reference": "Patient/123"}``);
    ``performer_reference`` overrides the derived performer; ``content`` and ``header`` reuse an earlier
    :func:`profiles.cda.read_phmr` / :func:`profiles.cda.read_header` of the same tree.
    """
    content = content or read_phmr(root)
    header = header or read_header(root)
    prefix = _identifier_prefix(uniqueid)
    author_sor = next((a.sor for a in header.authors if a.sor), None)
    devices = [_device(device) for device in content.devices]
    unique_devices = list({device["id"]: device for device in devices}.values())
    device_id = unique_devices[0]["id"] if len(unique_devices) == 1 else None
    observations: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for position, measurement in enumerate(content.measurements, start=1):
        mapped = _mappable(measurement)
        entry_id = (
            f"{measurement.entry_id[0]}^{measurement.entry_id[1]}"
            if measurement.entry_id and measurement.entry_id[0] and measurement.entry_id[1]
            else f"entry-{position}"
        )
        if isinstance(mapped, str):
            issues.append(
                Issue(
                    severity=IssueSeverity.WARNING,
                    code=IssueType.INCOMPLETE,
                    diagnostics=f"measurement {entry_id} was not turned into an Observation: {mapped}",
                    message_id="TH-PHMR-EXTRACT",
                    line=source_line(measurement.observation),
                )
            )
            continue
        performer = (
            [dict(performer_reference)]
            if performer_reference is not None
            else _performer(measurement, patient_reference, author_sor)
        )
        observations.append(
            _observation(
                measurement,
                mapped,
                identifier={"system": MEASUREMENT_IDENTIFIER_SYSTEM, "value": prefix + _escape(entry_id)},
                document_reference_id=document_reference_id,
                patient_reference=patient_reference,
                performer=performer,
                device_id=device_id,
            )
        )
    return PhmrExtraction(tuple(observations), tuple(unique_devices), tuple(issues))


def mark_entered_in_error(observation: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``observation`` retired by lineage (its document was replaced or deprecated)."""
    retired = dict(observation)
    retired["status"] = "entered-in-error"
    return retired


__all__ = [
    "CONTEXT_SYSTEM",
    "DK_DEVICE_PROFILE",
    "DK_HOME_MEASUREMENT_PROFILE",
    "MEASUREMENT_IDENTIFIER_PREFIX",
    "MEASUREMENT_IDENTIFIER_SYSTEM",
    "UCUM",
    "PhmrExtraction",
    "extract_observations",
    "mark_entered_in_error",
    "measurement_identifier",
]
