"""Display names for the codes of an MHD DocumentEntry whose codings leave ``display`` out.

FHIR makes ``Coding.display`` optional; XDS requires a name on every coded attribute (ITI TF-3 4.2.3.1.2,
registry rule XDS-REQ-02).  As for derived PHMR metadata (``xds.phmr.code_displays``), a display comes only
from a source that already names the code, never invented: the metadata the hub derived from the document
itself (the same code in any coded attribute), then the Danish XDS value sets and the profile's facility /
practice-setting examples.  A code no source names keeps no display, and the registry rule reports it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from xds.danish_valuesets import known_display
from xds.model import Code, DocumentEntry, InternationalString

_SINGLE = ("class_code", "type_code", "format_code", "healthcare_facility_type_code", "practice_setting_code")
_LISTS = ("confidentiality_codes", "event_codes")


def _codes(entry: DocumentEntry) -> list[Code]:
    single = (getattr(entry, name) for name in _SINGLE)
    return [c for c in single if c is not None] + [c for name in _LISTS for c in getattr(entry, name)]


def _named(code: Code, names: dict[tuple[str, str], str]) -> Code:
    if code.display_text or code.scheme is None:
        return code
    name = names.get((code.scheme, code.code)) or known_display(code.scheme, code.code)
    return dataclasses.replace(code, display=InternationalString.of(name)) if name else code


def with_displays(entry: DocumentEntry, derived: DocumentEntry | None) -> DocumentEntry:
    """``entry`` with missing display names filled in from the sources in the module docstring."""
    names: dict[tuple[str, str], str] = {}
    for code in _codes(derived) if derived is not None else []:
        if code.display_text and code.scheme is not None:
            names[(code.scheme, code.code)] = code.display_text
    changes: dict[str, Any] = {}
    for name in _SINGLE:
        code = getattr(entry, name)
        if code is not None and not code.display_text:
            changes[name] = _named(code, names)
    for name in _LISTS:
        codes = getattr(entry, name)
        if any(not c.display_text for c in codes):
            changes[name] = tuple(_named(c, names) for c in codes)
    return dataclasses.replace(entry, **changes) if changes else entry


__all__ = ["with_displays"]
