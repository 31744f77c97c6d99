"""Search forms of an XDS referenceIdList value, for MHD's ``related:identifier`` (ITI-67).

A referenceId is a CXi, ``id^^^&authority-oid&ISO^type[^assigning facility]`` (ITI TF-3 4.2.3.2,
referenceIdList); FHIR renders it as ``DocumentReference.context.related.identifier`` with ``system`` = the
authority OID as ``urn:oid:…`` and ``value`` = CX.1. ITI-18's FindDocumentsByReferenceId compares whole CXi
strings; a FHIR identifier carries neither the type nor the facility, so MHD's search compares CX.1 and
CX.4.2 alone. They are stored beside the CXi as written (HL7 escapes such as ``\\S\\`` kept verbatim, as XDS
compares values).
"""

from __future__ import annotations


def reference_key(value: str) -> tuple[str | None, str | None]:
    """(CX.1, the CX.4 universal id) of a CXi; None where the value has none."""
    parts = value.split("^")
    authority = parts[3].split("&") if len(parts) > 3 else []
    universal = authority[1] if len(authority) > 1 else ""
    return parts[0] or None, universal or None


__all__ = ["reference_key"]
