"""The values and helpers of the fast FHIRPath path (:mod:`profiles.fhirpath_fast`): the evaluation frame,
collections of plain JSON, three-valued booleans, equality, and the string functions.

See https://hl7.org/fhirpath/N1/.  Anything whose result could differ from fhirpathpy's raises
:class:`Unsupported`, and the caller falls back to fhirpathpy.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Collection = list[Any]
Fn = Callable[[Collection, "Frame"], Collection]
DATE_LIKE = re.compile(r"^\d{4}(-\d\d(-\d\d)?)?(T|$)")


class Unsupported(Exception):
    """The expression (or this evaluation of it) is outside the fast subset."""


class ExtensionOnly:
    """A primitive present only through its ``_name`` object (id/extensions, no value)."""

    __slots__ = ("element",)

    def __init__(self, element: Any) -> None:
        self.element = element if isinstance(element, dict) else {}


class Frame:
    """Evaluation state: ``$this``, environment variables and the validator hooks."""

    __slots__ = ("hooks", "this", "variables")

    def __init__(self, this: Collection, variables: Mapping[str, Any], hooks: Any) -> None:
        self.this = this
        self.variables = variables
        self.hooks = hooks

    def with_this(self, this: Collection) -> Frame:
        return Frame(this, self.variables, self.hooks)

    def with_variables(self, extra: Mapping[str, Any]) -> Frame:
        return Frame(self.this, {**self.variables, **extra}, self.hooks) if extra else self


def each(criterion: Fn, focus: Collection, frame: Frame, stop_at: bool | None = None) -> list[bool]:
    """``criterion`` per item with ``$this`` set to the item; stops after the first ``stop_at`` result.

    The frame is reused (``$this`` swapped and restored) rather than one built per item.
    """
    if not focus:
        return []
    saved = frame.this
    results = []
    try:
        for item in focus:
            single = [item]
            frame.this = single
            result = boolean(criterion(single, frame)) is True
            results.append(result)
            if result is stop_at:
                break
    finally:
        frame.this = saved
    return results


def identifier(node: Mapping[str, Any]) -> str:
    text = node.get("text") or "".join(node.get("terminalNodeText", []))
    return str(text).strip("`")


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    replacements = {
        "\\'": "'",
        '\\"': '"',
        "\\`": "`",
        "\\r": "\r",
        "\\n": "\n",
        "\\t": "\t",
        "\\f": "\f",
        "\\\\": "\\",
    }
    return re.sub(
        r"\\u([0-9a-fA-F]{4})|\\.",
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else replacements.get(m.group(0), m.group(0)[1:]),
        text,
    )


def collect(out: Collection, value: Any, extension: Any) -> None:
    if isinstance(value, list):
        partners = extension if isinstance(extension, list) else []
        for index, item in enumerate(value):
            if item is not None:
                out.append(item)
            elif index < len(partners) and partners[index] is not None:
                out.append(ExtensionOnly(partners[index]))
        for index in range(len(value), len(partners)):
            if partners[index] is not None:
                out.append(ExtensionOnly(partners[index]))
    elif value is not None:
        out.append(value)
    elif isinstance(extension, dict):
        out.append(ExtensionOnly(extension))
    elif isinstance(extension, list):
        out.extend(ExtensionOnly(e) for e in extension if e is not None)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def is_primitive(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list | ExtensionOnly)


def boolean(collection: Collection) -> bool | None:
    if not collection:
        return None
    if len(collection) == 1 and isinstance(collection[0], bool):
        return collection[0]
    raise Unsupported("non-boolean operand")


def equal(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        # equal text is equal for dates too (same precision); only differing dates need the full engine
        if a == b:
            return True
        if a[:1].isdigit() and b[:1].isdigit() and DATE_LIKE.match(a) and DATE_LIKE.match(b):
            raise Unsupported("date equality")
        return False
    if isinstance(a, ExtensionOnly) or isinstance(b, ExtensionOnly):
        raise Unsupported("equality with an extension-only primitive")
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if is_number(a) and is_number(b):
        return number(a) == number(b)
    if isinstance(a, str) and isinstance(b, str):
        if DATE_LIKE.match(a) and DATE_LIKE.match(b):
            raise Unsupported("date equality")
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a == b
    if (isinstance(a, str) and DATE_LIKE.match(a)) or (isinstance(b, str) and DATE_LIKE.match(b)):
        raise Unsupported("date equality")
    return False


def distinct(items: Collection) -> Collection:
    out: Collection = []
    for item in items:
        if not any(equal(item, seen) for seen in out):
            out.append(item)
    return out


def text(collection: Collection) -> str:
    if len(collection) > 1:
        raise Unsupported("& on a collection")
    return as_string(collection[0]) if collection else ""


def as_string(value: Any) -> str:
    if isinstance(value, bool):
        raise Unsupported("boolean to string")  # fhirpathpy renders True/False; keep results identical
    if isinstance(value, float):
        return str(Decimal(str(value)))
    return str(value)


def matches(value: Any, regex: Any) -> Collection:
    if not isinstance(regex, str):
        return []
    return [re.search(regex, as_string(value), re.DOTALL) is not None]


def substring(value: Any, start: Any, length: Any = None) -> Collection:
    text = as_string(value)
    if not isinstance(start, int) or isinstance(start, bool):
        raise Unsupported("substring() with a non-integer start")
    if start < 0 or start >= len(text):
        return []
    return [text[start:] if length is None else text[start : start + int(length)]]


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
STRING_FUNCTIONS: dict[str, tuple[int, Callable[..., Collection]]] = {
    "matches": (1, matches),
    "startsWith": (1, lambda v, s: [as_string(v).startswith(s)] if isinstance(s, str) else []),
    "endsWith": (1, lambda v, s: [as_string(v).endswith(s)] if isinstance(s, str) else []),
    "contains": (1, lambda v, s: [s in as_string(v)] if isinstance(s, str) else []),
    "length": (0, lambda v: [len(as_string(v))]),
    "upper": (0, lambda v: [as_string(v).upper()]),
    "lower": (0, lambda v: [as_string(v).lower()]),
    "toString": (0, lambda v: [as_string(v)]),
    "substring": (1, substring),
}


__all__ = [
    "COMPARISONS",
    "DATE_LIKE",
    "STRING_FUNCTIONS",
    "Collection",
    "ExtensionOnly",
    "Fn",
    "Frame",
    "Unsupported",
    "as_string",
    "boolean",
    "collect",
    "distinct",
    "each",
    "equal",
    "identifier",
    "is_number",
    "is_primitive",
    "matches",
    "number",
    "substring",
    "text",
    "unescape",
]
