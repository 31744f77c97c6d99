"""The FHIRPath evaluator the hub uses: fhirpathpy (``model=models["r4"]``) plus what FHIR invariants need.

See https://hl7.org/fhirpath/N1/ and https://hl7.org/fhir/R4/fhirpath.html (FHIR-specific
functions and variables).  Expressions are parsed once and cached by text; a
syntax error, or a call of a function no one implements, is reported when the
expression is compiled (that is, when a profile is loaded), not when it runs.

Added to fhirpathpy:

* ``%resource``, ``%rootResource``, ``%context``, ``%ucum``, ``%sct``, ``%loinc``
  and the ``%vs-<id>`` / ``%ext-<id>`` shorthands (R4 fhirpath.html §2.1.9.1.1);
* ``hasValue()`` - a single primitive with an actual value (not only extensions);
* ``resolve()`` - contained ``#id`` references, and Bundle entries by ``fullUrl``
  or ``Type/id`` (through :class:`FhirPathHooks` when the validator supplies one);
* ``conformsTo(url)`` and ``memberOf(valueSet)`` - delegated to the validator's hooks;
* ``htmlChecks()`` - an *approximation* of txt-1/txt-2: the narrative parses as
  XHTML without DTDs or entities, its root is ``div``, it uses no active content
  (script, form, iframe, object, embed, applet, ``on*`` attributes, ``javascript:``
  URLs) and it has some text or an image.  The full HTML 4.0 element/attribute
  white-list of the specification is not enforced;
* ``sort()``, ``escape()``/``unescape()``, ``matchesFull()``, ``precision()``, ``lowBoundary()`` and
  ``highBoundary()`` from :mod:`profiles.fhirpath_functions`;
* ``getValue()``, ``slice()``/``checkModifiers()`` are not provided.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from antlr4 import CommonTokenStream, InputStream, Token
from antlr4.error.ErrorListener import ErrorListener
from antlr4.tree.Tree import ParseTreeWalker
from fhirpathpy import engine as _engine
from fhirpathpy.engine import util as _util
from fhirpathpy.engine.invocations import invocation_registry
from fhirpathpy.engine.invocations.constants import constants as _constants
from fhirpathpy.engine.nodes import FP_Type, ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser.ASTPathListener import ASTPathListener as _ASTPathListener
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from hub.core.errors import InvalidInputError, ValidationFailedError
from profiles.fhirpath_fast import FastCompiler
from profiles.fhirpath_functions import EXTRA_FUNCTIONS
from profiles.fhirpath_values import ExtensionOnly, Fn, Frame, Unsupported
from profiles.narrative import narrative_problems

R4_MODEL: dict[str, Any] = models["r4"]
# fhirpathpy is untyped; these aliases give its entry points a type so mypy --strict stays on here.
do_eval: Callable[..., Any] = _engine.do_eval
arraify: Callable[[Any], list[Any]] = _util.arraify
get_data: Callable[[Any], Any] = _util.get_data
create_node: Callable[..., Any] = ResourceNode.create_node
reset_constants: Callable[[], None] = _constants.reset
new_ast_listener: Callable[[], Any] = _ASTPathListener
_CONSTANT = re.compile(r"%`?((?:vs|ext)-[A-Za-z0-9.\-_]+)`?")
_MAX_CACHE = 20_000
FIXED_VARIABLES = {
    "ucum": "http://unitsofmeasure.org",
    "sct": "http://snomed.info/sct",
    "loinc": "http://loinc.org",
}


class FhirPathSyntaxError(InvalidInputError):
    """An expression that does not parse, or calls an unknown function."""


class FhirPathEvaluationError(ValidationFailedError):
    """An expression failed at run time (type errors, singleton expected, ...)."""


class FhirPathHooks(Protocol):
    """What FHIRPath functions need from the validator."""

    def conforms_to(self, data: Any, url: str) -> bool: ...

    def member_of(self, data: Any, value_set: str) -> bool | None: ...

    def resolve(self, reference: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A parsed expression; ``fast`` is its closure form when it is in the fast subset."""

    text: str
    ast: Mapping[str, Any] = field(repr=False)
    constants: tuple[tuple[str, str], ...] = ()
    fast: Fn | None = field(default=None, repr=False, compare=False)


class _RaisingListener(ErrorListener):  # type: ignore[misc]
    def syntaxError(self, recognizer: Any, symbol: Any, line: int, column: int, msg: str, e: Any) -> None:
        raise FhirPathSyntaxError(f"FHIRPath syntax error at {line}:{column}: {msg}")


