# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Managed by the ONEX node template: every module below is replaced by `copier update`."""
