"""The ``patient_key`` of a stored resource: the CPR number of the patient it belongs to.

One key across FHIR, XDS (whose patientId is the CPR), consent blocks and the
audit log, so a citizen authenticated by CPR, a negative consent and a document
query all meet on the same column.  Rule:

* a Patient's key is the value of its CPR identifier (system ``urn:oid:1.2.208.176.1.2``);
  a Patient without one is keyed by its logical id;
* a resource in the Patient compartment (hub.fhir.search.compartment) referring to
  ``Patient/<id>`` takes that Patient's key, looked up inside the write transaction (or
  from Patients written in the same transaction); a reference that names the patient only
  by CPR identifier gives that CPR;
* a reference to a Patient the hub does not know is keyed by the referenced id (if that
  Patient is created later with a CPR, its earlier resources keep the id key).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage import patient_keys_txn

if TYPE_CHECKING:
    from hub.fhir.writes import PreparedWrite

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
_REFERENCE_FIELDS = ("subject", "patient")


def _cpr_of(identifiers: Any) -> str | None:
    for ident in identifiers if isinstance(identifiers, list) else [identifiers]:
        if isinstance(ident, dict) and ident.get("system") == CPR_SYSTEM:
            value = ident.get("value")
            if isinstance(value, str) and value.isdigit() and len(value) == 10:
                return value
    return None


def own_key(resource: Mapping[str, Any]) -> str | None:
    """The key a resource carries by itself (a Patient's CPR, or a CPR-identifier reference)."""
    if resource.get("resourceType") == "Patient":
        return _cpr_of(resource.get("identifier"))
    for name in _REFERENCE_FIELDS:
        ref = resource.get(name)
        if isinstance(ref, dict) and "identifier" in ref and "reference" not in ref:
            return _cpr_of(ref["identifier"])
    return None


async def resolve_keys_txn(
    conn: AsyncConnection, prepared: Sequence[PreparedWrite], in_flight: Mapping[str, str] | None = None
) -> list[PreparedWrite]:
    """``prepared`` with every ``patient_ref`` turned into a final ``patient_key``."""
    known = dict(in_flight or {})
    missing = [p.patient_ref for p in prepared if p.patient_ref and p.patient_ref not in known]
    if missing:
        known.update(await patient_keys_txn(conn, missing))
    out = []
    for p in prepared:
        if p.patient_ref is None:
            out.append(p)
        else:
            out.append(replace(p, patient_key=known.get(p.patient_ref, p.patient_ref), patient_ref=None))
    return out


def in_flight_keys(prepared: Sequence[PreparedWrite]) -> dict[str, str]:
    """Patients written in the same transaction: id → key."""
    return {p.resource_id: p.patient_key for p in prepared if p.resource_type == "Patient" and p.patient_key}
