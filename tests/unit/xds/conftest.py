"""Fixtures for the XDS tests: a hand-written Danish PHMR submission (``golden/dk_phmr_submission.xml``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xds.ebrim_parse import parse_submit_objects_request
from xds.model import SubmitObjectsRequest

GOLDEN = Path(__file__).parent / "golden"
REPOSITORY_ID = "1.2.208.176.43210.8.10.1"


@pytest.fixture
def dk_submission_bytes() -> bytes:
    return (GOLDEN / "dk_phmr_submission.xml").read_bytes()


@pytest.fixture
def dk_request(dk_submission_bytes: bytes) -> SubmitObjectsRequest:
    return parse_submit_objects_request(dk_submission_bytes)
