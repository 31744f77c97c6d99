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

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from profiles.fhirpath_values import (
    COMPARISONS,
    DATE_LIKE,
    STRING_FUNCTIONS,
    Collection,
    ExtensionOnly,
    Fn,
    Frame,
    Unsupported,
    boolean,
    collect,
    distinct,
    each,
    equal,
    identifier,
    is_number,
    is_primitive,
    number,
    text,
    unescape,
)
from profiles.narrative import narrative_problems


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
        if identifier(functn["children"][0]) != "ofType" or len(functn["children"]) < 2:
            return None
        params = functn["children"][1]["children"]
        type_name = identifier(params[0]) if len(params) == 1 else ""
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
        name = identifier(member["children"][0])
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
            name = identifier(node["children"][0])
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
            name = identifier(functn["children"][0])
            params = [
                self._node(p)
                for p in (functn["children"][1]["children"] if len(functn["children"]) > 1 else [])
            ]
            return self._function(name, params)
        raise Unsupported(node["type"])

    # Literal collections are built once: no closure ever mutates a collection it is given.
    def _n_StringLiteral(self, node: Mapping[str, Any]) -> Fn:
        literal = [unescape(node["text"][1:-1])]
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
        name = identifier(node["children"][0]["children"][0])

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
            if len(items) != 1 or not is_number(items[0]):
                raise Unsupported("polarity")
            return [-number(items[0]) if sign == "-" else items[0]]

        return polarity

    # -- operators ---------------------------------------------------------------
    def _binary(self, node: Mapping[str, Any]) -> tuple[Fn, Fn, str]:
        return self._node(node["children"][0]), self._node(node["children"][1]), node["terminalNodeText"][0]

    def _n_AndExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, _ = self._binary(node)

        def and_(focus: Collection, frame: Frame) -> Collection:
            a = boolean(left(focus, frame))
            if a is False:
                return [False]
            b = boolean(right(focus, frame))
            if b is False:
                return [False]
            return [True] if a is True and b is True else []

        return and_

    def _n_OrExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)
        if op == "xor":

            def xor(focus: Collection, frame: Frame) -> Collection:
                a, b = boolean(left(focus, frame)), boolean(right(focus, frame))
                return [] if a is None or b is None else [a != b]

            return xor

        def or_(focus: Collection, frame: Frame) -> Collection:
            a = boolean(left(focus, frame))
            if a is True:
                return [True]
            b = boolean(right(focus, frame))
            if b is True:
                return [True]
            return [False] if a is False and b is False else []

        return or_

    def _n_ImpliesExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, _ = self._binary(node)

        def implies(focus: Collection, frame: Frame) -> Collection:
            a = boolean(left(focus, frame))
            if a is False:
                return [True]
            b = boolean(right(focus, frame))
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
                return [equal(x, y) != negate]
            same = len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
            return [same != negate]

        return equality

    def _n_InequalityExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)
        compare_values: Callable[[Any, Any], bool] = COMPARISONS[op]

        def compare(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            if not a or not b:
                return []
            if len(a) != 1 or len(b) != 1:
                raise Unsupported("comparison of collections")
            x, y = a[0], b[0]
            if type(x) is int and type(y) is int:
                pass  # counts and integers compare as they are
            elif is_number(x) and is_number(y):
                x, y = number(x), number(y)
            elif not (isinstance(x, str) and isinstance(y, str)) or DATE_LIKE.match(x) or DATE_LIKE.match(y):
                raise Unsupported("comparison")
            return [compare_values(x, y)]

        return compare

    def _n_UnionExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, _ = self._binary(node)
        return lambda focus, frame: distinct(left(focus, frame) + right(focus, frame))

    def _n_MembershipExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)

        def membership(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            item, pool = (a, b) if op == "in" else (b, a)
            if not item:
                return []
            if len(item) != 1:
                raise Unsupported("membership of a collection")
            return [any(equal(item[0], other) for other in pool)]

        return membership

    def _n_AdditiveExpression(self, node: Mapping[str, Any]) -> Fn:
        left, right, op = self._binary(node)

        def additive(focus: Collection, frame: Frame) -> Collection:
            a, b = left(focus, frame), right(focus, frame)
            if op == "&":
                return [text(a) + text(b)]
            if not a or not b:
                return []
            if len(a) != 1 or len(b) != 1:
                raise Unsupported("arithmetic on collections")
            x, y = a[0], b[0]
            if is_number(x) and is_number(y):
                return [number(x) + number(y) if op == "+" else number(x) - number(y)]
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
                collect(out, item.get(name), item.get("_" + name))
            elif item.get("resourceType") == name:
                out.append(item)
            elif name in self.choice_names:
                size = len(name)
                for key, value in item.items():
                    if key.startswith(name) and key[size:] in self.suffixes:
                        collect(out, value, item.get("_" + key))
        return out

    # -- functions ---------------------------------------------------------------
    def _function(self, name: str, params: list[Fn]) -> Fn:
        arity = len(params)
        if name == "exists" and arity <= 1:
            if not params:
                return lambda focus, frame: [bool(focus)]
            crit = params[0]
            return lambda focus, frame: [any(each(crit, focus, frame, stop_at=True))]
        if name == "empty" and not params:
            return lambda focus, frame: [not focus]
        if name == "count" and not params:
            return lambda focus, frame: [len(focus)]
        if name == "not" and not params:
            return lambda focus, frame: [] if boolean(focus) is None else [not boolean(focus)]
        if name == "where" and arity == 1:
            crit = params[0]
            return lambda focus, frame: [
                i for i, keep in zip(focus, each(crit, focus, frame), strict=True) if keep
            ]
        if name == "all" and arity == 1:
            crit = params[0]
            return lambda focus, frame: [all(each(crit, focus, frame, stop_at=False))]
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
                    return distinct([i for i in focus if any(equal(i, o) for o in pool)])
                inner, outer = (focus, pool) if name == "subsetOf" else (pool, focus)
                return [all(any(equal(i, o) for o in outer) for i in inner)]

            return sets
        if name == "distinct" and not params:
            return lambda focus, frame: distinct(focus)
        if name == "isDistinct" and not params:
            return lambda focus, frame: [len(distinct(focus)) == len(focus)]
        if name == "trace":
            return lambda focus, frame: focus
        if name == "hasValue" and not params:
            return lambda focus, frame: [len(focus) == 1 and is_primitive(focus[0])]
        if name in STRING_FUNCTIONS and arity == STRING_FUNCTIONS[name][0]:
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
        operation = STRING_FUNCTIONS[name][1]

        def string_function(focus: Collection, frame: Frame) -> Collection:
            if not focus:
                return []
            if len(focus) != 1 or not (
                isinstance(focus[0], str) or (name == "toString" and is_primitive(focus[0]))
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
