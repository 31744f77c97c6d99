"""The NIST testkit runner: ebRIM 2.1 -> 3.0, testplan reading, metadata preparation, grading, and real runs
of testkit tests through an in-process hub's SOAP doors (skipped without ../shared/testdata)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conformance.report import CaseStatus, SuiteReport
from conformance.suites.ebrim21 import RIM30, to_v30
from conformance.suites.nist_checks import contents_problems, status_problems
from conformance.suites.nist_metadata import RUNNER_SOURCE_ID, prepare_submission, substitute, xpath_value
from conformance.suites.nist_plan import Transaction, read_testplan, sections
from conformance.suites.nist_xds import NistOptions, arun_nist, failures, group_of, group_table
from conformance.suites.xds_client import read_reply
from hub.cli.xds import in_process_hub
from hub.core.xml_safety import parse_xml
from tests.conftest import testdata_path

V21 = b"""<rs:SubmitObjectsRequest xmlns:rs="urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1">
 <rim:LeafRegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1">
  <rim:ExtrinsicObject id="Document01" mimeType="text/plain"
      objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
   <rim:Name><rim:LocalizedString value="x"/></rim:Name>
   <rim:Slot name="creationTime"><rim:ValueList><rim:Value>2005</rim:Value></rim:ValueList></rim:Slot>
   <rim:ExternalIdentifier value="OLD" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"/>
   <rim:ExternalIdentifier value="Document01"
      identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"/>
  </rim:ExtrinsicObject>
  <rim:RegistryPackage id="SubmissionSet01">
   <rim:ExternalIdentifier value="129.6.58.92.1.1"
      identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"/>
  </rim:RegistryPackage>
  <rim:Association associationType="HasMember" sourceObject="SubmissionSet01" targetObject="Document01"/>
 </rim:LeafRegistryObjectList>
</rs:SubmitObjectsRequest>"""


def test_ebrim21_conversion() -> None:
    converted = to_v30(parse_xml(V21))
    assert converted.tag == "{urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest"
    assert converted[0].tag == f"{{{RIM30}}}RegistryObjectList"
    extrinsic = converted[0][0]
    assert [etree.QName(c).localname for c in extrinsic] == [
        "Slot",
        "Name",
        "ExternalIdentifier",
        "ExternalIdentifier",
    ]
    assert extrinsic[2].get("registryObject") == "Document01"
    association = converted[0][2]
    assert association.get("associationType") == "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    assert association.get("id") == "ID_Association_1"
    already = to_v30(converted)
    assert already is converted


def test_prepare_submission_assigns_and_remembers() -> None:
    prepared = prepare_submission(
        parse_xml(V21), patient="0101010101^^^&1.2.208.176.1.2&ISO", assign_uuids=True, no_assign_uids=None
    )
    assert prepared.patients == {"Document01": "0101010101^^^&1.2.208.176.1.2&ISO"}
    assert prepared.uids["Document01"].startswith("2.25.")
    assert set(prepared.uuids) == {"Document01", "SubmissionSet01", "ID_Association_1"}
    association = prepared.element[0][2]
    assert association.get("sourceObject") == prepared.uuids["SubmissionSet01"]
    assert prepared.replaced_source_ids == ["129.6.58.92.1.1"]
    assert RUNNER_SOURCE_ID.encode() in etree.tostring(prepared.element)
    kept = prepare_submission(
        parse_xml(V21), patient=None, assign_uuids=False, no_assign_uids=frozenset({"Document01"})
    )
    assert (
        kept.uids["Document01"] == "Document01"
        and kept.patients == {"Document01": "OLD"}
        and kept.uuids == {}
    )


def test_substitution_and_xpath() -> None:
    assert substitute("<v>$a$ $ab$</v>", {"$a$": "x&y", "$ab$": "z"}, xml=True) == "<v>x&amp;y z</v>"
    root = parse_xml(b"<r><e id='1'>t</e><e id='2'/></r>")
    assert xpath_value(root, "//*[local-name()='e'][1]/@id") == "1"
    assert xpath_value(root, "//e[1]") == "t"
    assert xpath_value(root, "((") is None and xpath_value(None, "/r") is None


def test_grading() -> None:
    envelope = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        b'<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        b'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" '
        b'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><rim:RegistryObjectList>'
        b'<rim:ObjectRef id="urn:uuid:1"/></rim:RegistryObjectList></query:AdhocQueryResponse>'
        b"</s:Body></s:Envelope>"
    )
    reply = read_reply(200, "application/soap+xml", envelope)
    assert status_problems("Success", (), reply) == []
    assert status_problems("Failure", ("XDSRegistryError",), reply)
    assert contents_problems([("ObjectRefs", {"count": "1"}), ("DocApp", {})], reply) == []
    assert contents_problems([("ObjectRefs", {"count": "2"})], reply) == ["ObjectRefs: 1, expected 2"]


def test_testplan_reading() -> None:
    testkit = testdata_path("xds", "nist-testkit")
    test_dir = testkit / "tests" / "11998"
    order = [s.name for s in sections(test_dir)]
    assert order == ["submit", "rplc", "eval"]
    steps = read_testplan(test_dir / "rplc")
    assert [(s.step_id, s.transaction, s.patient_flag) for s in steps] == [
        ("init_patient_id", Transaction.NONE, "NewPatientId"),
        ("rplc", Transaction.REGISTER, None),
    ]
    assert group_of(test_dir) == ("R.b", "")
    assert group_of(testkit / "tests" / "11710")[0] is None


def run(work: Coroutine[Any, Any, SuiteReport]) -> SuiteReport:
    """Drive the runner on a private loop (``asyncio.run`` would reset the thread's current loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()


def test_runs_testkit_tests_through_the_doors() -> None:
    testkit = testdata_path("xds", "nist-testkit")
    report = run(
        arun_nist(testkit, options=NistOptions(tests=("11966", "11998", "12029")), hub=in_process_hub)
    )
    by_name = {r.name: r for r in report.results}
    assert by_name["11966/submit/submit"].status is CaseStatus.PASS
    assert by_name["11998/rplc/rplc"].status is CaseStatus.PASS  # expected Failure: patient mismatch
    assert by_name["11998/rplc/init_patient_id"].status is CaseStatus.SKIP
    # the testkit submits readme.txt but compares the retrieval with my_document.pdf
    assert by_name["12029/retrieve/retrieve"].status is CaseStatus.FAIL
    assert failures(report) == [
        f"12029/retrieve/retrieve [Ret.b]: {by_name['12029/retrieve/retrieve'].reason}"
    ]
    table = group_table(report)
    assert "| PR.b | 2 | 2 | 2 | 100.0 % |" in table and "| **all** |" in table


def test_in_process_requires_a_hub_factory(tmp_path: Path) -> None:
    from hub.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        run(arun_nist(tmp_path))
