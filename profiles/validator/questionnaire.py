"""QuestionnaireResponse checked against its Questionnaire (item by item).

See https://hl7.org/fhir/R4/questionnaireresponse.html#link and
https://hl7.org/fhir/R4/questionnaire.html: every response item's linkId must exist at that
level of the Questionnaire; required items need answers (or sub-items for groups) unless
disabled by enableWhen; answers must have the value type of the item type, be among
answerOption / answerValueSet, respect maxLength and the minValue / maxValue /
maxDecimalPlaces / maxSize / maxOccurs / unitValueSet / referenceResource / SDC quantity
extensions; repeats is honoured; display and group items carry no answers.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.core.errors import HubError
from hub.core.issues import IssueType
from profiles.code_systems import CodeValidity
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

_EXT = "http://hl7.org/fhir/StructureDefinition/"
_SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-"
_FINNISH_ENABLE_WHEN = "http://phr.kanta.fi/StructureDefinition/fiphr-ext-questionnaire-enablewhen"
ANSWER_TYPES = {
    "boolean": ("Boolean",),
    "decimal": ("Decimal",),
    "integer": ("Integer",),
    "date": ("Date",),
    "dateTime": ("DateTime",),
    "time": ("Time",),
    "string": ("String",),
    "text": ("String",),
    "url": ("Uri",),
    "choice": ("Coding", "String"),  # the HL7 validator accepts a plain string for a choice
    "open-choice": ("Coding", "String"),
    "attachment": ("Attachment",),
    "reference": ("Reference",),
    "quantity": ("Quantity",),
}
NO_ANSWERS = frozenset({"group", "display", "question"})
_PREFIXES = {
    "": Decimal(1),
    "k": Decimal(1000),
    "c": Decimal("0.01"),
    "m": Decimal("0.001"),
    "u": Decimal("1e-6"),
}


def _ext(item: dict[str, Any], url: str) -> Any:
    for ext in item.get("extension") or ():
        if isinstance(ext, dict) and ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def _answer_value(answer: dict[str, Any], prefix: str = "value") -> tuple[str, Any] | None:
    size = len(prefix)
    for key, value in answer.items():
        if key.startswith(prefix) and key[size : size + 1].isupper():
            return key[size:], value
    return None


@dataclass(slots=True)
class _Response:
    """The response being checked and every answer in it, by linkId (for enableWhen)."""

    resource: dict[str, Any]
    answers: dict[str, list[Any]]


def find_questionnaire(response: dict[str, Any], ctx: ValidationContext) -> dict[str, Any] | None:
    url = response.get("questionnaire")
    if not isinstance(url, str):
        return None
    if url.startswith("#"):
        for contained in response.get("contained") or ():
            if isinstance(contained, dict) and contained.get("id") == url[1:]:
                return contained
        return None
    return ctx.services.registry.resolve(url)


def check_response(response: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    """Validate a QuestionnaireResponse against its Questionnaire when the hub can find it."""
    questionnaire = find_questionnaire(response, ctx)
    if questionnaire is None:
        if isinstance(response.get("questionnaire"), str):
            ctx.warning(
                IssueType.NOT_FOUND,
                f"The questionnaire '{response['questionnaire']}' "
                "could not be resolved, so the answers were not checked",
                f"{path}.questionnaire",
                MessageId.QUESTIONNAIRE,
            )
        return
    if questionnaire.get("resourceType") != "Questionnaire":
        ctx.error(
            IssueType.STRUCTURE,
            "The questionnaire reference points to a "
            f"{questionnaire.get('resourceType')}, not a Questionnaire",
            f"{path}.questionnaire",
            MessageId.QUESTIONNAIRE,
        )
        return
    answers = _all_answers(response.get("item") or ())
    _level(
        response.get("item") or (),
        questionnaire.get("item") or (),
        path,
        path,
        _Response(response, answers),
        ctx,
    )


def _all_answers(items: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    stack = list(items)
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        for answer in item.get("answer") or ():
            if isinstance(answer, dict):
                value = _answer_value(answer)
                if value is not None:
                    found.setdefault(str(item.get("linkId")), []).append(value[1])
                stack.extend(answer.get("item") or ())
        stack.extend(item.get("item") or ())
    return found


def _enabled(qitem: dict[str, Any], state: _Response, ctx: ValidationContext | None = None) -> bool:
    expression = _ext(qitem, _SDC + "enableWhenExpression")
    text = expression.get("expression") if isinstance(expression, dict) else None
    # the Finnish PHR extension (a FHIRPath string) is understood by the HL7 validator too
    text = text or _ext(qitem, _FINNISH_ENABLE_WHEN)
    if ctx is not None and isinstance(text, str):
        try:
            result = ctx.services.engine.evaluate(text, state.resource, resource=state.resource)
        except HubError:
            return True  # an expression the hub cannot evaluate does not disable the item
        return result == [True]
    conditions = [c for c in qitem.get("enableWhen") or () if isinstance(c, dict)]
    if not conditions:
        return True
    results = []
    for condition in conditions:
        given = state.answers.get(str(condition.get("question")), [])
        operator = condition.get("operator")
        expected = _answer_value(condition, "answer")
        if operator == "exists":
            results.append(bool(given) == bool(expected[1] if expected else True))
            continue
        if expected is None:
            results.append(False)
            continue
        target = expected[1]
        matches = [_same(g, target) for g in given]
        if operator == "=":
            results.append(any(matches))
        elif operator == "!=":
            results.append(bool(given) and not any(matches))
        else:
            results.append(any(_ordered(g, target, str(operator)) for g in given))
    return all(results) if qitem.get("enableBehavior") == "all" else any(results)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return bool(a.get("code") == b.get("code") and a.get("system") == b.get("system"))
    return bool(a == b)


def _ordered(a: Any, b: Any, operator: str) -> bool:
    try:
        return bool({">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}.get(operator, False))
    except TypeError:
        return False


def _level(
    items: Any,
    definitions: Any,
    path: str,
    owner_path: str,
    state: _Response,
    ctx: ValidationContext,
) -> None:
    by_link = {d.get("linkId"): d for d in definitions if isinstance(d, dict)}
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        item_path = f"{owner_path}.item[{index}]"
        link = item.get("linkId")
        qitem = by_link.get(link)
        if qitem is None:
            ctx.error(
                IssueType.STRUCTURE,
                f"LinkId '{link}' not found in questionnaire",
                path,
                MessageId.QUESTIONNAIRE,
            )
            continue
        seen[str(link)] = seen.get(str(link), 0) + 1
        if seen[str(link)] == 2 and qitem.get("repeats") is not True:
            ctx.error(
                IssueType.STRUCTURE,
                "Only one response answer item with this linkId allowed",
                item_path,
                MessageId.QUESTIONNAIRE,
            )
        _item(item, qitem, item_path, state, ctx)
    for qitem in by_link.values():
        link = str(qitem.get("linkId"))
        if qitem.get("required") is True and link not in seen and _enabled(qitem, state, ctx):
            ctx.error(
                IssueType.REQUIRED,
                f"No response found for required item with id = '{link}'",
                owner_path,
                MessageId.QUESTIONNAIRE,
            )


def _item(
    item: dict[str, Any],
    qitem: dict[str, Any],
    path: str,
    state: _Response,
    ctx: ValidationContext,
) -> None:
    kind = str(qitem.get("type", ""))
    given = [a for a in item.get("answer") or () if isinstance(a, dict)]
    if given and not _enabled(qitem, state, ctx):
        ctx.error(
            IssueType.BUSINESS_RULE,
            f"Item has answer, even though it is not enabled (item id = '{qitem.get('linkId')}')",
            path,
            MessageId.QUESTIONNAIRE,
        )
    if kind in NO_ANSWERS and given:
        ctx.error(
            IssueType.STRUCTURE,
            "Items of type question should not have answers",
            path,
            MessageId.QUESTIONNAIRE,
        )
    if qitem.get("required") is True and _enabled(qitem, state, ctx):
        if kind == "group" and not item.get("item"):
            ctx.error(
                IssueType.REQUIRED, "No sub-items found for required group", path, MessageId.QUESTIONNAIRE
            )
        elif kind not in NO_ANSWERS and not given:
            ctx.error(
                IssueType.REQUIRED,
                f"No response answer found for required item '{qitem.get('linkId')}'",
                path,
                MessageId.QUESTIONNAIRE,
            )
    limit = _ext(qitem, _EXT + "questionnaire-maxOccurs")
    if isinstance(limit, int) and len(given) > limit:
        ctx.error(
            IssueType.STRUCTURE,
            f"The maximum number of answers is {limit} but this has {len(given)} answers",
            path,
            MessageId.QUESTIONNAIRE,
        )
    elif len(given) > 1 and qitem.get("repeats") is not True:
        ctx.error(
            IssueType.STRUCTURE,
            "Only one response answer allowed for this item",
            path,
            MessageId.QUESTIONNAIRE,
        )
    children = qitem.get("item") or ()
    for index, answer in enumerate(given):
        answer_path = f"{path}.answer[{index}]"
        if kind not in NO_ANSWERS:
            _answer(answer, qitem, kind, answer_path, ctx)
        if answer.get("item"):
            _level(answer["item"], children, answer_path, answer_path, state, ctx)
    if item.get("item"):
        _level(item["item"], children, path, path, state, ctx)


def _answer(
    answer: dict[str, Any], qitem: dict[str, Any], kind: str, path: str, ctx: ValidationContext
) -> None:
    found = _answer_value(answer)
    if found is None:
        return
    suffix, value = found
    allowed = ANSWER_TYPES.get(kind)
    type_name = suffix[:1].lower() + suffix[1:] if suffix in _PRIMITIVE_SUFFIXES else suffix
    value_path = f"{path}.value.ofType({type_name})"
    if allowed is not None and suffix not in allowed:
        expected = kind if kind not in ("text", "choice") else allowed[0].lower()
        ctx.error(
            IssueType.STRUCTURE,
            f"Answer value must be of the type {expected} not {suffix}",
            value_path,
            MessageId.QUESTIONNAIRE,
        )
        return
    _options(value, suffix, qitem, kind, path, value_path, ctx)
    _limits(value, suffix, qitem, path, value_path, ctx)


_PRIMITIVE_SUFFIXES = frozenset(
    {"Boolean", "Decimal", "Integer", "Date", "DateTime", "Time", "String", "Uri"}
)


def _options(
    value: Any,
    suffix: str,
    qitem: dict[str, Any],
    kind: str,
    path: str,
    value_path: str,
    ctx: ValidationContext,
) -> None:
    options = [o for o in qitem.get("answerOption") or () if isinstance(o, dict)]
    if options and not (kind == "open-choice" and suffix == "String"):
        permitted = [_answer_value(o) for o in options]
        if not any(p is not None and p[0] == suffix and _same(p[1], value) for p in permitted):
            shown = f"{value.get('system')}::{value.get('code')}" if isinstance(value, dict) else str(value)
            label = "code" if suffix == "Coding" else suffix.lower()
            where = path if suffix == "Coding" else value_path
            ctx.error(
                IssueType.CODE_INVALID,
                f"The {label} {shown} is not in the set of permitted values",
                where,
                MessageId.QUESTIONNAIRE,
            )
    value_set = qitem.get("answerValueSet")
    if (
        isinstance(value_set, str)
        and suffix == "Coding"
        and isinstance(value, dict)
        and isinstance(value.get("code"), str)
    ):
        check = ctx.services.terminology.check_in_value_set(value_set, value.get("system"), value["code"])
        if check.validity is CodeValidity.INVALID:
            ctx.error(IssueType.CODE_INVALID, check.message, path, MessageId.QUESTIONNAIRE)


def _limits(
    value: Any, suffix: str, qitem: dict[str, Any], path: str, value_path: str, ctx: ValidationContext
) -> None:
    if suffix in ("Integer", "Decimal", "Date", "DateTime", "Time"):
        for url, label, sign in (
            (_EXT + "minValue", "less than the allowed minimum", -1),
            (_EXT + "maxValue", "greater than the allowed maximum", 1),
        ):
            bound = _ext(qitem, url)
            if bound is not None and _compare(value, bound) == sign:
                ctx.error(
                    IssueType.VALUE,
                    f"The value {value} is {label} of {bound}",
                    value_path,
                    MessageId.QUESTIONNAIRE,
                )
    if suffix == "Decimal":
        places = _ext(qitem, _EXT + "maxDecimalPlaces")
        exponent = Decimal(str(value)).as_tuple().exponent
        if isinstance(places, int) and isinstance(exponent, int) and -exponent > places:
            ctx.error(
                IssueType.VALUE,
                f"The value {value} has too many decimal places (limit = {places})",
                value_path,
                MessageId.QUESTIONNAIRE,
            )
    if (
        suffix == "String"
        and isinstance(qitem.get("maxLength"), int)
        and isinstance(value, str)
        and len(value) > qitem["maxLength"]
    ):
        ctx.error(
            IssueType.TOO_LONG,
            f"The value is longer than {qitem['maxLength']} characters",
            value_path,
            MessageId.QUESTIONNAIRE,
        )
    if suffix == "Quantity" and isinstance(value, dict):
        _quantity(value, qitem, value_path, ctx)
    if suffix == "Attachment" and isinstance(value, dict):
        _attachment(value, qitem, path, value_path, ctx)
    if suffix == "Reference" and isinstance(value, dict):
        types = [
            t
            for t in (
                ext.get("valueCode")
                for ext in qitem.get("extension") or ()
                if isinstance(ext, dict) and ext.get("url") == _EXT + "questionnaire-referenceResource"
            )
            if isinstance(t, str)
        ]
        reference = value.get("reference")
        if (
            types
            and isinstance(reference, str)
            and "/" in reference
            and reference.split("/")[-2] not in types
        ):
            ctx.error(
                IssueType.STRUCTURE,
                f"The resource type '{reference.split('/')[-2]}' in the "
                f"reference {reference} is not allowed (allowed = {','.join(types)})",
                value_path,
                MessageId.QUESTIONNAIRE,
            )


def _compare(value: Any, bound: Any) -> int:
    try:
        if isinstance(value, str) and isinstance(bound, str):
            size = min(len(value), len(bound))
            left, right = value[:size], bound[:size]
            return int(left > right) - int(left < right)
        a, b = Decimal(str(value)), Decimal(str(bound))
        return int(a > b) - int(a < b)
    except (InvalidOperation, TypeError):
        return 0


def _in_base_units(quantity: dict[str, Any]) -> tuple[Decimal, str] | None:
    code, value = quantity.get("code"), quantity.get("value")
    if quantity.get("system") != "http://unitsofmeasure.org" or not isinstance(code, str) or value is None:
        return None
    for prefix, factor in _PREFIXES.items():
        base = code[len(prefix) :]
        if code.startswith(prefix) and base in ("m", "g", "L", "l", "s") and (prefix or base == code):
            return Decimal(str(value)) * factor, base
    return Decimal(str(value)), code


def _quantity(value: dict[str, Any], qitem: dict[str, Any], path: str, ctx: ValidationContext) -> None:
    shown = f"{value.get('value')} {value.get('unit') or value.get('code') or ''}".strip()
    for url, label, sign in (
        (_SDC + "minQuantity", "less than the allowed minimum", -1),
        (_SDC + "maxQuantity", "greater than the allowed maximum", 1),
    ):
        bound = _ext(qitem, url)
        if not isinstance(bound, dict):
            continue
        mine, theirs = _in_base_units(value), _in_base_units(bound)
        bound_name = "minimum" if sign < 0 else "maximum"
        limit = f"{bound.get('value')} {bound.get('unit') or bound.get('code') or ''}".strip()
        if mine is None or theirs is None:
            ctx.error(
                IssueType.VALUE,
                f"The quantity {shown} cannot be compared to the allowed {bound_name} "
                f"of {limit} because no formal units are specified",
                path,
                MessageId.QUESTIONNAIRE,
            )
        elif mine[1] != theirs[1]:
            ctx.error(
                IssueType.VALUE,
                f"The quantity {shown} cannot be compared to the allowed "
                f"{bound_name} of {limit}: the units are not comparable",
                path,
                MessageId.QUESTIONNAIRE,
            )
        elif (int(mine[0] > theirs[0]) - int(mine[0] < theirs[0])) == sign:
            ctx.error(
                IssueType.VALUE, f"The quantity {shown} is {label} of {limit}", path, MessageId.QUESTIONNAIRE
            )
    unit_set = _ext(qitem, _EXT + "questionnaire-unitValueSet")
    if isinstance(unit_set, str):
        check = ctx.services.terminology.check_in_value_set(
            unit_set, value.get("system"), str(value.get("code"))
        )
        if check.validity is not CodeValidity.VALID:
            ctx.error(
                IssueType.CODE_INVALID,
                f"The value {shown} has a unit that is not in the unit value set '{unit_set}'",
                path,
                MessageId.QUESTIONNAIRE,
            )


def _attachment(
    value: dict[str, Any], qitem: dict[str, Any], path: str, value_path: str, ctx: ValidationContext
) -> None:
    data = value.get("data")
    actual: int | None = None
    if isinstance(data, str):
        try:
            actual = len(base64.b64decode("".join(data.split()), validate=True))
        except (binascii.Error, ValueError):
            actual = None
    stated = value.get("size")
    if actual is not None and isinstance(stated, int) and stated != actual:
        ctx.error(
            IssueType.VALUE,
            f"Stated Attachment Size {stated:,} does not match actual attachment size {actual}",
            value_path,
            MessageId.QUESTIONNAIRE,
        )
    limit = _ext(qitem, _EXT + "maxSize")
    size = actual if actual is not None else stated
    if isinstance(limit, int | float | Decimal) and isinstance(size, int) and size > limit:
        ctx.error(
            IssueType.TOO_LONG,
            f"The attachment is too large (allowed = {limit}, found = {size})",
            path,
            MessageId.QUESTIONNAIRE,
        )
