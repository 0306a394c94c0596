# Managed by the ONEX node template: `copier update` replaces this file.
"""Process runtime of the node: settings, Consul registration, health endpoint."""
