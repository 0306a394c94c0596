"""Helpers shared by the template's tests and its demo (run from the repo root)."""
