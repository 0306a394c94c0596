# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""A registration validated in Consul's order, with Consul's messages."""

from __future__ import annotations

from collections.abc import (
    Iterable,
    Mapping,
)
from typing import Final

from tests.managed.consul_double.constants import STATUSES
from tests.managed.consul_double.mesh_rules import multierror, service_errors
from tests.managed.consul_double.request_decoding import (
    CheckSpec,
    RegistrationSpec,
    Weights,
)

_META_MAX_PAIRS: Final = 64
_META_KEY_MAX: Final = 128
_META_VALUE_MAX: Final = 512


def _meta_key_ok(key: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "_-") for c in key)


# ValidateServiceMetadata: the one consul- key a mesh gateway may carry.
_MESH_GATEWAY_META: Final = {"mesh-gateway": frozenset({"consul-wan-federation"})}


def _meta_pair_error(key: str, value: str, allowed: frozenset[str]) -> str | None:
    if not key:
        return "Key cannot be blank"
    if not _meta_key_ok(key):
        return "Key contains invalid characters"
    if len(key) > _META_KEY_MAX:
        return f"Key is too long (limit: {_META_KEY_MAX} characters)"
    if key.startswith("consul-") and key not in allowed:
        return "Key prefix 'consul-' is reserved for internal use"
    if len(value.encode()) > _META_VALUE_MAX:
        return f"Value is too long (limit: {_META_VALUE_MAX} characters)"
    return None


def meta_error(meta: Mapping[str, str], kind: str = "") -> str | None:
    """Consul's ValidateServiceMetadata, without the "Invalid Service Meta: " prefix."""
    allowed = _MESH_GATEWAY_META.get(kind, frozenset())
    if len(meta) > _META_MAX_PAIRS:
        return (
            f"Node metadata cannot contain more than {_META_MAX_PAIRS} key/value pairs"
        )
    for key, value in meta.items():
        reason = _meta_pair_error(key, value, allowed)
        if reason:
            return f"Couldn't load metadata pair ('{key}', '{value}'): {reason}"
    return None


def _meta_error(meta: Mapping[str, str], kind: str) -> str | None:
    problem = meta_error(meta, kind)
    return None if problem is None else f"Invalid Service Meta: {problem}"


def weights_error(weights: Weights | None) -> str | None:
    if weights is None:
        return None
    if weights.passing < 1:
        return "Invalid Weights: Passing must be greater than 0"
    if weights.warning < 0:
        return "Invalid Weights: Warning must be greater or equal than 0"
    return None


INTERVAL_KINDS: Final = frozenset(
    {"script", "docker", "http", "tcp", "udp", "grpc", "h2ping", "os_service"}
)


def check_error(spec: CheckSpec) -> str | None:
    """Consul's CheckType.Validate()."""
    kind = spec.kind()
    probes = (spec.script_args, spec.http, spec.tcp, spec.udp, spec.grpc)
    needs_interval = any((*probes, spec.h2ping, spec.os_service))
    if spec.interval > 0 and spec.ttl > 0:
        return "Interval and TTL cannot both be specified"
    if needs_interval and spec.interval <= 0:
        return (
            "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService "
            "checks"
        )
    if kind == "alias" and spec.interval > 0:
        return "Interval cannot be set for Alias checks"
    if not needs_interval and kind != "alias" and spec.ttl <= 0:
        return "TTL must be > 0 for TTL checks"
    if spec.output_max_size < 0:
        return "MaxOutputMaxSize must be positive"
    return None


def _checks_error(
    specs: Iterable[CheckSpec], prefix: str = "Invalid check"
) -> str | None:
    specs = list(specs)
    for spec in specs:
        problem = check_error(spec)
        if problem:
            return f"{prefix}: {problem}"
    if any(spec.status and spec.status not in STATUSES for spec in specs):
        return "Status for checks must 'passing', 'warning', 'critical'"
    return None


def _service_error(spec: RegistrationSpec) -> str | None:
    errors = service_errors(spec, agent_assists=False)
    return f"Validation failed: {multierror(errors)}" if errors else None


def _sidecar_checks_error(spec: RegistrationSpec) -> str | None:
    sidecar = spec.connect.sidecar_service
    if sidecar is None:
        return None
    return _checks_error(sidecar.check_specs(), "Invalid check in sidecar_service")


def registration_error(spec: RegistrationSpec) -> str | None:
    """Steps 2-6 of the contract's validation order (decode is step 1), with
    NodeService.Validate between the meta and the checks, as Consul runs it."""
    if not spec.name:
        return "Missing service name"
    if spec.address in ("0.0.0.0", "::", "[::]"):
        return "Invalid service address"
    return (
        weights_error(spec.weights)
        or _meta_error(spec.meta, spec.kind)
        or _service_error(spec)
        or _checks_error(spec.check_specs())
        or _sidecar_checks_error(spec)
    )
