"""Lossless JSON -> XML -> JSON on every official R4 example, and agreement with the official XML."""

from __future__ import annotations

import decimal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hub.core.errors import HubError
from profiles.fhir_xml import FhirXmlCodec, LexicalDecimal, load_json
from tests.conftest import testdata_path as data_path

pytestmark = pytest.mark.needs_testdata

# fhirpath/input XML files that are official examples unchanged (observation-example.xml has an
# extension moved out of order on purpose by the FHIRPath suite).
_OFFICIAL_XML = {
    "patient-example.xml": "Patient-example.json",
    "questionnaire-example.xml": "Questionnaire-3141.json",
}


def comparable(value: Any, key: str | None = None) -> Any:
    """Numbers by their lexical form (``1.50`` != ``1.5``); XHTML by canonical XML."""
    if isinstance(value, dict):
        return {k: comparable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | decimal.Decimal):
        return ("number", str(value))
    if key == "div" and isinstance(value, str):
        return etree.tostring(etree.fromstring(value.encode()), method="c14n")
    return value


def example_files() -> list[Path]:
    folder = data_path("fhir", "examples")
    return sorted(p for p in folder.glob("*.json") if p.name != "package.json")


def test_every_official_example_round_trips_losslessly(codec: FhirXmlCodec) -> None:
    files = example_files()
    assert len(files) == 712
    failures: list[str] = []
    for path in files:
        original = load_json(path.read_bytes())
        try:
            back = codec.parse(codec.serialise(original))
        except HubError as exc:
            failures.append(f"{path.name}: {[i.diagnostics for i in exc.issues[:3]]}")
            continue
        if comparable(back) != comparable(original):
            failures.append(f"{path.name}: differs after the round trip")
    assert failures == []


def test_decimals_keep_their_digits_through_xml(codec: FhirXmlCodec) -> None:
    found: list[str] = []
    for path in example_files():
        text = path.read_text(encoding="utf-8")
        if '"value": 0.' not in text and ".0," not in text:
            continue
        original = load_json(text)
        back = codec.parse(codec.serialise(original))
        before = Counter(str(d) for d in _decimals(original))
        after = Counter(str(d) for d in _decimals(back))
        assert before - after == Counter()  # integers in decimal fields come back as decimals too
        found.extend(str(d) for d in _decimals(back) if isinstance(d, LexicalDecimal))
    # the examples contain trailing-zero decimals such as 0.10 or 37.0; they survive verbatim
    assert any(s.endswith("0") and "." in s for s in found)


def _decimals(value: Any) -> list[decimal.Decimal]:
    if isinstance(value, dict):
        return [d for v in value.values() for d in _decimals(v)]
    if isinstance(value, list):
        return [d for v in value for d in _decimals(v)]
    return [value] if isinstance(value, decimal.Decimal) else []


def _canonical_tree(data: bytes) -> bytes:
    """Official XML and ours, compared without comments and formatting whitespace."""
    root = etree.fromstring(data)
    etree.strip_tags(root, etree.Comment)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        in_fhir = element.tag.startswith("{http://hl7.org/fhir}")
        if in_fhir and element.text is not None and not element.text.strip():
            element.text = None
        parent = element.getparent()
        in_fhir_parent = parent is not None and parent.tag.startswith("{http://hl7.org/fhir}")
        if in_fhir_parent and element.tail is not None and not element.tail.strip():
            element.tail = None
    etree.cleanup_namespaces(root)
    return etree.tostring(root, method="c14n")


@pytest.mark.parametrize(("xml_name", "json_name"), sorted(_OFFICIAL_XML.items()))
def test_official_xml_matches_the_official_json(codec: FhirXmlCodec, xml_name: str, json_name: str) -> None:
    xml_bytes = data_path("fhir", "fhirpath", "input", xml_name).read_bytes()
    json_value = load_json(data_path("fhir", "examples", json_name).read_bytes())
    read = codec.read(xml_bytes)
    assert read.issues == ()
    assert comparable(read.resource) == comparable(json_value)
    assert _canonical_tree(codec.serialise(json_value)) == _canonical_tree(xml_bytes)


def test_fhirpath_suite_inputs_read_and_report_order_problems(codec: FhirXmlCodec) -> None:
    folder = data_path("fhir", "fhirpath", "input")
    results = {p.name: codec.read(p.read_bytes()) for p in sorted(folder.glob("*.xml"))}
    assert len(results) >= 7
    assert all(r.resource is not None for r in results.values())
    order_issues = [i for i in results["observation-example.xml"].issues if i.message_id == "FHIR_XML_ORDER"]
    assert len(order_issues) == 1 and order_issues[0].line is not None
    assert all(r.ok for name, r in results.items() if name != "observation-example.xml")


def test_validator_suite_xml_never_crashes(codec: FhirXmlCodec) -> None:
    folder = data_path("fhir", "validator")
    files = sorted(folder.rglob("*.xml"))
    assert len(files) > 100
    outcomes = {"read": 0, "issues": 0, "refused": 0}
    for path in files:
        try:
            result = codec.read(path.read_bytes())
        except HubError as exc:
            # refused as a whole (malformed, wrong encoding): a clean error with an issue, not a crash
            assert exc.issues
            outcomes["refused"] += 1
            continue
        outcomes["read" if result.ok else "issues"] += 1
    assert outcomes["read"] > 0.9 * len(files)
    assert outcomes["issues"] > 0  # some cases are broken on purpose and must be reported
