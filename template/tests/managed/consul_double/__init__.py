# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The parts of the Consul agent double (tests/managed/consul_agent_double.py)."""
