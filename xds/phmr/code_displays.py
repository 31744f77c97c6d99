"""Display names for the codes of a derived DocumentEntry, where the header leaves them out.

ITI TF-3 4.2.3.1.2 (and the registry rule XDS-REQ-02) require every coded attribute to carry a display name
(``Name``).  A PHMR may give a ``documentationOf/serviceEvent/code`` without ``displayName`` (PHMR-DK does
not require one), and configured facility-type / practice-setting codes are bare SNOMED CT codes.  Displays
come only from sources that already name the code - never invented:

* an event code: the ``displayName`` the same document gives that code on a measurement (PHMR body);
* facility type / practice setting: the examples of the Danish XDS metadata profile
  (``xds.danish_valuesets``, DANISH-STANDARDS.md §2.3).

A code that no source names keeps no display, and the registry rules report it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from profiles.cda import PhmrContent
from xds.danish_valuesets import FACILITY_TYPE_EXAMPLES, PRACTICE_SETTING_EXAMPLES, DanishOid
from xds.model import Code, DocumentEntry, InternationalString

_SNOMED = DanishOid.SNOMED_CT.value


def _named(code: Code | None, names: Mapping[tuple[str, str | None], str]) -> Code | None:
    if code is None or code.display_text:
        return code
    name = names.get((code.code, code.scheme))
    return dataclasses.replace(code, display=InternationalString.of(name)) if name else code


def _body_names(content: PhmrContent | None) -> dict[tuple[str, str | None], str]:
    names: dict[tuple[str, str | None], str] = {}
    for measurement in content.measurements if content is not None else ():
        for coded in measurement.codes:
            if coded.display:
                names.setdefault((coded.code, coded.system), coded.display)
    return names


def _examples(examples: Mapping[str, str]) -> dict[tuple[str, str | None], str]:
    return {(code, _SNOMED): display for code, display in examples.items()}


def with_displays(entry: DocumentEntry, content: PhmrContent | None) -> DocumentEntry:
    """``entry`` with missing display names filled in from the sources in the module docstring."""
    body = _body_names(content)
    events: Iterable[Code] = (_named(c, body) or c for c in entry.event_codes)
    return dataclasses.replace(
        entry,
        event_codes=tuple(events),
        healthcare_facility_type_code=_named(
            entry.healthcare_facility_type_code, _examples(FACILITY_TYPE_EXAMPLES)
        ),
        practice_setting_code=_named(entry.practice_setting_code, _examples(PRACTICE_SETTING_EXAMPLES)),
    )


__all__ = ["with_displays"]
