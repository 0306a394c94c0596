# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Discovery backends whose class names onex allows only under handlers/."""
