# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How the node finds the services it calls."""

from pydantic import BaseModel, ConfigDict, Field

from ..values.consul_types import ConsulServiceName, DurationSeconds
from .enum_balancing import EnumBalancing


class ModelDiscoverySettings(BaseModel):
    """Contract `config.discovery`: dependencies watched from start-up, balancing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Services watched as soon as the node starts (others on first lookup).
    dependencies: tuple[ConsulServiceName, ...] = ()
    # Default strategy; every lookup may choose another.
    balancing: EnumBalancing = EnumBalancing.ROUND_ROBIN
    # `wait` of every blocking query the node sends: each discovery watch and
    # the watch on its own registration (one setting: an idle node's requests
    # to its agent are one per watch per wait). Consul's default is 5m, its
    # cap 10m; it answers up to wait/16 later (jitter), which the node's
    # request timeouts allow for.
    watch_wait: DurationSeconds = Field(default=300.0, le=600.0)
    # Bytes of one Consul answer the node reads at most (about 40,000 watched
    # instances); a larger one is refused and the last healthy set kept.
    max_answer_size: int = Field(default=32 * 1024 * 1024, ge=64 * 1024)
