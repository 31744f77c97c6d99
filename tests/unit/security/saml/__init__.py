"""Tests of security.saml."""
