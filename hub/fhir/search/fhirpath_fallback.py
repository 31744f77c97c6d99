"""The fhirpathpy route of search expressions, for branches the fast path does not recognise.

``fhirpathpy.compile(expr, model=models["r4"])`` once per branch, evaluated with
``returnRawData`` so nodes keep their FHIR type.  fhirpathpy has no
``resolve()``: a user function supplies one that reads the target type from the
reference text (:func:`hub.fhir.search.references.reference_type`).  fhirpathpy's
parser recovers silently from syntax errors, so :func:`check_syntax` runs the
same ANTLR grammar with an error listener that raises first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from antlr4 import CommonTokenStream, InputStream, Token
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy import compile as fhirpath_compile
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from hub.core.errors import ConfigurationError
from hub.fhir.search.fast_path import MODEL, Evaluator, TypedNode, as_of_type
from hub.fhir.search.references import reference_type


def _resolved_stub(resource_type: str) -> Any:
    """What our ``resolve()`` returns: a node of the target type, enough for ``is``/``ofType``."""
    return ResourceNode.create_node({"resourceType": resource_type})  # type: ignore[no-untyped-call]


class _RaisingListener(ErrorListener):  # type: ignore[misc]
    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any) -> None:
        raise ConfigurationError(f"FHIRPath syntax error at column {column + 1}: {msg}")


def check_syntax(expression: str) -> None:
    """Raise :class:`ConfigurationError` unless ``expression`` is complete, valid FHIRPath.

    fhirpathpy's own parser recovers silently from syntax errors (``Patient.name.where(``
    compiles), so expressions from packages are checked with the same grammar first.
    """
    listener = _RaisingListener()
    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    tokens = CommonTokenStream(lexer)
    parser = FHIRPathParser(tokens)
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    parser.expression()
    if tokens.LA(1) != Token.EOF:
        extra = tokens.LT(1)
        raise ConfigurationError(
            f"FHIRPath syntax error at column {extra.column + 1}: unexpected {extra.text!r}"
        )


def fhirpathpy_evaluator(branch: str, local_base: str | None) -> Evaluator:
    """``branch`` compiled once by fhirpathpy; the evaluator returns typed nodes like the fast path."""

    def resolve(inputs: list[Any]) -> list[Any]:
        found = [reference_type(i, local_base) for i in inputs if isinstance(i, dict)]
        return [_resolved_stub(t) for t in found if t]

    options = {"returnRawData": True, "userInvocationTable": {"resolve": {"fn": resolve, "arity": {0: []}}}}
    check_syntax(branch)
    compiled = fhirpath_compile(as_of_type(branch), model=MODEL, options=options)

    def evaluate(resource: Mapping[str, Any]) -> list[TypedNode]:
        result = compiled(resource, {})
        return [(n.path, n.data) if isinstance(n, ResourceNode) else (None, n) for n in result]

    return evaluate