def _function_names(node: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.get("type") == "Functn":
            ident = current["children"][0]
            names.add(ident.get("text") or "".join(ident.get("terminalNodeText", [])))
        stack.extend(c for c in current.get("children", ()) if isinstance(c, dict))
    return names


def parse_expression(text: str) -> Mapping[str, Any]:
    """Parse strictly: any syntax error or trailing input raises :class:`FhirPathSyntaxError`."""
    listener = _RaisingListener()
    lexer = FHIRPathLexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    ast_listener = new_ast_listener()
    try:
        tree = parser.expression()
        if parser.getCurrentToken().type != Token.EOF:
            raise FhirPathSyntaxError(
                f"FHIRPath syntax error: unexpected '{parser.getCurrentToken().text}' in '{text}'"
            )
        ParseTreeWalker().walk(ast_listener, tree)
    except FhirPathSyntaxError:
        raise
    except Exception as exc:  # antlr raises its own recognition exceptions
        raise FhirPathSyntaxError(f"FHIRPath syntax error in '{text}': {exc}") from exc
    result: Mapping[str, Any] = ast_listener.parentStack[0]
    return result


def _data(item: Any) -> Any:
    return item.data if isinstance(item, ResourceNode) else item


def _is_primitive(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)


class FhirPathEngine:
    """Compile-once FHIRPath evaluation over FHIR JSON (R4 model)."""

    def __init__(self, model: dict[str, Any] | None = None) -> None:
        self.model = model if model is not None else R4_MODEL
        self._cache: dict[str, CompiledExpression] = {}
        self._lock = threading.Lock()
        self._table: dict[str, dict[str, Any]] = {
            "hasValue": {"fn": self._has_value},
            "htmlChecks": {"fn": self._html_checks},
            "resolve": {"fn": self._resolve},
            "conformsTo": {"fn": self._conforms_to, "arity": {1: ["String"]}},
            "memberOf": {"fn": self._member_of, "arity": {1: ["String"]}},
            # trace() is a no-op here: fhirpathpy prints to stdout, which a server must not do
            "trace": {"fn": self._trace, "arity": {0: [], 1: ["String"], 2: ["String", "AnyAtRoot"]}},
            **EXTRA_FUNCTIONS,
        }
        self._known = set(invocation_registry) | set(self._table)
        types = self.model.get("type2Parent", {})
        choices = frozenset(p.rsplit(".", 1)[-1] for p in self.model.get("choiceTypePaths", {}))
        self._fast = FastCompiler(frozenset(t[:1].upper() + t[1:] for t in types), choices | {"value"})

    # -- compilation ---------------------------------------------------------
    def compile(self, text: str) -> CompiledExpression:
        """Parse ``text`` once (cached); raises :class:`FhirPathSyntaxError` on bad input."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        ast = parse_expression(text)
        unknown = sorted(_function_names(ast) - self._known)
        if unknown:
            raise FhirPathSyntaxError(f"FHIRPath function(s) not supported: {', '.join(unknown)} in '{text}'")
        named = tuple(
            (
                name,
                f"http://hl7.org/fhir/{'ValueSet' if name.startswith('vs-') else 'StructureDefinition'}/"
                f"{name[3:] if name.startswith('vs-') else name[4:]}",
            )
            for name in sorted(set(_CONSTANT.findall(text)))
        )
        try:
            fast: Fn | None = self._fast.compile(ast)
        except Unsupported:
            fast = None
        compiled = CompiledExpression(text, ast, named, fast)
        with self._lock:
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
            self._cache[text] = compiled
        return compiled

    # -- evaluation ----------------------------------------------------------
    def evaluate(
        self,
        expression: CompiledExpression | str,
        data: Any,
        *,
        base_type: str | None = None,
        resource: Any = None,
        root_resource: Any = None,
        variables: Mapping[str, Any] | None = None,
        hooks: FhirPathHooks | None = None,
        slow: bool = False,
    ) -> list[Any]:
        """Evaluate on ``data`` (typed as ``base_type`` when it is not a resource); plain JSON results.

        The compiled fast form is used when there is one; ``slow`` forces fhirpathpy.
        """
        compiled = expression if isinstance(expression, CompiledExpression) else self.compile(expression)
        resource = resource if resource is not None else data
        if compiled.fast is not None and not slow:
            fast_env: dict[str, Any] = {
                "context": data,
                "resource": resource,
                "rootResource": root_resource if root_resource is not None else resource,
                **FIXED_VARIABLES,
                **dict(compiled.constants),
                **(variables or {}),
            }
            try:
                found = compiled.fast([data], Frame([data], fast_env, hooks))
            except Unsupported:
                pass  # this data needs the full engine (dates, conversions): evaluate below
            else:
                return [v for v in found if not isinstance(v, ExtensionOnly)]
        focus = create_node(data, base_type) if base_type and data is not None else data
        root = root_resource if root_resource is not None else resource
        env: dict[str, Any] = {
            "context": focus,
            # typed nodes, so that %resource.type() names the resource type (not "Object")
            "resource": create_node(resource) if isinstance(resource, dict) else resource,
            "rootResource": create_node(root) if isinstance(root, dict) else root,
            "ucum": "http://unitsofmeasure.org",
            "sct": "http://snomed.info/sct",
            "loinc": "http://loinc.org",
        }
        env.update(compiled.constants)
        if variables:
            env.update(variables)
        root = arraify(focus)
        ctx: dict[str, Any] = {
            "dataRoot": root,
            "vars": env,
            "model": self.model,
            "userInvocationTable": self._table,
            "hooks": hooks,
        }
        reset_constants()
        try:
            result = do_eval(ctx, root, compiled.ast["children"][0])
        except RecursionError as exc:
            raise FhirPathEvaluationError(f"'{compiled.text}': expression nests too deeply") from exc
        except Exception as exc:  # fhirpathpy raises bare Exception/TypeError/ValueError for runtime errors
            raise FhirPathEvaluationError(f"'{compiled.text}' failed: {exc}") from exc
        plain = [self._plain(item) for item in arraify(result)]
        for value in plain:  # some fhirpathpy functions (single()) report errors as values
            if isinstance(value, dict) and value.get("$status") == "error":
                raise FhirPathEvaluationError(f"'{compiled.text}' failed: {value.get('$error')}")
        # fhirpathpy represents a primitive's "_name" extension object as a separate node; like its
        # own evaluate(), drop those (they are not values of the expression)
        return [v for v in plain if not (isinstance(v, dict) and list(v) == ["extension"])]

    def is_true(self, expression: CompiledExpression | str, data: Any, **kwargs: Any) -> bool:
        """Invariant semantics: only a single ``false`` fails.

        An empty result passes, as in the HL7 reference validator (``fullUrl.contains('x').not()``
        on an entry without fullUrl is empty, and such entries are valid).
        """
        result = self.evaluate(expression, data, **kwargs)
        return not (len(result) == 1 and result[0] is False)

    @staticmethod
    def _plain(item: Any) -> Any:
        value = get_data(item)
        if isinstance(value, FP_Type):
            return str(value)
        return value

    # -- added functions (signature: ctx, input collection, *params) ----------
    @staticmethod
    def _has_value(ctx: dict[str, Any], inputs: list[Any]) -> list[bool]:
        # fhirpathpy may add a separate node for the "_name" extension object: not a value
        values = [i for i in inputs if not (isinstance(_data(i), dict) and list(_data(i)) == ["extension"])]
        return [len(values) == 1 and _is_primitive(_data(values[0]))]

    @staticmethod
    def _trace(ctx: dict[str, Any], inputs: list[Any], *args: Any) -> list[Any]:
        return inputs

    @staticmethod
    def _html_checks(ctx: dict[str, Any], inputs: list[Any]) -> list[bool]:
        if len(inputs) != 1:
            return [False]
        value = _data(inputs[0])
        if isinstance(value, dict):  # called on Narrative rather than Narrative.div
            value = value.get("div")
        return [isinstance(value, str) and not narrative_problems(value)]

    def _resolve(self, ctx: dict[str, Any], inputs: list[Any]) -> list[Any]:
        hooks: FhirPathHooks | None = ctx.get("hooks")
        found: list[Any] = []
        for item in inputs:
            value = _data(item)
            reference = value.get("reference") if isinstance(value, dict) else value
            if not isinstance(reference, str):
                continue
            target = hooks.resolve(reference) if hooks else _resolve_locally(ctx["vars"], reference)
            if target is not None:
                found.append(create_node(target))
        return found

    @staticmethod
    def _conforms_to(ctx: dict[str, Any], inputs: list[Any], url: Any) -> list[bool]:
        hooks: FhirPathHooks | None = ctx.get("hooks")
        if hooks is None or not isinstance(url, str) or len(inputs) != 1:
            return []
        return [hooks.conforms_to(_data(inputs[0]), url)]

    @staticmethod
    def _member_of(ctx: dict[str, Any], inputs: list[Any], value_set: Any) -> list[bool]:
        hooks: FhirPathHooks | None = ctx.get("hooks")
        if hooks is None or not isinstance(value_set, str) or len(inputs) != 1:
            return []
        answer = hooks.member_of(_data(inputs[0]), value_set)
        return [] if answer is None else [answer]


def _resolve_locally(env: Mapping[str, Any], reference: str) -> dict[str, Any] | None:
    """Default resolve(): contained resources of %resource, then entries of a Bundle %rootResource."""
    resource = _data(env.get("resource"))
    if reference.startswith("#") and isinstance(resource, dict):
        for contained in resource.get("contained") or ():
            if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                return contained
        return None
    root = _data(env.get("rootResource"))
    if isinstance(root, dict) and root.get("resourceType") == "Bundle":
        return bundle_entry(root, reference)
    return None


def bundle_entry(bundle: Mapping[str, Any], reference: str) -> dict[str, Any] | None:
    """The resource of the Bundle entry ``reference`` points at (by fullUrl, or by Type/id)."""
    for entry in bundle.get("entry") or ():
        if not isinstance(entry, dict):
            continue
        res = entry.get("resource")
        if not isinstance(res, dict):
            continue
        full_url = entry.get("fullUrl")
        if full_url == reference:
            return res
        typed = f"{res.get('resourceType')}/{res.get('id')}"
        if reference == typed or (isinstance(full_url, str) and full_url.endswith("/" + reference)):
            return res
    return None
