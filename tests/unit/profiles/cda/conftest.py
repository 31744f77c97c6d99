"""Fixtures for the CDA tests: the generated PHMR and pack folders installed from ../shared/testdata."""

from __future__ import annotations

from pathlib import Path

import pytest

from profiles.cda import DocumentFamily, install_pack
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import build_phmr


@pytest.fixture(scope="session")
def phmr() -> bytes:
    """A valid 20-measurement PHMR-DK 1.3 document."""
    return build_phmr(20)


@pytest.fixture(scope="session")
def cda_packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packs folder with the CDA R2 schemas of ../shared/testdata installed."""
    packs = tmp_path_factory.mktemp("packs-xsd")
    install_pack("cda-r2", testdata_path("cda", "schemas"), packs)
    return packs


@pytest.fixture(scope="session")
def medcom_schematron() -> Path:
    return testdata_path("dk", "medcom-cda", "main", "resources", "schematrons", "conf-phmr-dk.sch.xml")


@pytest.fixture(scope="session")
def full_packs(tmp_path_factory: pytest.TempPathFactory, medcom_schematron: Path) -> Path:
    """CDA R2 schemas plus MedCom's conf-phmr-dk schematron (for PHMR documents)."""
    packs = tmp_path_factory.mktemp("packs-full")
    install_pack("cda-r2", testdata_path("cda", "schemas"), packs)
    install_pack("schematron", medcom_schematron, packs, "medcom-phmr", applies_to=(DocumentFamily.PHMR,))
    return packs
