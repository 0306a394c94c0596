# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The service's one Consul check (HTTP, TCP or TTL) as the agent's API spells it."""

from ..settings.enum_check_mode import EnumCheckMode
from ..settings.model_check_settings import ModelCheckSettings


def check_definition(
    check: ModelCheckSettings, tcp_address: str, http_url: str | None
) -> dict[str, str] | None:
    """The service's one check, in the mode the settings choose."""
    reaping = {"DeregisterCriticalServiceAfter": check.deregister_critical_after}
    if check.mode is EnumCheckMode.TTL:
        # Passing from the start: the node registers once it is initialised,
        # and then reports well within every TTL.
        return {"TTL": check.interval, "Status": "passing", **reaping}
    timing = {"Interval": check.interval, "Timeout": check.timeout}
    if check.mode is EnumCheckMode.TCP:
        return {"TCP": tcp_address, **timing, **reaping}
    if http_url is None:
        return None
    return {"HTTP": http_url, **timing, **reaping}
