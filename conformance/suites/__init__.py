"""Conformance test suites telehub runs against itself or any hub: HL7 validator cases, FHIRPath."""

from conformance.suites.hl7_validator import SUITE, Hl7ValidatorSuite, load_expectation

__all__ = ["SUITE", "Hl7ValidatorSuite", "load_expectation"]
