"""Read the clinical content of a PHMR body: measurements, thresholds, devices and the service period.

One reader shared by the DK PHMR rules (which judge it) and the PHMR->FHIR extraction (which maps it),
so both see the same measurements.  Structure per PHMR-DK 1.3 (DANISH-STANDARDS §1.3-1.4):
``section/entry/organizer[CLUSTER]/component/observation`` with ``code`` (NPU/MCS/MDC directly or as a
``translation``), ``value xsi:type=PQ``, two ``methodCode``s and ``referenceRange/observationRange``
(CONF-PHMR-DK-36); devices in ``Medical Equipment`` (``organizer/participant/participantRole/playingDevice``).
"""

from __future__ import annotations

import re

from lxml import etree

from hub.core.values import value_record
from profiles.cda.timestamps import Hl7Timestamp, parse_ts
from profiles.cda.vocabulary import NAMESPACES, XSI_NS, MeasurementCodeSystem, PhmrSection
from profiles.cda.vocabulary import hl7_tag as _t

XSI_TYPE = f"{{{XSI_NS}}}type"
_CODE, _TRANSLATION, _VALUE, _ENTRY = _t("code"), _t("translation"), _t("value"), _t("entry")
_ORGANIZER, _OBSERVATION, _COMPONENT = _t("organizer"), _t("observation"), _t("component")
_EFFECTIVE_TIME, _STATUS, _ID, _METHOD = _t("effectiveTime"), _t("statusCode"), _t("id"), _t("methodCode")
_TEMPLATE_ID = _t("templateId")

_SECTIONS = etree.XPath("h:component/h:structuredBody/h:component/h:section", namespaces=NAMESPACES)
_SERVICE_EVENT = etree.XPath(
    "h:documentationOf/h:serviceEvent[h:effectiveTime/h:low or h:effectiveTime/h:high][1]",
    namespaces=NAMESPACES,
)
_LOW, _HIGH, _ACT, _TEXT = _t("low"), _t("high"), _t("act"), _t("text")
_REFERENCE_RANGE, _OBSERVATION_RANGE = _t("referenceRange"), _t("observationRange")
_ENTRY_RELATIONSHIP = _t("entryRelationship")
_COMMENT_CODE = "48767-8"  # LOINC "Kommentar til måling" (FUT to-PHMR output)
_DEVICE_ROLES = etree.XPath(
    "h:entry/h:organizer/h:participant/h:participantRole[h:playingDevice]", namespaces=NAMESPACES
)
_MANUFACTURER_MODEL = re.compile(
    r"^\s*Manufacturer:\s*(?P<manufacturer>.*?)\s*/\s*Model:\s*(?P<model>.*?)\s*$"
)
_SOFTWARE = re.compile(r"^\s*SerialNr:\s*(?P<serial>.*?)\s*/\s*SW Rev\.\s*(?P<software>.*?)\s*$")
_NOT_AVAILABLE = {"", "N/A", "NA", "NI", "UNK"}
_MEASUREMENT_SYSTEMS = {system.value for system in MeasurementCodeSystem}


@value_record
class CodedValue:
    """A CD/CE value (code, codeSystem, displayName) as written in the document."""

    code: str
    system: str
    display: str | None = None

    @classmethod
    def of(cls, element: etree._Element) -> CodedValue:
        return _coded(element)


@value_record
class Bound:
    """One end of an IVL_PQ threshold: a decimal string or a nullFlavor (open end)."""

    value: str | None
    unit: str | None
    inclusive: bool
    null_flavor: str | None


@value_record
class ThresholdRange:
    """``referenceRange/observationRange`` of CONF-PHMR-DK-36."""

    element: etree._Element
    templates: frozenset[str]
    code: CodedValue | None
    value_type: str | None
    low: Bound | None
    high: Bound | None


@value_record
class Measurement:
    """One PHMR numeric observation with its organizer context."""

    section: PhmrSection
    organizer: etree._Element | None
    observation: etree._Element
    organizer_templates: frozenset[str]
    observation_templates: frozenset[str]
    entry_id: tuple[str, str | None] | None  # observation id (root, extension)
    code: CodedValue | None  # the NPU / MCS / MDC coding (direct or translation)
    codes: tuple[CodedValue, ...]  # every coding present (code and translations)
    value: str | None
    unit: str | None
    value_type: str | None
    time_raw: str | None
    time: Hl7Timestamp | None
    status: str  # lower-cased organizer (or observation) statusCode
    method_codes: tuple[CodedValue, ...]
    ranges: tuple[ThresholdRange, ...]
    comment: str | None


@value_record
class DeviceInfo:
    """A device of the Medical Equipment section (participantRole classCode MANU)."""

    element: etree._Element
    ids: tuple[tuple[str, str | None], ...]
    code: CodedValue | None  # playingDevice/code (MDC)
    translations: tuple[CodedValue, ...]
    manufacturer_model: str | None
    software_name: str | None
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    software_revision: str | None


