# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Who puts the node's service into Consul."""

from enum import StrEnum


class EnumRegistrationMode(StrEnum):
    # The node registers itself through its local agent's HTTP API and
    # deregisters at shutdown: VMs and dev boxes with a client agent.
    SELF = "self"
    # The platform or the agent registers it (a service definition in the
    # agent's config directory, Nomad's service block, consul-k8s); the node
    # never registers or deregisters, and only reads Consul to discover.
    EXTERNAL = "external"
