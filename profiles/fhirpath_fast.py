"""A fast path for the FHIRPath subset invariants use: the parsed tree compiled to Python closures.

See https://hl7.org/fhirpath/N1/ (navigation, three-valued logic, equality, functions) and
https://hl7.org/fhir/R4/fhirpath.html.  fhirpathpy interprets its syntax tree on every call
(70-400 µs per invariant); profiles carry several invariants per resource.  This module compiles
the common subset once into closures over plain JSON (about 5-20 µs per invariant).

Anything outside the subset (date/time/quantity literals, type operators, date comparisons,
unknown functions) raises :class:`Unsupported` - at compile time, or at run time when only the
data reveals it (two date strings compared) - and :mod:`profiles.fhirpath` then evaluates
with fhirpathpy instead.  Results must equal fhirpathpy's; a test compares both on the core
invariants over the official R4 examples.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from profiles.narrative import narrative_problems

Collection = list[Any]
Fn = Callable[[Collection, "Frame"], Collection]
_DATE_LIKE = re.compile(r"^\d{4}(-\d\d(-\d\d)?)?(T|$)")


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


class FastCompiler:
    """Compiles fhirpathpy syntax trees; ``type_suffixes`` are the names a choice element may end with."""

    def __init__(self, type_suffixes: frozenset[str], choice_names: frozenset[str]) -> None:
        self.suffixes = type_suffixes
        # element names that are choices somewhere ("value", "effective", ...): only these may be
        # matched by their typed JSON names, so that "response" never picks up "responseCode"
        self.choice_names = choice_names

    def compile(self, ast: Mapping[str, Any]) -> Fn:
        return self._node(ast["children"][0])

    # -- nodes -----------------------------------------------------------------
    def _node(self, node: Mapping[str, Any]) -> Fn:
        kind = node["type"]
        handler = getattr(self, f"_n_{kind}", None)
        if handler is None:
            raise Unsupported(kind)
        result: Fn = handler(node)
        return result

    def _n_TermExpression(self, node: Mapping[str, Any]) -> Fn:
        return self._node(node["children"][0])

    _n_ParenthesizedTerm = _n_TermExpression
    _n_LiteralTerm = _n_TermExpression

    def _n_InvocationTerm(self, node: Mapping[str, Any]) -> Fn:
        child = node["children"][0]
        if child["type"] == "ThisInvocation":
            return lambda focus, frame: frame.this
        return self._invocation(child)

    def _n_InvocationExpression(self, node: Mapping[str, Any]) -> Fn:
        typed = self._typed_choice(node["children"][0], node["children"][1])
        if typed is not None:
            return typed
        left = self._node(node["children"][0])
        right = self._invocation(node["children"][1])
        return lambda focus, frame: right(left(focus, frame), frame)

    def _typed_choice(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> Fn | None:
        """``value.ofType(Quantity)`` on a choice element: exactly the JSON property ``valueQuantity``."""
        if right["type"] != "FunctionInvocation":
            return None
        functn = right["children"][0]
        if _identifier(functn["children"][0]) != "ofType" or len(functn["children"]) < 2:
            return None
        params = functn["children"][1]["children"]
        type_name = _identifier(params[0]) if len(params) == 1 else ""
        type_name = type_name.removeprefix("FHIR.")
        if not type_name.replace("_", "").isalnum():
            return None
        if left["type"] == "InvocationExpression" and left["children"][1]["type"] == "MemberInvocation":
            base: Fn | None = self._node(left["children"][0])
            member = left["children"][1]
        elif left["type"] == "TermExpression" and left["children"][0]["type"] == "InvocationTerm":
            base, member = None, left["children"][0]["children"][0]
            if member["type"] != "MemberInvocation":
                return None
        else:
            return None
        name = _identifier(member["children"][0])
        if name not in self.choice_names:
            return None
        navigate = self._invocation(
            {"type": "MemberInvocation", "children": [{"text": name + type_name[:1].upper() + type_name[1:]}]}
        )
        plain = (name, "_" + name)

        def typed(focus: Collection, frame: Frame) -> Collection:
            items = focus if base is None else base(focus, frame)
            for item in items:
                if type(item) is dict and (plain[0] in item or plain[1] in item):
                    # the name is a choice elsewhere, but a plain element here: filter by type properly
                    raise Unsupported("ofType() on an element that is not a choice")
            return navigate(items, frame)

        return typed

    def _invocation(self, node: Mapping[str, Any]) -> Fn:
        if node["type"] == "MemberInvocation":
            name = _identifier(node["children"][0])
            partner = "_" + name
            member = self._member

            def navigate(focus: Collection, frame: Frame) -> Collection:
                # the common case inline: one object holding the member, without a "_name" partner
                if len(focus) == 1:
                    item = focus[0]
                    if type(item) is dict:
                        value = item.get(name)
                        if value is not None and partner not in item:
                            if type(value) is list:
                                return [v for v in value if v is not None]
                            return [value]
                        if (
                            value is None
                            and partner not in item
                            and item.get("resourceType") != name
                            and name not in self.choice_names
                        ):
                            return []
                return member(focus, name)

            return navigate
        if node["type"] == "FunctionInvocation":
            functn = node["children"][0]
            name = _identifier(functn["children"][0])
            params = [
                self._node(p)
                for p in (functn["children"][1]["children"] if len(functn["children"]) > 1 else [])
            ]
            return self._function(name, params)
        raise Unsupported(node["type"])

    # Literal collections are built once: no closure ever mutates a collection it is given.
    def _n_StringLiteral(self, node: Mapping[str, Any]) -> Fn:
        literal = [_unescape(node["text"][1:-1])]
        return lambda focus, frame: literal

    def _n_NumberLiteral(self, node: Mapping[str, Any]) -> Fn:
        text = node["text"]
        literal: Collection = [int(text) if text.isdigit() else Decimal(text)]
        return lambda focus, frame: literal

    def _n_BooleanLiteral(self, node: Mapping[str, Any]) -> Fn:
        literal = [node["text"] == "true"]
        return lambda focus, frame: literal

    def _n_NullLiteral(self, node: Mapping[str, Any]) -> Fn:
        return lambda focus, frame: []

    def _n_ExternalConstantTerm(self, node: Mapping[str, Any]) -> Fn:
        name = _identifier(node["children"][0]["children"][0])

        def constant(focus: Collection, frame: Frame) -> Collection:
            if name not in frame.variables:
                raise Unsupported(f"%{name}")
            value = frame.variables[name]
            return [] if value is None else list(value) if isinstance(value, list) else [value]

        return constant

    def _n_IndexerExpression(self, node: Mapping[str, Any]) -> Fn:
        left, index = self._node(node["children"][0]), self._node(node["children"][1])

        def indexer(focus: Collection, frame: Frame) -> Collection:
            items, position = left(focus, frame), index(focus, frame)
            if len(position) != 1 or not isinstance(position[0], int):
                raise Unsupported("index")
            return [items[position[0]]] if 0 <= position[0] < len(items) else []

        return indexer

    def _n_PolarityExpression(self, node: Mapping[str, Any]) -> Fn:
        operand = self._node(node["children"][0])
        sign = node["terminalNodeText"][0]

        def polarity(focus: Collection, frame: Frame) -> Collection:
            items = operand(focus, frame)
            if len(items) != 1 or not _is_number(items[0]):
                raise Unsupported("polarity")
            return [-_number(items[0]) if sign == "-" else items[0]]

        return polarity

    # -- operators ---------------------------------------------------------------
    def _binary(self, node: Mapping[str, Any]) -> tuple[Fn, Fn, str]:
        return self._node(node["children"][0]), self._node(node["children"][1]), node["terminalNodeText"][0]

    def _n_AndExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, _ = self._binary(node)

        def and_(focus: Collection, frame: Frame) -> Collection:
            a = _boolean(left(focus, frame))
            if a is False:
                return [False]
            b = _boolean(right(focus, frame))
            if b is False:
                return [False]
            return [True] if a is True and b is True else []

        return and_

    def _n_OrExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)
        if op == "xor":

            def xor(focus: Collection, frame: Frame) -> Collection:
                a, b = _boolean(left(focus, frame)), _boolean(right(focus, frame))
                return [] if a is None or b is None else [a != b]

            return xor

        def or_(focus: Collection, frame: Frame) -> Collection:
            a = _boolean(left(focus, frame))
            if a is True:
                return [True]
            b = _boolean(right(focus, frame))
            if b is True:
                return [True]
            return [False] if a is False and b is False else []

        return or_

    def _n_ImpliesExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, _ = self._binary(node)

        def implies(focus: Collection, frame: Frame) -> Collection:
            a = _boolean(left(focus, frame))
            if a is False:
                return [True]
            b = _boolean(right(focus, frame))
            if a is True:
                return [] if b is None else [b]
            return [True] if b is True else []

        return implies

    def _n_EqualityExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)
        if op not in ("=", "!="):
            raise Unsupported(op)
        negate = op == "!="
        true, false = [not negate], [negate]

        def equality(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            if not a or not b:
                return []
            if len(a) == 1 and len(b) == 1:
                x, y = a[0], b[0]
                if (
                    type(x) is str
                    and type(y) is str
                    and (x == y or not (x[:1].isdigit() and y[:1].isdigit()))
                ):
                    return true if x == y else false  # equal text, or text that is no date: plain compare
                return [_equal(x, y) != negate]
            same = len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
            return [same != negate]

        return equality

    def _n_InequalityExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)
        compare_values: Callable[[Any, Any], bool] = _COMPARISONS[op]

        def compare(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            if not a or not b:
                return []
            if len(a) != 1 or len(b) != 1:
                raise Unsupported("comparison of collections")
            x, y = a[0], b[0]
            if type(x) is int and type(y) is int:
                pass  # counts and integers compare as they are
            elif _is_number(x) and _is_number(y):
                x, y = _number(x), _number(y)
            elif (
                not (isinstance(x, str) and isinstance(y, str)) or _DATE_LIKE.match(x) or _DATE_LIKE.match(y)
            ):
                raise Unsupported("comparison")
            return [compare_values(x, y)]

        return compare

    def _n_UnionExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, _ = self._binary(node)
        return lambda focus, frame: _distinct(left(focus, frame) + right(focus, frame))

    def _n_MembershipExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)

        def membership(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            item, pool = (a, b) if op == "in" else (b, a)
            if not item:
                return []
            if len(item) != 1:
                raise Unsupported("membership of a collection")
            return [any(_equal(item[0], other) for other in pool)]

        return membership

    def _n_AdditiveExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)

        def additive(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            if op == "&":
                return [_text(a) + _text(b)]
            if not a or not b:
                return []
            if len(a) != 1 or len(b) != 1:
                raise Unsupported("arithmetic on collections")
            x, y = a[0], b[0]
            if _is_number(x) and _is_number(y):
                return [_number(x) + _number(y) if op == "+" else _number(x) - _number(y)]
            if op == "+" and isinstance(x, str) and isinstance(y, str):
                return [x + y]
            raise Unsupported("arithmetic")

        return additive

    # -- navigation --------------------------------------------------------------
    def _member(self, focus: Collection, name: str) -> Collection:
        if len(focus) == 1 and type(focus[0]) is dict:
            # the common case: one object holding the member, without a "_name" partner
            value = focus[0].get(name)
            if value is not None and "_" + name not in focus[0]:
                if type(value) is list:
                    return [v for v in value if v is not None]
                return [value]
        out: Collection = []
        for item in focus:
            if isinstance(item, ExtensionOnly):
                if name in ("extension", "id") and name in item.element:
                    value = item.element[name]
                    out.extend(value if isinstance(value, list) else [value])
                continue
            if not isinstance(item, dict):
                continue
            if name in item or "_" + name in item:
                _collect(out, item.get(name), item.get("_" + name))
            elif item.get("resourceType") == name:
                out.append(item)
            elif name in self.choice_names:
                size = len(name)
                for key, value in item.items():
                    if key.startswith(name) and key[size:] in self.suffixes:
                        _collect(out, value, item.get("_" + key))
        return out

    # -- functions ---------------------------------------------------------------
    def _function(self, name: str, params: list[Fn]) -> Fn:
        arity = len(params)
        if name == "exists" and arity <= 1:
            if not params:
                return lambda focus, frame: [bool(focus)]
            crit = params[0]
            return lambda focus, frame: [any(_each(crit, focus, frame, stop_at=True))]
        if name == "empty" and not params:
            return lambda focus, frame: [not focus]
        if name == "count" and not params:
            return lambda focus, frame: [len(focus)]
        if name == "not" and not params:
            return lambda focus, frame: [] if _boolean(focus) is None else [not _boolean(focus)]
        if name == "where" and arity == 1:
            crit = params[0]
            return lambda focus, frame: [
                i for i, keep in zip(focus, _each(crit, focus, frame), strict=True) if keep
            ]
        if name == "all" and arity == 1:
            crit = params[0]
            return lambda focus, frame: [all(_each(crit, focus, frame, stop_at=False))]
        if name == "select" and arity == 1:
            expr = params[0]
            return lambda focus, frame: [r for i in focus for r in expr([i], frame.with_this([i]))]
        if name in ("first", "last") and not params:
            index = 0 if name == "first" else -1
            return lambda focus, frame: [focus[index]] if focus else []
        if name in ("subsetOf", "supersetOf", "intersect") and arity == 1:
            other = params[0]

            def sets(focus: Collection, frame: Frame) -> Collection:
                pool = other(frame.this, frame)
                if name == "intersect":
                    return _distinct([i for i in focus if any(_equal(i, o) for o in pool)])
                inner, outer = (focus, pool) if name == "subsetOf" else (pool, focus)
                return [all(any(_equal(i, o) for o in outer) for i in inner)]

            return sets
        if name == "distinct" and not params:
            return lambda focus, frame: _distinct(focus)
        if name == "isDistinct" and not params:
            return lambda focus, frame: [len(_distinct(focus)) == len(focus)]
        if name == "trace":
            return lambda focus, frame: focus
        if name == "hasValue" and not params:
            return lambda focus, frame: [len(focus) == 1 and _is_primitive(focus[0])]
        if name in _STRING_FUNCTIONS and arity == _STRING_FUNCTIONS[name][0]:
            return self._string_function(name, params)
        if name == "extension" and arity == 1:
            return self._extension(params[0])
        if name == "htmlChecks" and not params:
            return lambda focus, frame: [
                len(focus) == 1 and isinstance(focus[0], str) and not narrative_problems(focus[0])
            ]
        if name in ("memberOf", "conformsTo", "resolve"):
            return self._hooked(name, params)
        raise Unsupported(f"{name}()")

    def _string_function(self, name: str, params: list[Fn]) -> Fn:
        operation = _STRING_FUNCTIONS[name][1]

        def string_function(focus: Collection, frame: Frame) -> Collection:
            if not focus:
                return []
            if len(focus) != 1 or not (
                isinstance(focus[0], str) or (name == "toString" and _is_primitive(focus[0]))
            ):
                raise Unsupported(f"{name} on a non-string")
            args = []
            for param in params:
                value = param(frame.this, frame)
                if len(value) != 1:
                    return []
                args.append(value[0])
            return operation(focus[0], *args)

        return string_function

    def _extension(self, param: Fn) -> Fn:
        def extension(focus: Collection, frame: Frame) -> Collection:
            url = param(frame.this, frame)
            if len(url) != 1:
                return []
            found = self._member(focus, "extension")
            return [e for e in found if isinstance(e, dict) and e.get("url") == url[0]]

        return extension

    def _hooked(self, name: str, params: list[Fn]) -> Fn:
        def hooked(focus: Collection, frame: Frame) -> Collection:
            hooks = frame.hooks
            if name == "resolve":
                if hooks is None:
                    raise Unsupported("resolve() without hooks")
                out = []
                for item in focus:
                    reference = item.get("reference") if isinstance(item, dict) else item
                    target = hooks.resolve(reference) if isinstance(reference, str) else None
                    if target is not None:
                        out.append(target)
                return out
            if hooks is None or len(params) != 1 or len(focus) != 1:
                return []
            arg = params[0](frame.this, frame)
            if len(arg) != 1 or not isinstance(arg[0], str):
                return []
            if name == "conformsTo":
                return [hooks.conforms_to(focus[0], arg[0])]
            answer = hooks.member_of(focus[0], arg[0])
            return [] if answer is None else [answer]

        return hooked


# -- value helpers -------------------------------------------------------------------
def _each(criterion: Fn, focus: Collection, frame: Frame, stop_at: bool | None = None) -> list[bool]:
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
            result = _boolean(criterion(single, frame)) is True
            results.append(result)
            if result is stop_at:
                break
    finally:
        frame.this = saved
    return results


def _identifier(node: Mapping[str, Any]) -> str:
    text = node.get("text") or "".join(node.get("terminalNodeText", []))
    return str(text).strip("`")


def _unescape(text: str) -> str:
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


def _collect(out: Collection, value: Any, extension: Any) -> None:
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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _is_primitive(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list | ExtensionOnly)


def _boolean(collection: Collection) -> bool | None:
    if not collection:
        return None
    if len(collection) == 1 and isinstance(collection[0], bool):
        return collection[0]
    raise Unsupported("non-boolean operand")


def _equal(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        # equal text is equal for dates too (same precision); only differing dates need the full engine
        if a == b:
            return True
        if a[:1].isdigit() and b[:1].isdigit() and _DATE_LIKE.match(a) and _DATE_LIKE.match(b):
            raise Unsupported("date equality")
        return False
    if isinstance(a, ExtensionOnly) or isinstance(b, ExtensionOnly):
        raise Unsupported("equality with an extension-only primitive")
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_number(a) and _is_number(b):
        return _number(a) == _number(b)
    if isinstance(a, str) and isinstance(b, str):
        if _DATE_LIKE.match(a) and _DATE_LIKE.match(b):
            raise Unsupported("date equality")
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a == b
    if (isinstance(a, str) and _DATE_LIKE.match(a)) or (isinstance(b, str) and _DATE_LIKE.match(b)):
        raise Unsupported("date equality")
    return False


def _distinct(items: Collection) -> Collection:
    out: Collection = []
    for item in items:
        if not any(_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _text(collection: Collection) -> str:
    if len(collection) > 1:
        raise Unsupported("& on a collection")
    return _as_string(collection[0]) if collection else ""


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        raise Unsupported("boolean to string")  # fhirpathpy renders True/False; keep results identical
    if isinstance(value, float):
        return str(Decimal(str(value)))
    return str(value)


def _matches(value: Any, regex: Any) -> Collection:
    if not isinstance(regex, str):
        return []
    return [re.search(regex, _as_string(value), re.DOTALL) is not None]


def _substring(value: Any, start: Any, length: Any = None) -> Collection:
    text = _as_string(value)
    if not isinstance(start, int) or isinstance(start, bool):
        raise Unsupported("substring() with a non-integer start")
    if start < 0 or start >= len(text):
        return []
    return [text[start:] if length is None else text[start : start + int(length)]]


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_STRING_FUNCTIONS: dict[str, tuple[int, Callable[..., Collection]]] = {
    "matches": (1, _matches),
    "startsWith": (1, lambda v, s: [_as_string(v).startswith(s)] if isinstance(s, str) else []),
    "endsWith": (1, lambda v, s: [_as_string(v).endswith(s)] if isinstance(s, str) else []),
    "contains": (1, lambda v, s: [s in _as_string(v)] if isinstance(s, str) else []),
    "length": (0, lambda v: [len(_as_string(v))]),
    "upper": (0, lambda v: [_as_string(v).upper()]),
    "lower": (0, lambda v: [_as_string(v).lower()]),
    "toString": (0, lambda v: [_as_string(v)]),
    "substring": (1, _substring),
}