@value_record
class PhmrContent:
    """Everything the rules and the extraction need from one PHMR body."""

    sections: tuple[tuple[PhmrSection | None, etree._Element], ...]
    measurements: tuple[Measurement, ...]
    devices: tuple[DeviceInfo, ...]
    service_event: etree._Element | None
    service_start: Hl7Timestamp | None
    service_stop: Hl7Timestamp | None


def first_children(element: etree._Element | None) -> dict[str, etree._Element]:
    """The first child element of each tag, from one pass over the children (cheaper than several finds)."""
    found: dict[str, etree._Element] = {}
    if element is not None:
        for child in element.iterchildren(tag=etree.Element):
            found.setdefault(child.tag, child)
    return found


def select(xpath: etree.XPath, node: etree._Element, **variables: str) -> list[etree._Element]:
    """Evaluate a compiled element-selecting XPath and return its elements, typed for mypy."""
    result = xpath(node, **variables)
    return [item for item in result if isinstance(item, etree._Element)] if isinstance(result, list) else []


def section_kind(section: etree._Element) -> PhmrSection | None:
    """Identify a section by its LOINC code, else by any of its PHMR/CCD templateIds."""
    code = section.find(_CODE)
    if code is not None:
        try:
            return PhmrSection(code.get("code"))
        except ValueError:
            pass
    roots = {t.get("root") for t in section.iterchildren(_TEMPLATE_ID)}
    for kind in PhmrSection:
        if roots & set(kind.template_ids[:2]):
            return kind
    return None


def _first_value(element: etree._Element | None, child: str) -> str | None:
    found = element.find(child) if element is not None else None
    return found.get("value") if found is not None else None


def _bound(element: etree._Element | None) -> Bound | None:
    if element is None:
        return None
    get = element.get
    # value, unit, inclusive, null_flavor (positional: see _threshold)
    return Bound(get("value"), get("unit"), get("inclusive", "true") != "false", get("nullFlavor"))


def _coded(element: etree._Element) -> CodedValue:
    get = element.get
    return CodedValue(get("code", ""), get("codeSystem", ""), get("displayName"))


def _threshold(element: etree._Element) -> ThresholdRange:
    code = value = low = high = None
    templates: set[str] = set()
    for child in element:
        tag = child.tag
        if tag == _TEMPLATE_ID:
            templates.add(child.get("root", ""))
        elif tag == _CODE:
            code = child
        elif tag == _VALUE:
            value = child
            for bound in value:
                bound_tag = bound.tag
                if bound_tag == _LOW:
                    low = bound
                elif bound_tag == _HIGH:
                    high = bound
    return ThresholdRange(  # positional (in field order): keywords cost 1 us per value, 96 values a document
        element,
        frozenset(templates),
        _coded(code) if code is not None else None,
        value.get(XSI_TYPE) if value is not None else None,
        _bound(low),
        _bound(high),
    )


def _comment(relationship: etree._Element) -> str | None:
    act = relationship.find(_ACT)
    code = act.find(_CODE) if act is not None else None
    if act is None or code is None or code.get("code") != _COMMENT_CODE:
        return None
    text_element = act.find(_TEXT)
    text = (
        " ".join("".join(str(t) for t in text_element.itertext()).split()) if text_element is not None else ""
    )
    return None if text in _NOT_AVAILABLE else text


@value_record
class _OrganizerParts:
    """What a result organizer contributes to each of its measurements (read once per organizer)."""

    templates: frozenset[str]
    status: str  # lower-cased statusCode
    time: str | None  # effectiveTime/@value
    observations: tuple[etree._Element, ...]


_NO_ORGANIZER = _OrganizerParts(frozenset(), "", None, ())


def _organizer_parts(organizer: etree._Element) -> _OrganizerParts:
    templates: set[str] = set()
    observations: list[etree._Element] = []
    status, time = "", None
    for child in organizer:
        tag = child.tag
        if tag == _TEMPLATE_ID:
            templates.add(child.get("root", ""))
        elif tag == _STATUS:
            status = child.get("code", "").lower()
        elif tag == _EFFECTIVE_TIME:
            time = child.get("value")
        elif tag == _COMPONENT:
            observations.extend(child.iterchildren(_OBSERVATION))
    return _OrganizerParts(frozenset(templates), status, time, tuple(observations))


