# Yours to edit: the ONEX node template generated this file once.
"""Fixtures of your tests; the template's own live in tests/managed/conftest.py."""
