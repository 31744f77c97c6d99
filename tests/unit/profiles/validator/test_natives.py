"""Native forms of core invariants give fhirpathpy's answer (or None: "ask FHIRPath") on varied data."""

from __future__ import annotations

from typing import Any

import pytest

from profiles import FhirPathEngine
from profiles.validator.natives import NATIVES, bdl_7


def _entry(full_url: str | None, resource_type: str = "Patient", **parts: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"resource": {"resourceType": resource_type, "id": "x"}, **parts}
    if full_url is not None:
        entry["fullUrl"] = full_url
    return entry


def _bundle(kind: str | None, *entries: dict[str, Any]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle"}
    if kind is not None:
        bundle["type"] = kind
    if entries:
        bundle["entry"] = list(entries)
    return bundle


REQUEST = {"method": "POST", "url": "Patient"}
RESPONSE = {"status": "201"}
VERSIONED = {"resourceType": "Patient", "meta": {"versionId": "2"}}
BUNDLES = [
    _bundle(kind, *entries)
    for kind in (None, "transaction", "batch", "history", "searchset", "document", "message", "collection")
    for entries in (
        (),
        (_entry("urn:uuid:1", request=REQUEST), _entry("urn:uuid:2", request=REQUEST)),
        (_entry("urn:uuid:1", response=RESPONSE),),
        (_entry("urn:uuid:1", search={"mode": "match"}), _entry(None)),
        (_entry("http://t/Patient/1"), _entry("http://t/Patient/1")),
        (_entry("http://t/Patient/1"), {"fullUrl": "http://t/Patient/1", "resource": VERSIONED}),
        (_entry("urn:uuid:1", "Composition"), _entry("urn:uuid:2")),
        (_entry("urn:uuid:1", "MessageHeader"),),
        ({"fullUrl": "urn:uuid:1"},),
    )
]
BUNDLE_KEYS = {"bdl-2", "bdl-3", "bdl-4", "bdl-7", "bdl-11", "bdl-12"}


@pytest.mark.parametrize("bundle", BUNDLES, ids=range(len(BUNDLES)))
def test_bundle_natives_agree_with_fhirpath(bundle: dict[str, Any]) -> None:
    engine = FhirPathEngine()
    checked = 0
    for (key, expression), native in NATIVES.items():
        if key not in BUNDLE_KEYS:
            continue
        answer = native(bundle, bundle, bundle)
        expected = engine.is_true(
            engine.compile(expression),
            bundle,
            base_type="Bundle",
            resource=bundle,
            root_resource=bundle,
            slow=True,
        )
        assert answer is None or answer == expected, key
        checked += 1
    assert checked == len(BUNDLE_KEYS)


def test_unusual_bundles_are_left_to_fhirpath() -> None:
    odd = [_bundle("collection", "not an entry"), {"resourceType": "Bundle", "type": 3}, {"_type": {}}]  # type: ignore[arg-type]
    for bundle in odd:
        for (key, _), native in NATIVES.items():
            if key in BUNDLE_KEYS:
                assert native(bundle, bundle, bundle) is None, key
    dated = _bundle("collection", _entry("2024-01-01"), _entry("2024-01-01"))
    assert bdl_7(dated, dated, dated) is None
