"""Conformance test suites telehub runs against itself or any hub: HL7 validator cases, FHIRPath, and the NIST
XDS toolkit testkit (``nist_xds``, with its SOAP client ``xds_client``)."""

from conformance.suites.hl7_validator import SUITE, Hl7ValidatorSuite, load_expectation
from conformance.suites.nist_xds import NistOptions, arun_nist, failures, group_table, run_nist
from conformance.suites.xds_client import SoapReply, XdsClient

__all__ = [
    "SUITE",
    "Hl7ValidatorSuite",
    "NistOptions",
    "SoapReply",
    "XdsClient",
    "arun_nist",
    "failures",
    "group_table",
    "load_expectation",
    "run_nist",
]
