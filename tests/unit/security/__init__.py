"""Tests of the security package (issue 6)."""
