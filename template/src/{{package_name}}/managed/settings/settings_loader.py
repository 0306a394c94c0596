# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Resolve the node's settings: contract `config:` block, then the environment.

Every error names where the bad value came from (an environment variable or
a key of the contract's `config:` block) and the rule it broke, so a start-up
failure can be fixed without reading this code.
"""

from collections.abc import Callable, Mapping
from typing import Any

from omnibase_core.enums.enum_log_level import EnumLogLevel
from pydantic import BaseModel, ValidationError

from ..errors import ConfigurationError
from ..logs.log_events import log_event
from ..values.address_detection import detect_advertise_address
from ..values.durations import parse_go_duration
from ..values.go_bool import parse_go_bool
from ..values.service_meta import parse_meta_pairs
from .consul_address import parse_http_addr
from .consul_environment import (
    CONSUL_ENVIRONMENT_VARIABLES,
    CONSUL_VARIABLES,
    consul_overrides,
)
from .enum_check_mode import EnumCheckMode
from .enum_registration_mode import EnumRegistrationMode
from .model_call_settings import ModelCallSettings
from .model_check_settings import ModelCheckSettings
from .model_consul_settings import ModelConsulSettings
from .model_discovery_settings import ModelDiscoverySettings
from .model_node_settings import ModelNodeSettings


def _as_text(variable: str, value: str) -> str:
    return value


def _comma_list(variable: str, value: str) -> list[str]:
    items = (item.strip() for item in value.split(","))
    return [item for item in items if item]


# Node-side overrides, one prefix for all of them: the setting each one sets,
# and how its text becomes the setting's value (the models validate it).
_NODE_VARIABLES: dict[str, tuple[str, str, Callable[[str, str], object]]] = {
    "ONEX_NODE_PORT": ("service", "port", _as_text),
    "ONEX_NODE_BIND_HOST": ("service", "bind_host", _as_text),
    "ONEX_NODE_ADVERTISE_ADDRESS": ("service", "advertise_address", _as_text),
    "ONEX_NODE_SERVICE_ID": ("service", "service_id", _as_text),
    "ONEX_NODE_HEALTH_PATH": ("service", "health_path", _as_text),
    "ONEX_NODE_INVOKE_PATH": ("service", "invoke_path", _as_text),
    "ONEX_NODE_METRICS_PATH": ("service", "metrics_path", _as_text),
    "ONEX_NODE_MAX_REQUEST_BYTES": ("service", "max_request_bytes", _as_text),
    "ONEX_NODE_MAX_IN_FLIGHT": ("service", "max_in_flight", _as_text),
    "ONEX_NODE_DRAIN_TIMEOUT": ("service", "drain_timeout", _as_text),
    "ONEX_NODE_OPERATION_TIMEOUT_MS": ("service", "operation_timeout_ms", _as_text),
    "ONEX_NODE_TAGS": ("service", "tags", _comma_list),
    "ONEX_NODE_META": ("service", "meta", parse_meta_pairs),
    "ONEX_NODE_CHECK_MODE": ("check", "mode", _as_text),
    "ONEX_NODE_CHECK_INTERVAL": ("check", "interval", _as_text),
    "ONEX_NODE_CHECK_TIMEOUT": ("check", "timeout", _as_text),
    "ONEX_NODE_DEREGISTER_CRITICAL_AFTER": (
        "check",
        "deregister_critical_after",
        _as_text,
    ),
    "ONEX_NODE_CONSUL_ENABLED": ("consul", "enabled", parse_go_bool),
    "ONEX_NODE_CONSUL_REQUIRED": ("consul", "required", parse_go_bool),
    "ONEX_NODE_CONSUL_REGISTRATION": ("consul", "registration", _as_text),
    "ONEX_NODE_CONSUL_REQUEST_TIMEOUT": ("consul", "request_timeout", _as_text),
    "ONEX_NODE_CONSUL_REGISTER_WAIT": ("consul", "register_wait", _as_text),
    "ONEX_NODE_CONSUL_DEREGISTER_TIMEOUT": ("consul", "deregister_timeout", _as_text),
    "ONEX_NODE_CONSUL_RETRY_CAP": ("consul", "retry_cap", _as_text),
    "ONEX_NODE_CONSUL_DATACENTER": ("consul", "datacenter", _as_text),
    "ONEX_NODE_DISCOVERY_DEPENDENCIES": ("discovery", "dependencies", _comma_list),
    "ONEX_NODE_DISCOVERY_BALANCING": ("discovery", "balancing", _as_text),
    "ONEX_NODE_DISCOVERY_WATCH_WAIT": ("discovery", "watch_wait", _as_text),
    "ONEX_NODE_CALL_TIMEOUT": ("calls", "timeout", _as_text),
    "ONEX_NODE_CALL_CONNECT_TIMEOUT": ("calls", "connect_timeout", _as_text),
    "ONEX_NODE_CALL_MAX_ATTEMPTS": ("calls", "max_attempts", _as_text),
    "ONEX_NODE_CALL_EJECT_AFTER_FAILURES": ("calls", "eject_after_failures", _as_text),
    "ONEX_NODE_CALL_EJECTION_COOL_DOWN": ("calls", "ejection_cool_down", _as_text),
    "ONEX_NODE_LOG_LEVEL": ("service", "log_level", _as_text),
}
# The one list of every environment variable the node reads; docs/operations.md
# documents each (a test over a render compares the three).
ENVIRONMENT_VARIABLES = (*_NODE_VARIABLES, *CONSUL_ENVIRONMENT_VARIABLES)
# Consul raises shorter HTTP/TCP check intervals to this.
_CONSUL_MIN_INTERVAL_S = 1.0
# Contract keys of the `service` section that are not ModelNodeSettings fields.
_SERVICE_KEY_TO_FIELD = {"name": "service_name"}
_SECTIONS = ("service", "check", "consul", "discovery", "calls")


def load_node_settings(
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    node_class: str,
    *,
    descriptor: Mapping[str, Any] | None = None,
) -> ModelNodeSettings:
    """Build validated settings; raise ConfigurationError naming the culprit.

    `descriptor` is the contract's `descriptor:` block; its `timeout_ms` is
    the operation's time budget (ONEX_NODE_OPERATION_TIMEOUT_MS overrides it)
    and `idempotent` tells callers whether a failed attempt may be repeated.
    """
    unknown = sorted(set(config) - set(_SECTIONS))
    if unknown:
        raise ConfigurationError(
            f"contract config: unknown section(s) {unknown}; "
            f"expected {', '.join(_SECTIONS)}"
        )
    sections, sources = _merge_sources(config, environ)
    overridden = ("service", "operation_timeout_ms") in sources
    if descriptor and "timeout_ms" in descriptor and not overridden:
        sections["service"]["operation_timeout_ms"] = descriptor["timeout_ms"]
        sources[("service", "operation_timeout_ms")] = "contract descriptor.timeout_ms"
    if descriptor and "idempotent" in descriptor:
        sections["service"]["idempotent"] = descriptor["idempotent"]
        sources[("service", "idempotent")] = "contract descriptor.idempotent"
    _raise_short_interval(sections["check"], sources)
    check = _validated(ModelCheckSettings, sections["check"], "check", sources)
    consul = _validated(ModelConsulSettings, sections["consul"], "consul", sources)
    _raise_ttl_when_external(check, consul, sources)
    discovery = _validated(
        ModelDiscoverySettings, sections["discovery"], "discovery", sources
    )
    calls = _validated(ModelCallSettings, sections["calls"], "calls", sources)
    service = sections["service"]
    bind_host = str(service.pop("bind_host", "0.0.0.0"))
    advertise = str(service.pop("advertise_address", "") or "")
    advertise = advertise or detect_advertise_address(bind_host)
    fields: dict[str, Any] = {
        _SERVICE_KEY_TO_FIELD.get(key, key): value for key, value in service.items()
    }
    fields.update(
        bind_host=bind_host,
        advertise_address=advertise,
        node_class=node_class,
        check=check,
        consul=consul,
        discovery=discovery,
        calls=calls,
        tags=_tags(fields),
    )
    return _validated(ModelNodeSettings, fields, "service", sources)


def _merge_sources(
    config: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
    """Overlay the environment on the contract, remembering where each value came from."""
    sections: dict[str, dict[str, Any]] = {}
    sources: dict[tuple[str, str], str] = {}
    for section in _SECTIONS:
        raw = config.get(section) or {}
        if not isinstance(raw, Mapping):
            raise ConfigurationError(f"contract config.{section} must be a mapping")
        sections[section] = dict(raw)
        for key in raw:
            sources[(section, key)] = f"contract config.{section}.{key}"
    secrets = sorted({"token", "http_auth"} & set(sections["consul"]))
    if secrets:
        # The contract is committed with the code; a secret there is leaked.
        raise ConfigurationError(
            f"contract config.consul.{secrets[0]}: secrets must not be in the "
            "contract; set CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE or "
            "CONSUL_HTTP_AUTH"
        )
    address = sections["consul"].pop("address", None)
    if address:
        source = "contract config.consul.address"
        for key, value in parse_http_addr(str(address), source).items():
            sections["consul"][key] = value
            sources[("consul", key)] = source
    for variable, (section, key, parse) in _NODE_VARIABLES.items():
        if variable in environ:
            sections[section][key] = parse(variable, environ[variable])
            sources[(section, key)] = variable
    for key, value in consul_overrides(environ).items():
        sections["consul"][key] = value
        sources[("consul", key)] = CONSUL_VARIABLES[key]
    return sections, sources


def _raise_short_interval(
    check: dict[str, Any], sources: Mapping[tuple[str, str], str]
) -> None:
    """Raise a check interval below Consul's 1s minimum to 1s, with one warning.

    Consul does the same (it would poll 605 times a second otherwise); doing
    it here keeps the node's TTL reports and docs in step with the agent.
    """
    value = check.get("interval")
    try:
        seconds = parse_go_duration(str(value))
    except ValueError:
        return  # the model reports it, naming its source
    if 0 < seconds < _CONSUL_MIN_INTERVAL_S:
        source = sources[("check", "interval")]
        log_event(
            EnumLogLevel.WARNING,
            "node.check_interval_raised",
            f"{source}={value!r} is below Consul's minimum check interval of "
            "1s; using 1s, as Consul does",
        )
        check["interval"] = "1s"


def _raise_ttl_when_external(
    check: ModelCheckSettings,
    consul: ModelConsulSettings,
    sources: Mapping[tuple[str, str], str],
) -> None:
    """A TTL check only passes while the node reports it, through the agent
    API it registered with; a platform's registration has nobody to report."""
    if (
        consul.registration is EnumRegistrationMode.EXTERNAL
        and check.mode is EnumCheckMode.TTL
    ):
        mode = sources.get(
            ("consul", "registration"), "contract config.consul.registration"
        )
        check_mode = sources.get(("check", "mode"), "contract config.check.mode")
        raise ConfigurationError(
            f"{mode}='external' cannot go with {check_mode}='ttl': in external "
            "mode the platform registers the check and the node never reports "
            "a TTL, so it would turn critical; use check mode http or tcp"
        )


def _tags(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """Tags every ONEX node carries, then the owner's extra tags, without repeats."""
    extra = fields.get("tags") or []
    if not isinstance(extra, list | tuple):
        raise ConfigurationError("contract config.service.tags must be a list")
    base = ["onex", str(fields.get("node_type", "")), str(fields.get("domain", ""))]
    return tuple(dict.fromkeys(tag for tag in [*base, *map(str, extra)] if tag))


def _validated[ModelT: BaseModel](
    model: type[ModelT],
    values: Mapping[str, Any],
    section: str,
    sources: Mapping[tuple[str, str], str],
) -> ModelT:
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise ConfigurationError(_describe(error, section, sources)) from None


def _describe(
    error: ValidationError, section: str, sources: Mapping[tuple[str, str], str]
) -> str:
    """One line per problem, naming its source; input values are left out (secrets)."""
    field_to_key = {field: key for key, field in _SERVICE_KEY_TO_FIELD.items()}
    problems = []
    for detail in error.errors(include_input=False, include_url=False):
        location = detail["loc"]
        if location:
            key = field_to_key.get(str(location[0]), str(location[0]))
            where = sources.get((section, key), f"contract config.{section}.{key}")
        else:
            where = f"contract config.{section}"
        message = str(detail["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(problems)