def _measurement(
    section: PhmrSection, organizer: etree._Element | None, parts: _OrganizerParts, obs: etree._Element
) -> Measurement:
    # one pass over the observation's children: lxml's find() rescans the children on every call
    codes: list[CodedValue] = []
    value = id_element = None
    obs_status = obs_time = None
    templates: set[str] = set()
    methods: list[CodedValue] = []
    ranges: list[ThresholdRange] = []
    comment: str | None = None
    for child in obs:
        tag = child.tag
        if tag == _TEMPLATE_ID:
            templates.add(child.get("root", ""))
        elif tag == _CODE:
            if child.get("code"):
                codes.append(_coded(child))
            codes.extend(_coded(t) for t in child.iterchildren(_TRANSLATION))
        elif tag == _VALUE:
            value = child
        elif tag == _METHOD:
            methods.append(_coded(child))
        elif tag == _REFERENCE_RANGE:
            ranges.extend(_threshold(r) for r in child.iterchildren(_OBSERVATION_RANGE))
        elif tag == _ID:
            if id_element is None:
                id_element = child
        elif tag == _STATUS:
            obs_status = child.get("code", "").lower()
        elif tag == _EFFECTIVE_TIME:
            obs_time = child.get("value")
        elif tag == _ENTRY_RELATIONSHIP and comment is None:
            comment = _comment(child)
    time_raw = parts.time or obs_time
    code = None
    for candidate in codes:
        if candidate.code and candidate.system in _MEASUREMENT_SYSTEMS:
            code = candidate
            break
    if value is not None:
        get = value.get
        number, unit, value_type = get("value"), get("unit"), get(XSI_TYPE)
    else:
        number = unit = value_type = None
    return Measurement(
        section=section,
        organizer=organizer,
        observation=obs,
        organizer_templates=parts.templates,
        observation_templates=frozenset(templates),
        entry_id=None if id_element is None else (id_element.get("root", ""), id_element.get("extension")),
        code=code,
        codes=tuple(codes),
        value=number,
        unit=unit,
        value_type=value_type,
        time_raw=time_raw,
        time=parse_ts(time_raw),
        status="nullified" if obs_status == "nullified" else parts.status,
        method_codes=tuple(methods),
        ranges=tuple(ranges),
        comment=comment,
    )


def _clean(text: str | None) -> str | None:
    return None if text is None or text.strip() in _NOT_AVAILABLE else text.strip()


def _device(role: etree._Element) -> DeviceInfo:
    device = role.find(_t("playingDevice"))
    code = device.find(_CODE) if device is not None else None
    model_text = device.findtext(_t("manufacturerModelName")) if device is not None else None
    software_text = device.findtext(_t("softwareName")) if device is not None else None
    model_match = _MANUFACTURER_MODEL.match(model_text or "")
    software_match = _SOFTWARE.match(software_text or "")
    return DeviceInfo(
        element=role,
        ids=tuple((i.get("root", ""), i.get("extension")) for i in role.iterchildren(_ID)),
        code=CodedValue.of(code) if code is not None else None,
        translations=tuple(CodedValue.of(t) for t in code.iterchildren(_TRANSLATION))
        if code is not None
        else (),
        manufacturer_model=model_text,
        software_name=software_text,
        manufacturer=_clean(model_match["manufacturer"]) if model_match else _clean(model_text),
        model=_clean(model_match["model"]) if model_match else None,
        serial_number=_clean(software_match["serial"]) if software_match else None,
        software_revision=_clean(software_match["software"]) if software_match else None,
    )


def read_phmr(root: etree._Element) -> PhmrContent:
    """Read sections, measurements, devices and the service period of a PHMR ``ClinicalDocument``."""
    sections: list[tuple[PhmrSection | None, etree._Element]] = []
    measurements: list[Measurement] = []
    devices: list[DeviceInfo] = []
    for section in select(_SECTIONS, root):
        kind = section_kind(section)
        sections.append((kind, section))
        if kind is PhmrSection.MEDICAL_EQUIPMENT:
            devices.extend(_device(role) for role in select(_DEVICE_ROLES, section))
        elif kind is not None:
            for entry in section.iterchildren(_ENTRY):
                for organizer in entry.iterchildren(_ORGANIZER):
                    parts = _organizer_parts(organizer)
                    measurements.extend(
                        _measurement(kind, organizer, parts, obs) for obs in parts.observations
                    )
                measurements.extend(
                    _measurement(kind, None, _NO_ORGANIZER, obs) for obs in entry.iterchildren(_OBSERVATION)
                )
    service_events = select(_SERVICE_EVENT, root)
    service_event = service_events[0] if service_events else None
    period = service_event.find(_EFFECTIVE_TIME) if service_event is not None else None
    return PhmrContent(
        sections=tuple(sections),
        measurements=tuple(measurements),
        devices=tuple(devices),
        service_event=service_event,
        service_start=parse_ts(_first_value(period, _LOW)),
        service_stop=parse_ts(_first_value(period, _HIGH)),
    )


__all__ = [
    "XSI_TYPE",
    "Bound",
    "CodedValue",
    "DeviceInfo",
    "Measurement",
    "PhmrContent",
    "ThresholdRange",
    "first_children",
    "read_phmr",
    "section_kind",
    "select",
]
