# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The node's Prometheus registry and the template's own metrics in it."""
