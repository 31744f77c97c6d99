"""DK PHMR red/yellow thresholds (CONF-PHMR-DK-36, PHMR-DK 1.3).

``observation/referenceRange/observationRange classCode=OBS moodCode=EVN.CRT`` with templateId
``1.2.208.184.11.1.2``, ``code`` RAL (red alarm) or GAL (yellow alarm) in ``1.2.208.184.100.1`` and
``value xsi:type=IVL_PQ`` whose ``low``/``high`` carry a decimal ``@value`` or ``nullFlavor`` (open end).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.core.issues import IssueType
from profiles.cda.phmr_content import Bound, Measurement, ThresholdRange
from profiles.cda.phmr_rules.rule import ERROR, WARNING, Findings, PhmrRule, RuleInput
from profiles.cda.vocabulary import Oid, TemplateId, ThresholdCode, hl7_tag

RANGE_TEMPLATE = PhmrRule(
    "CONF-PHMR-DK-36",
    ERROR,
    "A threshold SHALL be an observationRange classCode OBS moodCode EVN.CRT with templateId "
    "1.2.208.184.11.1.2.",
    IssueType.STRUCTURE,
)
RANGE_CODE = PhmrRule(
    "TH-PHMR-REF-1",
    ERROR,
    "A threshold code SHALL be RAL (red) or GAL (yellow) in 1.2.208.184.100.1 (CONF-PHMR-DK-36).",
    IssueType.CODE_INVALID,
)
RANGE_VALUE = PhmrRule(
    "TH-PHMR-REF-2",
    ERROR,
    "A threshold value SHALL be IVL_PQ whose low/high each hold a decimal @value or a nullFlavor, "
    "with at least "
    "one bound given and low not above high (CONF-PHMR-DK-36).",
    IssueType.VALUE,
)
RANGE_UNIQUE = PhmrRule(
    "TH-PHMR-REF-3",
    ERROR,
    "A measurement SHALL have at most one red and one yellow threshold.",
    IssueType.DUPLICATE,
)
RANGE_UNIT = PhmrRule(
    "TH-PHMR-REF-4", WARNING, "A threshold unit SHOULD equal the measurement's unit.", IssueType.VALUE
)

RULES = (RANGE_TEMPLATE, RANGE_CODE, RANGE_VALUE, RANGE_UNIQUE, RANGE_UNIT)

_THRESHOLD_CODES = {code.value for code in ThresholdCode}
_THRESHOLD_TEMPLATE = TemplateId.THRESHOLD_RANGE.value
_MESSAGE_CODES = Oid.MEDCOM_MESSAGE_CODES.value
_CODE_TAG, _VALUE_TAG = hl7_tag("code"), hl7_tag("value")


def _decimal(bound: Bound | None) -> Decimal | None:
    if bound is None or bound.value is None:
        return None
    try:
        number = Decimal(bound.value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_range(m: Measurement, threshold: ThresholdRange, out: Findings) -> None:
    element = threshold.element
    if (
        _THRESHOLD_TEMPLATE not in threshold.templates
        or element.get("classCode", "OBS") != "OBS"
        or element.get("moodCode") != "EVN.CRT"
    ):
        message = "observationRange needs templateId 1.2.208.184.11.1.2, classCode OBS, moodCode EVN.CRT"
        out.add(RANGE_TEMPLATE, message, element)
    code = threshold.code
    if code is None or code.code not in _THRESHOLD_CODES or code.system != _MESSAGE_CODES:
        found = "no code" if code is None else f"{code.code!r}/{code.system!r}"
        out.add(RANGE_CODE, f"observationRange has {found}", element.find(_CODE_TAG), element)
    if threshold.value_type != "IVL_PQ":
        message = f"observationRange value is xsi:type {threshold.value_type!r}, expected IVL_PQ"
        out.add(RANGE_VALUE, message, element.find(_VALUE_TAG), element)
        return
    low, high = _decimal(threshold.low), _decimal(threshold.high)
    for name, bound, number in (("low", threshold.low, low), ("high", threshold.high, high)):
        if bound is None:
            continue
        if bound.null_flavor is None and number is None:
            message = f"{name} {bound.value!r} is neither a decimal nor a nullFlavor"
            out.add(RANGE_VALUE, message, element.find(_VALUE_TAG))
        if bound.unit is not None and m.unit is not None and bound.unit != m.unit:
            message = f"{name} unit {bound.unit!r} differs from the measurement unit {m.unit!r}"
            out.add(RANGE_UNIT, message, element.find(_VALUE_TAG))
    if low is None and high is None:
        out.add(
            RANGE_VALUE, "threshold has neither a low nor a high value", element.find(_VALUE_TAG), element
        )
    elif low is not None and high is not None and low > high:
        out.add(RANGE_VALUE, f"threshold low {low} is above high {high}", element.find(_VALUE_TAG))


def check(doc: RuleInput, out: Findings) -> None:
    for measurement in doc.content.measurements:
        if not measurement.ranges:
            continue
        kinds: list[str] = []
        for threshold in measurement.ranges:
            _check_range(measurement, threshold, out)
            if threshold.code is not None:
                kinds.append(threshold.code.code)
        for kind in _THRESHOLD_CODES:
            if kinds.count(kind) > 1:
                out.add(
                    RANGE_UNIQUE,
                    f"measurement has {kinds.count(kind)} {kind} thresholds",
                    measurement.observation,
                )


__all__ = ["RULES", "check"]
