# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How the node calls other nodes: time budgets, attempts, outlier ejection."""

from pydantic import BaseModel, ConfigDict, Field

from ..values.consul_types import DurationSeconds
from ..values.whole_numbers import AttemptCount, FailureCount


class ModelCallSettings(BaseModel):
    """Contract `config.calls`: what `context.call` does when a caller says nothing.

    Every call gets `timeout` unless it names its own, and never more than
    what is left of the request being handled (its X-Request-Timeout-Ms).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The whole call, every attempt included.
    timeout: DurationSeconds = Field(default=10.0, gt=0)
    # One TCP (and TLS) connect; past it the attempt moves to another instance.
    connect_timeout: DurationSeconds = Field(default=1.0, gt=0)
    # Attempts of one call, each on another instance.
    max_attempts: AttemptCount = 3
    # Consecutive failures after which an instance is skipped (0: never).
    eject_after_failures: FailureCount = 5
    # How long an ejected instance is skipped before one request tries it.
    ejection_cool_down: DurationSeconds = Field(default=30.0, gt=0)
