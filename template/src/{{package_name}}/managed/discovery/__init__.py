# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Watch-fed discovery: the instance cache and Consul's blocking-query rules."""
