# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Calls to other nodes: found through discovery, failed over, time-bounded."""
