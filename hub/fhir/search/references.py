"""Reference strings split into target type, id and URL, the same way for indexing and for search.

R4 references (https://hl7.org/fhir/R4/references.html#literal) are relative
(``Patient/123``, optionally ``/_history/2``), absolute (``https://x/fhir/Patient/123``),
or other URIs (``urn:uuid:…``, ``urn:oid:…``, canonicals).  Reference search
(https://hl7.org/fhir/R4/search.html#reference) compares the logical target, so
the version part is dropped on both sides.  An absolute URL whose prefix is the
hub's own base URL is treated as the relative reference it abbreviates; any other
absolute URL keeps its full text (so ``Patient/1`` never matches a patient on
another server) and only its type is recorded, for ``:[Type]`` and ``resolve() is``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core.caching import short_arguments_cache
from hub.core.normalization import clip

_ID = r"[A-Za-z0-9\-.]{1,64}"
_TYPE = r"[A-Z][A-Za-z]{1,63}"
_RELATIVE_RE = re.compile(rf"(?P<type>{_TYPE})/(?P<id>{_ID})(?:/_history/{_ID})?", re.ASCII)
_ABSOLUTE_RE = re.compile(
    rf"(?P<url>https?://[^\s?#]+?/(?P<type>{_TYPE})/{_ID})(?:/_history/{_ID})?", re.ASCII
)
ID_RE = re.compile(_ID, re.ASCII)
TYPE_RE = re.compile(_TYPE, re.ASCII)


@dataclass(frozen=True, slots=True)
class ParsedReference:
    """``target_type``/``target_id`` for local targets; ``url`` for anything else."""

    target_type: str | None
    target_id: str | None
    url: str | None


def parse_reference(text: str, local_base: str | None = None) -> ParsedReference | None:
    """Split a literal reference; ``None`` for an empty or contained (``#id``) reference."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    if local_base:
        prefix = local_base.rstrip("/") + "/"
        if text.startswith(prefix):
            text = text[len(prefix) :]
    relative = _RELATIVE_RE.fullmatch(text)
    if relative is not None:
        return ParsedReference(relative["type"], relative["id"], None)
    absolute = _ABSOLUTE_RE.fullmatch(text)
    if absolute is not None:
        return ParsedReference(absolute["type"], None, clip(absolute["url"]))
    return ParsedReference(None, None, clip(text))


def reference_type(reference: Mapping[str, Any], local_base: str | None = None) -> str | None:
    """The resource type a Reference points to: from its literal reference, else ``Reference.type``.

    This is what ``resolve() is Patient`` needs in a search expression: telehub
    never fetches the target while indexing.
    """
    literal, declared = reference.get("reference"), reference.get("type")
    return _type_of(
        literal if isinstance(literal, str) else None,
        declared if isinstance(declared, str) else None,
        local_base,
    )


@short_arguments_cache
def _type_of(literal: str | None, declared: str | None, local_base: str | None) -> str | None:
    if literal is not None:
        parsed = parse_reference(literal, local_base)
        if parsed is not None and parsed.target_type is not None:
            return parsed.target_type
    if declared is not None and TYPE_RE.fullmatch(declared):
        return declared
    return None
