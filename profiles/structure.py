"""Definition-free structural checks of FHIR JSON, used when ``hl7.fhir.r4.core`` is not installed.

See https://hl7.org/fhir/R4/json.html: a resource is a JSON object with a ``resourceType``;
there are no ``null`` values (except as array placeholders paired with ``_name``), no empty
objects, arrays or strings; ``_name`` holds the id/extensions of primitive ``name``; every
extension has a ``url``; nested resources (``contained``, ``entry.resource``) have a
``resourceType`` too.  Element names, types and cardinalities need the core definitions and
are not checked here.
"""

from __future__ import annotations

import re
from typing import Any

from hub.core.issues import Issue, IssueSeverity, IssueType

RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
RESOURCE_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
MAX_DEPTH = 64


def _issue(message: str, path: str, message_id: str, code: IssueType = IssueType.STRUCTURE) -> Issue:
    return Issue(IssueSeverity.ERROR, code, message, expression=(path,), message_id=message_id)


def check_structure(resource: Any, path: str = "") -> list[Issue]:
    """Structural problems of ``resource`` that need no StructureDefinition to see."""
    issues: list[Issue] = []
    if not isinstance(resource, dict):
        return [_issue("A resource must be a JSON object", path or "$", "VAL_JSON_NOT_OBJECT")]
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not RESOURCE_TYPE.fullmatch(resource_type):
        issues.append(
            _issue("The resource has no valid resourceType", path or "$", "VAL_RESOURCE_TYPE_MISSING")
        )
        return issues
    path = path or resource_type
    ident = resource.get("id")
    if ident is not None and (not isinstance(ident, str) or not RESOURCE_ID.fullmatch(ident)):
        issues.append(
            _issue(f"Invalid resource id '{ident}'", f"{path}.id", "VAL_RESOURCE_ID", IssueType.VALUE)
        )
    _walk_object(resource, path, issues, 0)
    return issues


def _walk_object(obj: dict[str, Any], path: str, issues: list[Issue], depth: int) -> None:
    if depth > MAX_DEPTH:
        issues.append(
            _issue(f"Nesting deeper than {MAX_DEPTH} levels", path, "VAL_JSON_TOO_DEEP", IssueType.TOO_COSTLY)
        )
        return
    if not obj:
        issues.append(_issue("Object must have some content (ele-1)", path, "VAL_ELE_1", IssueType.INVARIANT))
        return
    for key, value in obj.items():
        child = f"{path}.{key}"
        if key.startswith("_") and not isinstance(value, dict | list):
            issues.append(
                _issue(f"'{key}' must be an object or array of objects", child, "VAL_JSON_OBJECT_EXPECTED")
            )
            continue
        if key in ("extension", "modifierExtension"):
            for index, ext in enumerate(value if isinstance(value, list) else [value]):
                if not isinstance(ext, dict) or not isinstance(ext.get("url"), str):
                    issues.append(
                        _issue("Extension.url is required", f"{child}[{index}]", "VAL_EXTENSION_NO_URL")
                    )
        if key in ("contained", "resource") and isinstance(value, dict | list):
            for index, nested in enumerate(value if isinstance(value, list) else [value]):
                where = f"{child}[{index}]" if isinstance(value, list) else child
                if isinstance(nested, dict) and "resourceType" in nested:
                    issues.extend(check_structure(nested, where))
                elif key == "contained":
                    issues.append(
                        _issue(
                            "A contained resource needs a resourceType", where, "VAL_RESOURCE_TYPE_MISSING"
                        )
                    )
            if key == "contained" or (isinstance(value, dict) and "resourceType" in value):
                continue
        _walk_value(
            value, child, issues, depth + 1, paired=obj.get(key[1:] if key.startswith("_") else "_" + key)
        )


def _walk_value(value: Any, path: str, issues: list[Issue], depth: int, *, paired: Any) -> None:
    if value is None:
        issues.append(_issue("null is not a valid value", path, "VAL_JSON_NULL"))
    elif isinstance(value, str) and value == "":
        issues.append(_issue("Strings must not be empty", path, "VAL_JSON_EMPTY", IssueType.VALUE))
    elif isinstance(value, dict):
        _walk_object(value, path, issues, depth)
    elif isinstance(value, list):
        if not value:
            issues.append(_issue("Arrays must not be empty", path, "VAL_JSON_EMPTY"))
            return
        partners = paired if isinstance(paired, list) else []
        for index, item in enumerate(value):
            if item is None and index < len(partners) and partners[index] is not None:
                continue  # a placeholder whose extension lives in the '_' array
            if isinstance(item, list):
                issues.append(
                    _issue("Arrays must not contain arrays", f"{path}[{index}]", "VAL_JSON_ARRAY_UNEXPECTED")
                )
                continue
            _walk_value(item, f"{path}[{index}]", issues, depth, paired=None)
