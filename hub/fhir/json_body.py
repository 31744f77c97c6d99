"""Parse FHIR JSON request bodies defensively (https://hl7.org/fhir/R4/json.html).

Malformed JSON, invalid UTF-8, deep nesting and huge arrays are refused with a
precise 400 OperationOutcome before any other work is done.
"""

from __future__ import annotations

from typing import Any

import orjson

from hub.core.errors import InvalidInputError


def parse_json(body: bytes, *, max_depth: int, max_array_length: int) -> Any:
    """Decode ``body``; raise InvalidInputError naming the position of the first problem."""
    if not body.strip():
        raise InvalidInputError(
            "the request body is empty; a FHIR JSON resource was expected", message_id="TH-JSON-EMPTY"
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"the request body is not valid UTF-8 (byte offset {exc.start})", message_id="TH-JSON-UTF8"
        ) from exc
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", message_id="TH-JSON-SYNTAX"
        ) from exc
    check_shape(value, max_depth=max_depth, max_array_length=max_array_length)
    return value


def check_shape(value: Any, *, max_depth: int, max_array_length: int) -> None:
    """Bound nesting depth and array length iteratively (no recursion: hostile input cannot blow a stack)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "$")]
    while stack:
        node, depth, path = stack.pop()
        if depth > max_depth:
            raise InvalidInputError(
                f"JSON nesting deeper than {max_depth} levels at {path}", message_id="TH-JSON-DEPTH"
            )
        if isinstance(node, dict):
            stack.extend((v, depth + 1, f"{path}.{k}") for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list):
            if len(node) > max_array_length:
                raise InvalidInputError(
                    f"JSON array at {path} has {len(node)} items; the limit is {max_array_length}",
                    message_id="TH-JSON-ARRAY",
                )
            stack.extend(
                (v, depth + 1, f"{path}[{i}]") for i, v in enumerate(node) if isinstance(v, dict | list)
            )


def parse_resource(body: bytes, *, max_depth: int, max_array_length: int) -> dict[str, Any]:
    value = parse_json(body, max_depth=max_depth, max_array_length=max_array_length)
    if not isinstance(value, dict):
        raise InvalidInputError("a FHIR resource must be a JSON object", message_id="TH-JSON-NOT-OBJECT")
    rtype = value.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise InvalidInputError(
            "the JSON object has no resourceType", expression="resourceType", message_id="TH-JSON-NO-TYPE"
        )
    return value
