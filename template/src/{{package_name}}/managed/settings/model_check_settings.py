# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How Consul checks the node's health."""

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..values.durations import parse_go_duration
from .enum_check_mode import EnumCheckMode

# Consul refuses to reap a critical service sooner than this.
_CONSUL_MIN_DEREGISTER_S = 60.0


class ModelCheckSettings(BaseModel):
    """Mode, interval, timeout and reaping of the node's Consul check.

    In ttl mode the interval is the TTL: the node reports well within it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: EnumCheckMode = EnumCheckMode.HTTP
    interval: str = "10s"
    timeout: str = "5s"
    deregister_critical_after: str = "1m"

    @field_validator("interval", "timeout", "deregister_critical_after")
    @classmethod
    def _is_positive_duration(cls, value: str) -> str:
        if parse_go_duration(value) <= 0:
            raise ValueError(f"duration {value!r} must be greater than zero")
        return value

    @model_validator(mode="after")
    def _fits_consul_rules(self) -> "ModelCheckSettings":
        if self.timeout_s >= self.interval_s:
            raise ValueError(
                f"check timeout {self.timeout!r} must be below the check "
                f"interval {self.interval!r}"
            )
        if self.deregister_critical_after_s < _CONSUL_MIN_DEREGISTER_S:
            raise ValueError(
                f"deregister_critical_after {self.deregister_critical_after!r} "
                "is below Consul's minimum of 1m"
            )
        return self

    @property
    def interval_s(self) -> float:
        return parse_go_duration(self.interval)

    @property
    def timeout_s(self) -> float:
        return parse_go_duration(self.timeout)

    @property
    def deregister_critical_after_s(self) -> float:
        return parse_go_duration(self.deregister_critical_after)
