# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The node's HTTP surface: health, invoke, OpenAPI document and metrics."""
