# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Stable Consul service IDs."""

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def stable_service_id(service_name: str, address: str, port: int) -> str:
    """Derive the ID from what identifies this instance, not from a random UUID.

    A restart of the same instance (same address and port) re-registers under
    the same ID and so replaces its old entry instead of leaving an orphan;
    two instances on one host differ by port.
    """
    return f"{service_name}-{_UNSAFE.sub('-', address)}-{port}"
