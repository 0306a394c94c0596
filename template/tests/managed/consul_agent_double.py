# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""A Consul agent test double: an aiohttp server that answers like a Consul agent.

It mimics Consul 1.20-1.22 for what a service node touches (service registration,
HTTP/TCP/TTL health checks, the health and catalog reads with ``passing``, ``tag``,
``node-meta`` and a ``filter`` subset, blocking queries, maintenance, the critical
service reaper, ACL tokens) and adds a fault-injection API for tests. The contract
it follows is ``consul-agent-api.md``; where that page is silent, Consul's own
behaviour is reproduced.

Plain Python (standard library and aiohttp only) so every generated package can ship
it unchanged. Also a CLI::

    python tests/consul_agent_double.py --port 0      # prints "listening HOST:PORT"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hashlib
import ipaddress
import json
import logging
import posixpath
import random
import re
import signal
import ssl
import sys
import time
import uuid
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field, fields
from fractions import Fraction
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
from aiohttp import web

__all__ = [
    "ConsulAgentDouble",
    "GoDurationError",
    "RecordedRequest",
    "format_go_duration",
    "parse_go_duration",
]

PASSING: Final = "passing"
WARNING: Final = "warning"
CRITICAL: Final = "critical"
_STATUSES: Final = (PASSING, WARNING, CRITICAL)

SECOND: Final = 1_000_000_000  # Go durations are integer nanoseconds
_DEFAULT_TIMEOUT_NS: Final = 10 * SECOND
_OUTPUT_MAX_SIZE: Final = 4096
_DEFAULT_WAIT_S: Final = 300.0
_MAX_WAIT_S: Final = 600.0
_ANONYMOUS_ACCESSOR: Final = "00000000-0000-0000-0000-000000000002"
_CONSUL_VERSION: Final = "1.21.4"
_MAINTENANCE_PREFIX: Final = "_service_maintenance:"
_NODE_MAINTENANCE: Final = "_node_maintenance"
_DEFAULT_NODE_MAINT_REASON: Final = (
    "Maintenance mode is enabled for this node, but no reason was provided. "
    "This is a default message."
)
_DEFAULT_MAINT_REASON: Final = (
    "Maintenance mode is enabled for this service, but no reason was provided. "
    "This is a default message."
)
_SCRIPTS_DISABLED: Final = (
    "Scripts are disabled on this agent from remote calls; to enable, configure "
    "'enable_script_checks' to true"
)
_INVALID_PATH: Final = "Invalid URL path: not a recognized HTTP API endpoint"
_MAX_RECORDED: Final = 10_000


# --------------------------------------------------------------------------- #
# Go durations                                                                #
# --------------------------------------------------------------------------- #

_UNIT_NS: Final[Mapping[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 MICRO SIGN
    "μs": 1_000,  # U+03BC GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
}
_MAX_INT64: Final = 2**63 - 1


class GoDurationError(ValueError):
    """A string Go's ``time.ParseDuration`` rejects; the message is Go's."""


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _take_while(text: str, accept: Callable[[str], bool]) -> tuple[str, str]:
    end = 0
    while end < len(text) and accept(text[end]):
        end += 1
    return text[:end], text[end:]


def parse_go_duration(text: str) -> int:
    """Parse like Go's ``time.ParseDuration``; return integer nanoseconds.

    "1m30s", "250ms", "1.5s", "-1s", "0" are fine; "10" (no unit) is not.
    """
    invalid = GoDurationError(f"time: invalid duration {_go_quote(text)}")
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = Fraction(0)
    while rest:
        whole, rest = _take_while(rest, str.isdigit)
        frac = ""
        if rest.startswith("."):
            frac, rest = _take_while(rest[1:], str.isdigit)
        if not whole and not frac:
            raise invalid
        unit, rest = _take_while(rest, lambda c: c != "." and not c.isdigit())
        if not unit:
            raise GoDurationError(f"time: missing unit in duration {_go_quote(text)}")
        if unit not in _UNIT_NS:
            raise GoDurationError(
                f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(text)}"
            )
        number = Fraction(int(whole or "0")) + (
            Fraction(int(frac), 10 ** len(frac)) if frac else Fraction(0)
        )
        total += number * _UNIT_NS[unit]
    nanos = int(total)  # truncates toward zero like Go
    if nanos > _MAX_INT64 + (1 if negative else 0):
        raise invalid
    return -nanos if negative else nanos


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def format_go_duration(nanos: int) -> str:
    """Format like Go's ``Duration.String()``: "1m30s", "1m0s", "250ms", "0s"."""
    if nanos == 0:
        return "0s"
    sign, value = ("-" if nanos < 0 else ""), abs(nanos)
    if value < 1_000:
        return f"{sign}{value}ns"
    if value < 1_000_000:
        return f"{sign}{_decimal(value, 1_000)}µs"
    if value < SECOND:
        return f"{sign}{_decimal(value, 1_000_000)}ms"
    hours, value = divmod(value, 3600 * SECOND)
    minutes, value = divmod(value, 60 * SECOND)
    seconds = _decimal(value, SECOND) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


# --------------------------------------------------------------------------- #
# Request decoding (Go's encoding/json, as Consul configures it)              #
# --------------------------------------------------------------------------- #


class _DecodeError(Exception):
    """Body text after ``Request decode failed: ``."""


_GO_TYPES: Final[Mapping[str, str]] = {
    "string": "string",
    "int": "int",
    "bool": "bool",
    "strings": "[]string",
    "strmap": "map[string]string",
    "header": "map[string][]string",
    "raw": "map[string]interface {}",
}


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_error(value: object, where: str, kind: str) -> _DecodeError:
    shown = _json_type(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and kind == "int":
        shown = f"number {value!r}"  # Go names the literal it cannot fit
    return _DecodeError(
        f"json: cannot unmarshal {shown} into Go struct field {where} "
        f"of type {_GO_TYPES.get(kind, kind)}"
    )


def _decode_duration(value: object, where: str) -> int:
    # Consul's CheckType.UnmarshalJSON accepts a Go string or a number of ns and
    # silently ignores anything else.
    if isinstance(value, str):
        try:
            return parse_go_duration(value)
        except GoDurationError as exc:
            raise _DecodeError(str(exc)) from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0


def _decode_scalar(kind: str, value: object, where: str) -> object:
    ok = {
        "string": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int": isinstance(value, int)
        and not isinstance(value, bool)
        and -(2**63) <= value < 2**63,  # Go's int is 64 bits
    }[kind]
    if not ok:
        raise _type_error(value, where, kind)
    return value


def _decode_strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list):
        raise _type_error(value, where, "strings")
    for item in value:
        if not isinstance(item, str):
            raise _type_error(item, where, "string")
    return list(value)


def _decode_strmap(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _type_error(value, where, "strmap")
    for item in value.values():
        if not isinstance(item, str):
            raise _type_error(item, where, "string")
    return dict(value)


def _decode_header(value: object, where: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise _type_error(value, where, "header")
    return {str(k): _decode_strings(v, where) for k, v in value.items()}


def _decode_raw(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(value, where, "raw")
    return dict(value)


class _Schema:
    """A Go struct as encoding/json sees it: fields matched case-insensitively,
    unknown fields rejected (Consul's lib.DecodeJSON).

    ``aliases`` are the snake_case spellings Consul's UnmarshalJSON methods add
    (``deregister_critical_service_after``...); other snake_case keys are unknown
    fields to a real agent, so they are here too.
    """

    def __init__(
        self,
        go_type: str,
        fields_: Mapping[str, tuple[str, str]],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.go_type = go_type
        self.fields = fields_  # Go name -> (python attribute, kind)
        self._folded = {name.lower(): name for name in fields_}
        self._aliases = {k.lower(): v for k, v in (aliases or {}).items()}

    def lookup(self, key: str) -> str | None:
        lowered = key.lower()
        if lowered in self._aliases:
            return self._aliases[lowered]
        return self._folded.get(lowered)

    def decode(self, raw: object, where: str) -> dict[str, Any]:
        """Return {python attribute: decoded value} or raise _DecodeError."""
        if not isinstance(raw, dict):
            # Go says "Go value" at the top level, "Go struct field X.Y" below it.
            target = f"struct field {where}" if "." in where else "value"
            raise _DecodeError(
                f"json: cannot unmarshal {_json_type(raw)} into Go {target} of type "
                f"{self.go_type}"
            )
        out: dict[str, Any] = {}
        for key, value in raw.items():
            name = self.lookup(key)
            if name is None:
                raise _DecodeError(f"json: unknown field {_go_quote(key)}")
            attr, kind = self.fields[name]
            if value is not None:  # JSON null leaves Go's zero value
                out[attr] = _decode_field(kind, value, f"{where}.{name}")
        return out


def _decode_field(kind: str, value: object, where: str) -> object:
    if kind in ("string", "bool", "int"):
        return _decode_scalar(kind, value, where)
    simple: dict[str, Callable[[object, str], object]] = {
        "duration": _decode_duration,
        "strings": _decode_strings,
        "strmap": _decode_strmap,
        "header": _decode_header,
        "raw": _decode_raw,
        "any": lambda v, w: v,
        "addresses": _decode_addresses,
        "weights": lambda v, w: _Weights(**_WEIGHTS_SCHEMA.decode(v, w)),
        "check": lambda v, w: _CheckSpec(**_CHECK_SCHEMA.decode(v, w)),
        "checks": _decode_check_list,
    }
    return simple[kind](value, where)


def _decode_addresses(value: object, where: str) -> dict[str, dict[str, Any]]:
    """map[string]ServiceAddress, re-keyed the way Go would encode it back."""
    if not isinstance(value, dict):
        raise _type_error(value, where, "map[string]structs.ServiceAddress")
    decoded = {str(k): _ADDRESS_SCHEMA.decode(v, where) for k, v in value.items()}
    return {
        k: {"Address": d.get("address", ""), "Port": d.get("port", 0)}
        for k, d in decoded.items()
    }


def _decode_check_list(value: object, where: str) -> list[_CheckSpec]:
    if not isinstance(value, list):
        raise _type_error(value, where, "structs.CheckTypes")
    return [_CheckSpec(**_CHECK_SCHEMA.decode(item, where)) for item in value]


@dataclass
class _Weights:
    passing: int = 0
    warning: int = 0


@dataclass
class _CheckSpec:
    """Consul's ``structs.CheckType`` (plus ID/ServiceID of a check definition)."""

    check_id: str = ""
    name: str = ""
    status: str = ""
    notes: str = ""
    service_id: str = ""
    token: str = ""
    script_args: list[str] = field(default_factory=list)
    http: str = ""
    header: dict[str, list[str]] = field(default_factory=dict)
    method: str = ""
    body: str = ""
    disable_redirects: bool = False
    tcp: str = ""
    tcp_use_tls: bool = False
    udp: str = ""
    h2ping: str = ""
    h2ping_use_tls: bool = False
    grpc: str = ""
    grpc_use_tls: bool = False
    os_service: str = ""
    docker_container_id: str = ""
    shell: str = ""
    alias_node: str = ""
    alias_service: str = ""
    tls_server_name: str = ""
    tls_skip_verify: bool = False
    interval: int = 0
    timeout: int = 0
    ttl: int = 0
    deregister_after: int = 0
    success_before_passing: int = 0
    failures_before_warning: int = 0
    failures_before_critical: int = 0
    output_max_size: int = 0
    proxy_http: str = ""
    proxy_grpc: str = ""

    def kind(self) -> str:
        """Consul's CheckType.Type() naming, as shown in the check's ``Type``."""
        # the order of Consul's CheckType.Type() switch
        kinds = (
            (bool(self.grpc), "grpc"),
            (bool(self.http), "http"),
            (self.ttl > 0, "ttl"),
            (bool(self.tcp), "tcp"),
            (bool(self.udp), "udp"),
            (bool(self.alias_service or self.alias_node), "alias"),
            (bool(self.docker_container_id), "docker"),
            (bool(self.script_args), "script"),
            (bool(self.h2ping), "h2ping"),
            (bool(self.os_service), "os_service"),
        )
        return next((name for hit, name in kinds if hit), "")


_CHECK_TYPE_FIELDS: Final[Mapping[str, tuple[str, str]]] = {
    "CheckID": ("check_id", "string"),
    "Name": ("name", "string"),
    "Status": ("status", "string"),
    "Notes": ("notes", "string"),
    "ScriptArgs": ("script_args", "strings"),
    "HTTP": ("http", "string"),
    "Header": ("header", "header"),
    "Method": ("method", "string"),
    "Body": ("body", "string"),
    "DisableRedirects": ("disable_redirects", "bool"),
    "TCP": ("tcp", "string"),
    "TCPUseTLS": ("tcp_use_tls", "bool"),
    "UDP": ("udp", "string"),
    "H2PING": ("h2ping", "string"),
    "H2PingUseTLS": ("h2ping_use_tls", "bool"),
    "GRPC": ("grpc", "string"),
    "GRPCUseTLS": ("grpc_use_tls", "bool"),
    "OSService": ("os_service", "string"),
    "DockerContainerID": ("docker_container_id", "string"),
    "Shell": ("shell", "string"),
    "AliasNode": ("alias_node", "string"),
    "AliasService": ("alias_service", "string"),
    "TLSServerName": ("tls_server_name", "string"),
    "TLSSkipVerify": ("tls_skip_verify", "bool"),
    "Interval": ("interval", "duration"),
    "Timeout": ("timeout", "duration"),
    "TTL": ("ttl", "duration"),
    "DeregisterCriticalServiceAfter": ("deregister_after", "duration"),
    "SuccessBeforePassing": ("success_before_passing", "int"),
    "FailuresBeforeWarning": ("failures_before_warning", "int"),
    "FailuresBeforeCritical": ("failures_before_critical", "int"),
    "OutputMaxSize": ("output_max_size", "int"),
    "ProxyHTTP": ("proxy_http", "string"),
    "ProxyGRPC": ("proxy_grpc", "string"),
}

# Snake_case keys Consul's CheckType/CheckDefinition.UnmarshalJSON translate.
_CHECK_ALIASES: Final[Mapping[str, str]] = {
    "args": "ScriptArgs",
    "script_args": "ScriptArgs",
    "deregister_critical_service_after": "DeregisterCriticalServiceAfter",
    "docker_container_id": "DockerContainerID",
    "tls_server_name": "TLSServerName",
    "tls_skip_verify": "TLSSkipVerify",
    "grpc_use_tls": "GRPCUseTLS",
    "h2ping_use_tls": "H2PingUseTLS",
    "service_id": "ServiceID",
}

# A check inside a service also takes (and ignores) ServiceID.
_CHECK_SCHEMA: Final = _Schema(
    "structs.CheckType",
    {**_CHECK_TYPE_FIELDS, "ServiceID": ("service_id", "string")},
    aliases=_CHECK_ALIASES,
)

# PUT /v1/agent/check/register takes a CheckDefinition: "ID" instead of "CheckID".
_CHECK_DEFINITION_SCHEMA: Final = _Schema(
    "structs.CheckDefinition",
    {
        **{
            k: v
            for k, v in _CHECK_TYPE_FIELDS.items()
            if k not in ("CheckID", "ProxyHTTP", "ProxyGRPC")
        },
        "ID": ("check_id", "string"),
        "ServiceID": ("service_id", "string"),
        "Token": ("token", "string"),
    },
    aliases={**_CHECK_ALIASES, "disable_redirects": "DisableRedirects"},
)

_ADDRESS_SCHEMA: Final = _Schema(
    "structs.ServiceAddress",
    {"Address": ("address", "string"), "Port": ("port", "int")},
)

_WEIGHTS_SCHEMA: Final = _Schema(
    "structs.Weights",
    {"Passing": ("passing", "int"), "Warning": ("warning", "int")},
)


@dataclass
class _RegistrationSpec:
    """Consul's ``structs.ServiceDefinition`` as decoded from a register body."""

    name: str = ""
    id: str = ""
    kind: str = ""
    tags: list[str] = field(default_factory=list)
    address: str = ""
    tagged_addresses: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    port: int = 0
    socket_path: str = ""
    check: _CheckSpec = field(default_factory=_CheckSpec)
    checks: list[_CheckSpec] = field(default_factory=list)
    weights: _Weights | None = None
    token: str = ""
    enable_tag_override: bool = False
    proxy: dict[str, Any] = field(default_factory=dict)
    connect: dict[str, Any] = field(default_factory=dict)
    locality: dict[str, Any] = field(default_factory=dict)
    ports: Any = None

    def check_specs(self) -> list[_CheckSpec]:
        # Like ServiceDefinition.CheckTypes(): an all-zero Check is no check.
        head = [] if self.check == _CheckSpec() else [self.check]
        return head + self.checks


_SERVICE_SCHEMA: Final = _Schema(
    "structs.ServiceDefinition",
    {
        "Name": ("name", "string"),
        "ID": ("id", "string"),
        "Kind": ("kind", "string"),
        "Tags": ("tags", "strings"),
        "Address": ("address", "string"),
        "TaggedAddresses": ("tagged_addresses", "addresses"),
        "Meta": ("meta", "strmap"),
        "Port": ("port", "int"),
        "SocketPath": ("socket_path", "string"),
        "Check": ("check", "check"),
        "Checks": ("checks", "checks"),
        "Weights": ("weights", "weights"),
        "Token": ("token", "string"),
        "EnableTagOverride": ("enable_tag_override", "bool"),
        "Proxy": ("proxy", "raw"),
        "Connect": ("connect", "raw"),
        "Locality": ("locality", "raw"),
        "Ports": ("ports", "any"),
    },
    # ServiceDefinition.UnmarshalJSON's two snake_case spellings.
    aliases={
        "enable_tag_override": "EnableTagOverride",
        "tagged_addresses": "TaggedAddresses",
    },
)

_CHECK_UPDATE_SCHEMA: Final = _Schema(
    "agent.checkUpdate",
    {"Status": ("status", "string"), "Output": ("output", "string")},
)


def _reject_constant(name: str) -> object:
    # Python accepts NaN/Infinity; Go's decoder does not.
    raise _DecodeError(f"invalid character {name[0]!r} looking for beginning of value")


def _load_json(body: bytes) -> object:
    """Parse a request body; errors read like Go's decoder where it matters."""
    if not body.strip():
        raise _DecodeError("EOF")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise _DecodeError("invalid character in string literal") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(exc.doc.rstrip()):
            raise _DecodeError("unexpected EOF") from None
        char = exc.doc[exc.pos]
        raise _DecodeError(
            f"invalid character {char!r} looking for beginning of value"
        ) from None


# --------------------------------------------------------------------------- #
# Validation of a registration, in Consul's order                             #
# --------------------------------------------------------------------------- #

_META_MAX_PAIRS: Final = 64
_META_KEY_MAX: Final = 128
_META_VALUE_MAX: Final = 512


def _meta_key_ok(key: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "_-") for c in key)


def _meta_pair_error(key: str, value: str) -> str | None:
    if not key:
        return "Key cannot be blank"
    if not _meta_key_ok(key):
        return "Key contains invalid characters"
    if len(key) > _META_KEY_MAX:
        return f"Key is too long (limit: {_META_KEY_MAX} characters)"
    if key.startswith("consul-"):
        return "Key prefix 'consul-' is reserved for internal use"
    if len(value.encode()) > _META_VALUE_MAX:
        return f"Value is too long (limit: {_META_VALUE_MAX} characters)"
    return None


def _meta_error(meta: Mapping[str, str]) -> str | None:
    if len(meta) > _META_MAX_PAIRS:
        return (
            "Invalid Service Meta: Node metadata cannot contain more than "
            f"{_META_MAX_PAIRS} key/value pairs"
        )
    for key, value in meta.items():
        reason = _meta_pair_error(key, value)
        if reason:
            return (
                "Invalid Service Meta: Couldn't load metadata pair "
                f"('{key}', '{value}'): {reason}"
            )
    return None


def _weights_error(weights: _Weights | None) -> str | None:
    if weights is None:
        return None
    if weights.passing < 1:
        return "Invalid Weights: Passing must be greater than 0"
    if weights.warning < 0:
        return "Invalid Weights: Warning must be greater or equal than 0"
    return None


_INTERVAL_KINDS: Final = frozenset(
    {"script", "docker", "http", "tcp", "udp", "grpc", "h2ping", "os_service"}
)


def _check_error(spec: _CheckSpec) -> str | None:
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


def _checks_error(specs: Iterable[_CheckSpec]) -> str | None:
    specs = list(specs)
    for spec in specs:
        problem = _check_error(spec)
        if problem:
            return f"Invalid check: {problem}"
    if any(spec.status and spec.status not in _STATUSES for spec in specs):
        return "Status for checks must 'passing', 'warning', 'critical'"
    return None


def _registration_error(spec: _RegistrationSpec) -> str | None:
    """Steps 2-6 of the contract's validation order (decode is step 1)."""
    if not spec.name:
        return "Missing service name"
    if spec.address in ("0.0.0.0", "::", "[::]"):
        return "Invalid service address"
    return (
        _weights_error(spec.weights)
        or _meta_error(spec.meta)
        or _checks_error(spec.check_specs())
    )


# --------------------------------------------------------------------------- #
# Agent state                                                                 #
# --------------------------------------------------------------------------- #


@dataclass
class _Registration:
    id: str
    name: str
    tags: list[str]
    address: str
    port: int
    meta: dict[str, str]
    weights: _Weights
    enable_tag_override: bool
    tagged_addresses: dict[str, Any]
    kind: str
    create_index: int
    modify_index: int


@dataclass
class _Check:
    check_id: str
    name: str
    service_id: str
    spec: _CheckSpec
    status: str
    output: str = ""
    notes: str = ""
    kind: str = ""
    create_index: int = 0
    modify_index: int = 0
    critical_since: float | None = None  # monotonic time it last turned critical
    successes: int = 0  # consecutive, for SuccessBeforePassing
    failures: int = 0  # consecutive, for FailuresBeforeWarning/Critical
    ttl_output: str = ""  # last output given to a TTL check, quoted on expiry
    # As registered: what the API shows (Consul displays the requested Interval
    # and Timeout, while ``spec`` holds the floors and defaults actually used).
    declared: _CheckSpec = field(default_factory=_CheckSpec)


def _effective_interval(spec: _CheckSpec, minimum_ns: int) -> int:
    return max(spec.interval, minimum_ns) if spec.interval > 0 else 0


class _AgentState:
    """Services and checks of one agent, plus a raft-like modification index.

    Every change bumps the index and wakes blocked queries; each waiter
    recomputes the index it cares about.
    """

    def __init__(self) -> None:
        self.index = 1  # never 0, like Consul's X-Consul-Index
        self.services: dict[str, _Registration] = {}
        self.checks: dict[str, _Check] = {}
        self.name_index: dict[str, int] = {}  # Consul's "service.<name>" index
        self.services_index = 1  # Consul's "services" table index
        self._changed = asyncio.Event()

    def bump(self, *names: str, catalog: bool = False) -> int:
        self.index += 1
        for name in names:
            self.name_index[name] = self.index
        if catalog:
            self.services_index = self.index
        self._notify()
        return self.index

    def poke(self) -> None:
        """Wake waiters without a state change (they re-test and go on waiting)."""
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def service_index(self, name: str) -> int:
        # A missing service answers with the table index, which the removal of
        # its last instance bumped: watchers see the removal.
        if self.instances(name):
            return self.name_index.get(name, self.index)
        return self.services_index

    def instances(self, name: str) -> list[_Registration]:
        return [s for s in self.services.values() if s.name == name]

    def checks_of(self, service_id: str) -> list[_Check]:
        found = [c for c in self.checks.values() if c.service_id == service_id]
        return sorted(found, key=lambda c: c.check_id)

    def reset(self) -> None:
        """Forget everything, like a restarted ``-dev`` agent (index restarts)."""
        self.services.clear()
        self.checks.clear()
        self.name_index.clear()
        self.index = 1
        self.services_index = 1
        self._notify()

    def rewind(self, to: int) -> None:
        self.index = min(self.index, to)
        self.services_index = min(self.services_index, to)
        for name, index in self.name_index.items():
            self.name_index[name] = min(index, to)
        self._notify()

    async def wait(self, changed: Callable[[], bool], timeout: float) -> None:
        """Return when ``changed()`` is true or ``timeout`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not changed():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


# --------------------------------------------------------------------------- #
# Check probes                                                                #
# --------------------------------------------------------------------------- #


def _tail(data: bytes, limit: int) -> str:
    # Consul reads the body into a circular buffer: the last `limit` bytes stay.
    return data[-limit:].decode("utf-8", errors="replace")


def _truncate_ttl_output(output: str, limit: int) -> str:
    raw = output.encode()
    if len(raw) <= limit:
        return output
    head = raw[:limit].decode("utf-8", errors="replace")
    return f"{head} ... (captured {limit} of {len(raw)} bytes)"


def _dial_error(exc: OSError) -> str:
    if exc.errno == errno.ECONNREFUSED or isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    return exc.strerror or str(exc) or type(exc).__name__


def _http_status(code: int) -> str:
    if 200 <= code <= 299:
        return PASSING
    return WARNING if code == 429 else CRITICAL


def _go_op(method: str) -> str:
    return method[:1].upper() + method[1:].lower()


async def _read_tail(response: aiohttp.ClientResponse, limit: int) -> bytes:
    kept = b""
    async for chunk in response.content.iter_chunked(65536):
        kept = (kept + chunk)[-limit:]
    return kept


async def _probe_http(
    session: aiohttp.ClientSession, spec: _CheckSpec, timeout_s: float
) -> tuple[str, str]:
    method = spec.method or "GET"
    headers = [
        (name, value) for name, values in spec.header.items() for value in values
    ]
    names = {name.lower() for name, _ in headers}
    if "user-agent" not in names:
        headers.append(("User-Agent", "Consul Health Check"))
    if "accept" not in names:
        headers.append(("Accept", "text/plain, text/*, */*"))
    limit = spec.output_max_size or _OUTPUT_MAX_SIZE
    where = f"{_go_op(method)} {_go_quote(spec.http)}"
    try:
        async with session.request(
            method,
            spec.http,
            headers=headers,
            data=spec.body.encode() if spec.body else None,
            allow_redirects=not spec.disable_redirects,
            ssl=not spec.tls_skip_verify,
            server_hostname=spec.tls_server_name or None,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            body = await _read_tail(response, limit)
            output = (
                f"HTTP {method} {spec.http}: {response.status} {response.reason} "
                f"Output: {_tail(body, limit)}"
            )
            return _http_status(response.status), output
    except TimeoutError:
        return CRITICAL, (
            f"{where}: context deadline exceeded "
            "(Client.Timeout exceeded while awaiting headers)"
        )
    except aiohttp.ClientConnectorError as exc:
        return CRITICAL, f"{where}: dial tcp {exc.host}:{exc.port}: {_dial_error(exc)}"
    except (aiohttp.ClientError, ValueError) as exc:
        return CRITICAL, f"{where}: {exc}"


async def _probe_tcp(spec: _CheckSpec, timeout_s: float) -> tuple[str, str]:
    host, _, port = spec.tcp.rpartition(":")
    host = host.strip("[]")
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port)), timeout_s
        )
    except TimeoutError:
        return CRITICAL, f"dial tcp {spec.tcp}: i/o timeout"
    except OSError as exc:
        return CRITICAL, f"dial tcp {spec.tcp}: {_dial_error(exc)}"
    except ValueError:
        return CRITICAL, f"dial tcp {spec.tcp}: address {spec.tcp}: missing port"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return PASSING, f"TCP connect {spec.tcp}: Success"


# --------------------------------------------------------------------------- #
# ?filter= : a subset of go-bexpr, evaluated on the JSON answer              #
# --------------------------------------------------------------------------- #
#
# Supported: Selector == / != value, Selector is [not] empty, value [not] in
# Selector, Selector [not] contains value, Selector [not] matches "regex",
# and / or / not, parentheses. Values: "quoted", `raw`, or bare words/numbers.
# A selector walks the JSON keys ("Service.Meta.domain"); through a list it
# matches when any element does ("Checks.Status == critical").

_FILTER_TOKEN: Final = re.compile(
    r'\s*(?:(?P<op>==|!=|\(|\))|"(?P<dq>(?:[^"\\]|\\.)*)"|`(?P<bq>[^`]*)`'
    r'|(?P<word>[^\s()"`=!]+))'
)

_Predicate = Callable[[Any], bool]


class _FilterError(Exception):
    """An expression outside the supported subset, or malformed."""


@dataclass(frozen=True)
class _Token:
    text: str
    literal: bool  # quoted: never a keyword


def _filter_tokens(expression: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(expression.rstrip()):
        match = _FILTER_TOKEN.match(expression, pos)
        if match is None:
            raise _FilterError(f"unexpected input at offset {pos}")
        pos = match.end()
        quoted = match.group("dq")
        if quoted is not None:
            tokens.append(_Token(json.loads(f'"{quoted}"'), True))
        elif match.group("bq") is not None:
            tokens.append(_Token(match.group("bq"), True))
        else:
            tokens.append(_Token(match.group("op") or match.group("word"), False))
    return tokens


def _select(value: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [value]
    if isinstance(value, list):
        return [found for item in value for found in _select(item, parts)]
    if isinstance(value, dict) and parts[0] in value:
        return _select(value[parts[0]], parts[1:])
    return []


def _coerce(literal: str, like: Any) -> Any:
    """bexpr converts the literal to the selected field's type."""
    if isinstance(like, bool):
        return literal.lower() == "true"
    for kind in (int, float):
        if isinstance(like, kind):
            try:
                return kind(literal)
            except ValueError:
                return None
    return literal


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _holds(container: Any, literal: str) -> bool:
    if isinstance(container, str | list | dict):
        return literal in container
    return False


class _FilterParser:
    """Recursive descent over the tokens; builds a predicate on a JSON value."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> _Predicate:
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise _FilterError(f"unexpected {self.tokens[self.pos].text!r}")
        return predicate

    def _peek(self, offset: int = 0) -> str | None:
        at = self.pos + offset
        if at >= len(self.tokens) or self.tokens[at].literal:
            return None
        return self.tokens[at].text

    def _take(self) -> _Token:
        if self.pos >= len(self.tokens):
            raise _FilterError("unexpected end of expression")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _expect(self, word: str) -> None:
        token = self._take()
        if token.literal or token.text != word:
            raise _FilterError(f"expected {word!r}, got {token.text!r}")

    def _or(self) -> _Predicate:
        return self._joined("or", self._and, any)

    def _and(self) -> _Predicate:
        return self._joined("and", self._unary, all)

    def _joined(
        self,
        word: str,
        operand: Callable[[], _Predicate],
        combine: Callable[[Iterator[bool]], bool],
    ) -> _Predicate:
        """``operand (word operand)*``, the operands' results combined."""
        parts = [operand()]
        while self._peek() == word:
            self.pos += 1
            parts.append(operand())
        return lambda v: combine(p(v) for p in parts)

    def _unary(self) -> _Predicate:
        if self._peek() == "not":
            self.pos += 1
            inner = self._unary()
            return lambda v: not inner(v)
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            self._expect(")")
            return inner
        return self._match()

    def _match(self) -> _Predicate:
        if self._peek(1) == "in" or (self._peek(1) == "not" and self._peek(2) == "in"):
            return self._membership()
        parts = self._take().text.split(".")
        negate = False
        operator = self._take().text
        if operator == "is":
            negate = self._peek() == "not"
            self.pos += 1 if negate else 0
            self._expect("empty")
            return _negated(
                negate, lambda v: all(_is_empty(x) for x in _select(v, parts))
            )
        if operator == "not":
            negate, operator = True, self._take().text
        literal = self._take().text
        return _negated(negate, _comparison(parts, operator, literal))

    def _membership(self) -> _Predicate:
        literal = self._take().text
        negate = self._peek() == "not"
        self.pos += 2 if negate else 1
        parts = self._take().text.split(".")
        return _negated(
            negate, lambda v: any(_holds(x, literal) for x in _select(v, parts))
        )


def _negated(negate: bool, predicate: _Predicate) -> _Predicate:
    return (lambda v: not predicate(v)) if negate else predicate


def _comparison(parts: list[str], operator: str, literal: str) -> _Predicate:
    def equal(v: Any) -> bool:
        return any(x == _coerce(literal, x) for x in _select(v, parts))

    if operator == "==":
        return equal
    if operator == "!=":
        return lambda v: not equal(v)
    if operator == "contains":
        return lambda v: any(_holds(x, literal) for x in _select(v, parts))
    if operator == "matches":
        try:
            pattern = re.compile(literal)
        except re.error as exc:
            raise _FilterError(f"invalid regular expression: {exc}") from None
        return lambda v: any(
            isinstance(x, str) and pattern.search(x) for x in _select(v, parts)
        )
    raise _FilterError(f"unsupported operator {operator!r}")


def _compile_filter(expression: str) -> _Predicate:
    tokens = _filter_tokens(expression)
    if not tokens:
        return lambda v: True
    return _FilterParser(tokens).parse()


def _request_filter(request: web.Request) -> _Predicate:
    try:
        return _compile_filter(request.query.get("filter", ""))
    except _FilterError as exc:
        raise _HttpError(
            400, f"Failed to create boolean expression evaluator: {exc}"
        ) from None


# --------------------------------------------------------------------------- #
# HTTP plumbing                                                               #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class RecordedRequest:
    """One request the double received (for assertions in tests)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _HttpError(Exception):
    """Answered as a plain-text body with the given status, like Consul."""

    def __init__(self, status: int, body: str, allow: str = "") -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.allow = allow


def _text(status: int, body: str, allow: str = "") -> web.Response:
    response = web.Response(status=status, text=body, content_type="text/plain")
    if allow:
        response.headers["Allow"] = allow
    return response


_Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Route:
    """A Go ServeMux pattern: a trailing "/" matches a prefix, else exact path."""

    pattern: str
    method: str
    handler: _Handler

    def match(self, path: str) -> str | None:
        if self.pattern.endswith("/"):
            return path[len(self.pattern) :] if path.startswith(self.pattern) else None
        return "" if path == self.pattern else None


def _parse_go_bool(raw: str) -> bool | None:
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _query_flag(request: web.Request, name: str) -> bool:
    """Consul's getBoolQueryParam: present and empty means true."""
    if name not in request.query:
        return False
    raw = request.query[name]
    value = True if raw == "" else _parse_go_bool(raw)
    if value is None:
        raise _HttpError(400, f"Invalid value for ?{name}")
    return value


@dataclass(frozen=True)
class _Blocking:
    min_index: int
    wait_s: float  # already capped, defaulted and jittered


def _parse_blocking(request: web.Request) -> _Blocking:
    """Consul's parseConsistency then parseWait, for catalog/health reads."""
    query = request.query
    if "stale" in query and "consistent" in query:
        raise _HttpError(
            400, "Cannot specify ?stale with ?consistent, conflicting semantics."
        )
    return _parse_wait(request)


def _parse_wait(request: web.Request) -> _Blocking:
    query = request.query
    wait_s = 0.0
    if query.get("wait"):
        try:
            wait_s = parse_go_duration(query["wait"]) / SECOND
        except GoDurationError:
            raise _HttpError(400, "Invalid wait time") from None
    min_index = 0
    if query.get("index"):
        raw = query["index"]
        if not raw.isdigit() or int(raw) > 2**64 - 1:
            raise _HttpError(400, "Invalid index")
        min_index = int(raw)
    return _Blocking(min_index, _jittered_wait(wait_s))


def _jittered_wait(wait_s: float) -> float:
    if wait_s <= 0:
        wait_s = _DEFAULT_WAIT_S
    wait_s = min(wait_s, _MAX_WAIT_S)
    return wait_s + random.uniform(0, wait_s / 16)


@dataclass
class _Faults:
    """Injected misbehaviour; see the fault methods of ConsulAgentDouble."""

    answering: asyncio.Event = field(default_factory=asyncio.Event)
    latency_s: float = 0.0
    error_status: int | None = None  # _DROP: close the connection, no answer
    error_body: bytes = b""
    error_content_type: str = "text/plain"
    error_until: float | None = None  # monotonic deadline
    error_remaining: int | None = None  # requests left
    error_path_prefix: str = ""  # only requests under this path
    index_header: str | None = None  # sent instead of the real X-Consul-Index

    def take_error(self, path: str) -> tuple[int, bytes, str] | None:
        if self.error_status is None or not path.startswith(self.error_path_prefix):
            return None
        expired = self.error_until is not None and time.monotonic() >= self.error_until
        if expired or self.error_remaining == 0:
            self.error_status = None
            return None
        if self.error_remaining is not None:
            self.error_remaining -= 1
        return self.error_status, self.error_body, self.error_content_type


_DROP: Final = 0


_DEFAULT_FAULT_BODIES: Final[Mapping[int, str]] = {
    429: "rate limit exceeded, try again later or against a different server",
    500: "rpc error making call: No cluster leader",
    503: "No known Consul servers",
}


# --------------------------------------------------------------------------- #
# The double                                                                  #
# --------------------------------------------------------------------------- #


class ConsulAgentDouble:
    """An in-process Consul agent speaking the HTTP API over a real socket.

    ``acl_tokens``: ``None`` disables ACLs; a set of secrets turns ACLs on with
    default deny, those secrets acting as management tokens.
    ``tls_cert``/``tls_key`` (PEM paths) serve HTTPS instead of HTTP;
    ``tls_client_ca`` (PEM path) then requires client certificates issued by it.
    ``reaper_interval``/``deregister_minimum``/``min_check_interval`` (seconds) are
    Consul's 30s/1m/1s; tests may shrink them. ``clock`` (monotonic seconds) is
    what the reaper measures critical time with; tests may advance it.

    Use::

        async with ConsulAgentDouble(node_name="n1") as double:
            os.environ["CONSUL_HTTP_ADDR"] = double.address
            ...
            assert "svc-1" in double.services()

    Inspection (same JSON shapes as the HTTP API): ``services()``, ``service(id)``,
    ``checks()``, ``deregister_after(check_id)``, ``index``, ``requests``;
    ``await wait_for(predicate, timeout)`` re-tests on every change and request.
    Test hooks and faults: ``set_check_status``, ``hold_requests`` /
    ``release_requests``, ``fail_requests``, ``drop_connections``,
    ``set_latency``, ``clear_faults``, ``forget_all``, ``rewind_index``;
    ``stop()`` then ``start(port=same)`` is an agent restart that keeps its state.
    """

    def __init__(
        self,
        node_name: str = "consul-agent-double",
        datacenter: str = "dc1",
        *,
        node_address: str = "127.0.0.1",
        node_meta: Mapping[str, str] | None = None,
        acl_tokens: Iterable[str] | None = None,
        reaper_interval: float = 30.0,
        deregister_minimum: float = 60.0,
        min_check_interval: float = 1.0,
        default_token: str = "",
        clock: Callable[[], float] = time.monotonic,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        tls_client_ca: str | None = None,
    ) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if tls_client_ca is not None and tls_cert is None:
            raise ValueError("tls_client_ca needs tls_cert and tls_key")
        self._tls = (tls_cert, tls_key, tls_client_ca)
        self.node_name = node_name
        self.datacenter = datacenter
        self.node_address = node_address
        self.node_meta = dict(node_meta or {})
        self.node_id = str(uuid.uuid4())
        self.acl_tokens: frozenset[str] | None = (
            None if acl_tokens is None else frozenset(acl_tokens)
        )
        self.reaper_interval = reaper_interval
        # How long checks have been critical is read from this clock, so tests
        # can move it forward past DeregisterCriticalServiceAfter (>= 1m).
        self.clock = clock
        self._deregister_min_ns = int(deregister_minimum * SECOND)
        self._min_interval_ns = int(min_check_interval * SECOND)
        self.default_token = default_token  # the agent's own, used when none is sent
        # newest last; bounded so a long-running CLI double does not grow forever
        self.requests: deque[RecordedRequest] = deque(maxlen=_MAX_RECORDED)
        self._state = _AgentState()
        self._faults = _Faults()
        self._faults.answering.set()
        self._check_tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._host = ""
        self._port = 0
        self._routes = self._build_routes()

    # ---- lifecycle -------------------------------------------------------- #

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (0 picks a free port; see ``address``)."""
        if self._runner is not None:
            raise RuntimeError("the Consul agent double is already started")
        self._faults.answering.set()
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=self._ssl_context())
        await site.start()
        self._host, self._port = self._runner.addresses[0][:2]
        # Consul's HTTP checks disable keep-alive: a new connection per probe.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True)
        )
        self._spawn(self._reaper_loop())
        for check in self._state.checks.values():
            self._start_runner(check)

    def _ssl_context(self) -> ssl.SSLContext | None:
        """The server side of HTTPS, or None for plain HTTP."""
        cert, key, client_ca = self._tls
        if cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if client_ca is not None:
            # Like Consul's verify_incoming: no trusted client certificate, no
            # answer (the handshake fails).
            context.load_verify_locations(client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    async def stop(self) -> None:
        """Stop listening and cancel every task (checks, reaper, held requests)."""
        # In-flight handlers (held or blocking requests) go too, so stop() is quick.
        tasks = [*self._check_tasks.values(), *self._background, *self._in_flight]
        self._check_tasks.clear()
        self._background.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        """``host:port`` as CONSUL_HTTP_ADDR expects it."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._port}"

    @property
    def scheme(self) -> str:
        return "http" if self._tls[0] is None else "https"

    @property
    def url(self) -> str:
        """``scheme://host:port``: CONSUL_HTTP_ADDR with the scheme spelled out."""
        return f"{self.scheme}://{self.address}"

    @property
    def index(self) -> int:
        """The current raft-like index (what X-Consul-Index reports)."""
        return self._state.index

    # ---- read-only inspection (same JSON shapes as the HTTP API) ----------- #

    def services(self) -> dict[str, dict[str, Any]]:
        return {sid: self._agent_service_json(s) for sid, s in self._sorted_services()}

    def service(self, service_id: str) -> dict[str, Any] | None:
        svc = self._state.services.get(service_id)
        return None if svc is None else self._agent_service_json(svc, with_hash=True)

    def checks(self) -> dict[str, dict[str, Any]]:
        ordered = sorted(self._state.checks.items())
        return {cid: self._check_json(c) for cid, c in ordered}

    def deregister_after(self, check_id: str) -> float | None:
        """Seconds a check may stay critical before the reaper removes its
        service, after Consul's 1m floor (None: never)."""
        nanos = self._state.checks[check_id].spec.deregister_after
        return nanos / SECOND if nanos > 0 else None

    # ---- test hooks and fault injection ----------------------------------- #

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0
    ) -> None:
        """Wait until ``predicate()`` holds, re-testing on every state change
        (registrations, check status changes) and every received request.
        Raises TimeoutError."""
        await self._state.wait(predicate, timeout)
        if not predicate():
            raise TimeoutError(f"condition not met within {timeout}s")

    def set_check_status(self, check_id: str, status: str, output: str = "") -> None:
        """Force a check's status, as if its probe had just reported it."""
        if status not in _STATUSES:
            raise ValueError(f"bad status {status!r}")
        self._set_status(self._state.checks[check_id], status, output)

    def hold_requests(self) -> None:
        """Stop answering: requests are accepted but held until released."""
        self._faults.answering.clear()

    def release_requests(self) -> None:
        self._faults.answering.set()

    def fail_requests(
        self,
        status: int = 500,
        *,
        body: str | None = None,
        count: int | None = None,
        duration: float | None = None,
        path_prefix: str = "",
    ) -> None:
        """Answer requests with ``status`` (plain ``body``) for the next ``count``
        requests and/or ``duration`` seconds (both None: until cleared); only
        paths starting with ``path_prefix`` are affected."""
        text = (
            body
            if body is not None
            else _DEFAULT_FAULT_BODIES.get(status, f"injected error {status}")
        )
        self.answer_requests(
            status,
            body=text.encode(),
            content_type="text/plain; charset=utf-8",
            count=count,
            duration=duration,
            path_prefix=path_prefix,
        )

    def answer_requests(
        self,
        status: int = 200,
        *,
        body: bytes = b"",
        content_type: str = "application/json",
        count: int | None = None,
        duration: float | None = None,
        path_prefix: str = "",
    ) -> None:
        """Answer with exactly these bytes, as no Consul would (a proxy, a wrong
        address, a broken agent): a 404 page, JSON of the wrong shape, bytes
        that are not UTF-8. Same selection rules as ``fail_requests``."""
        faults = self._faults
        faults.error_status = status
        faults.error_body = body
        faults.error_content_type = content_type
        faults.error_remaining = count
        faults.error_until = None if duration is None else time.monotonic() + duration
        faults.error_path_prefix = path_prefix

    def drop_connections(
        self,
        *,
        count: int | None = None,
        duration: float | None = None,
        path_prefix: str = "",
    ) -> None:
        """Close connections without answering (an agent dying mid-request);
        same selection rules as ``fail_requests``."""
        self.fail_requests(
            _DROP, count=count, duration=duration, path_prefix=path_prefix
        )

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``."""
        self._faults.latency_s = seconds

    def set_index_header(self, value: str | None) -> None:
        """Send ``value`` as X-Consul-Index on every answer (``"0"``, ``"-3"``,
        ``"abc"``: what a buggy Consul or a proxy sends); None: the real index.
        Blocking still follows the real index."""
        self._faults.index_header = value

    def clear_faults(self) -> None:
        self._faults.error_status = None
        self._faults.latency_s = 0.0
        self._faults.index_header = None
        self._faults.answering.set()

    def rewind_index(self, to: int = 1) -> None:
        """Move every index back to ``to`` (>= 1) but keep the data, like an
        agent that switched to a server with an older raft log."""
        self._state.rewind(max(to, 1))

    def forget_all(self) -> None:
        """Lose every registration, like a restarted ``-dev`` agent.

        The index restarts low, so watchers see it go backwards.
        """
        for task in self._check_tasks.values():
            task.cancel()
        self._check_tasks.clear()
        self._state.reset()

    # ---- HTTP entry points ------------------------------------------------ #

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        self._track_in_flight()
        await self._record(request)
        injected = await self._faults_for(request)
        if injected is not None:
            return injected
        try:
            return await handler(request)
        except _HttpError as exc:
            return _text(exc.status, exc.body, exc.allow)

    def _track_in_flight(self) -> None:
        # stop() cancels these, so held and blocking requests never delay it.
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _record(self, request: web.Request) -> None:
        body = await request.read()
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                tuple(request.query.items()),
                dict(request.headers),
                body,
            )
        )
        self._state.poke()  # wakes wait_for() predicates that watch requests

    async def _faults_for(self, request: web.Request) -> web.Response | None:
        """Hold, delay, fail or drop the request as injected; None: answer it."""
        await self._faults.answering.wait()
        if self._faults.latency_s > 0:
            await asyncio.sleep(self._faults.latency_s)
        injected = self._faults.take_error(request.path)
        if injected is None:
            return None
        status, body, content_type = injected
        if status == _DROP:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp drops the aborted request
        return web.Response(
            status=status, body=body, headers={"Content-Type": content_type}
        )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        cleaned = _clean_path(path)
        if cleaned != path:
            # Go's ServeMux redirects unclean paths ("a//b", "/./", "/../").
            location = request.rel_url.with_path(cleaned)
            raise web.HTTPMovedPermanently(location=str(location))
        matches = [(r, r.match(path)) for r in self._routes]
        candidates = [(r, rest) for r, rest in matches if rest is not None]
        if not candidates:
            raise _HttpError(404, _INVALID_PATH)
        # Go's ServeMux: the longest pattern wins.
        route, rest = max(candidates, key=lambda pair: len(pair[0].pattern))
        if request.method != route.method:
            raise _HttpError(405, f"method {request.method} not allowed", route.method)
        self._check_dc(request)
        return await route.handler(request, rest or "")

    def _check_dc(self, request: web.Request) -> None:
        dc = request.query.get("dc", "")
        if dc and dc != self.datacenter:
            raise _HttpError(500, "No path to datacenter")

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, _Handler]] = [
            ("/v1/agent/service/register", "PUT", self._put_register),
            ("/v1/agent/service/deregister/", "PUT", self._put_deregister),
            ("/v1/agent/service/maintenance/", "PUT", self._put_maintenance),
            ("/v1/agent/maintenance", "PUT", self._put_node_maintenance),
            ("/v1/agent/service/", "GET", self._get_agent_service),
            ("/v1/agent/services", "GET", self._get_agent_services),
            ("/v1/agent/checks", "GET", self._get_agent_checks),
            ("/v1/agent/check/register", "PUT", self._put_check_register),
            ("/v1/agent/check/deregister/", "PUT", self._put_check_deregister),
            ("/v1/agent/check/pass/", "PUT", self._ttl_route(PASSING)),
            ("/v1/agent/check/warn/", "PUT", self._ttl_route(WARNING)),
            ("/v1/agent/check/fail/", "PUT", self._ttl_route(CRITICAL)),
            ("/v1/agent/check/update/", "PUT", self._put_check_update),
            ("/v1/agent/self", "GET", self._get_agent_self),
            ("/v1/agent/health/service/id/", "GET", self._get_local_health_by_id),
            ("/v1/agent/health/service/name/", "GET", self._get_local_health_by_name),
            ("/v1/status/leader", "GET", self._get_leader),
            ("/v1/status/peers", "GET", self._get_peers),
            ("/v1/health/service/", "GET", self._get_health_service),
            ("/v1/catalog/services", "GET", self._get_catalog_services),
            ("/v1/catalog/service/", "GET", self._get_catalog_service),
        ]
        return [_Route(pattern, method, handler) for pattern, method, handler in table]

    # ---- responses -------------------------------------------------------- #

    def _json(
        self, request: web.Request, payload: object, index: int | None = None
    ) -> web.Response:
        pretty = "pretty" in request.query
        text = json.dumps(
            payload,
            ensure_ascii=False,
            indent=4 if pretty else None,
            separators=None if pretty else (",", ":"),
        ) + ("\n" if pretty else "")  # Consul ends pretty output with a newline
        response = web.Response(text=text, content_type="application/json")
        response.headers["X-Consul-Index"] = (
            self._faults.index_header
            if self._faults.index_header is not None
            else str(index or self._state.index)
        )
        response.headers["X-Consul-KnownLeader"] = "true"
        response.headers["X-Consul-LastContact"] = "0"
        return response

    # ---- ACL -------------------------------------------------------------- #

    def _request_token(self, request: web.Request) -> str:
        """?token= > X-Consul-Token > Authorization: Bearer > agent default."""
        if request.query.get("token"):
            return request.query["token"]
        if request.headers.get("X-Consul-Token"):
            return request.headers["X-Consul-Token"]
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return self.default_token

    def _authorized(self, request: web.Request) -> bool:
        """True for full rights, False for anonymous; unknown secret -> 403."""
        if self.acl_tokens is None:
            return True
        token = self._request_token(request)
        if not token:
            return False
        if token not in self.acl_tokens:
            raise _HttpError(403, "ACL not found")
        return True

    def _require(self, request: web.Request, permission: str, name: str) -> None:
        if not self._authorized(request):
            raise _HttpError(
                403,
                f"Permission denied: token with AccessorID '{_ANONYMOUS_ACCESSOR}' "
                f"lacks permission '{permission}' on {_go_quote(name)}",
            )

    # ---- registration ----------------------------------------------------- #

    async def _put_register(self, request: web.Request, _: str) -> web.StreamResponse:
        try:
            raw = _load_json(await request.read())
            spec = _RegistrationSpec(**_SERVICE_SCHEMA.decode(raw, "ServiceDefinition"))
        except _DecodeError as exc:
            raise _HttpError(400, f"Request decode failed: {exc}") from None
        problem = _registration_error(spec)
        if problem:
            raise _HttpError(400, problem)
        self._require(request, "service:write", spec.name)
        _warn_if_not_dns_safe(spec.name)
        problem = _tagged_address_error(spec.tagged_addresses)
        if problem:
            raise _HttpError(500, problem)
        if any(c.script_args for c in spec.check_specs()):
            raise _HttpError(500, _SCRIPTS_DISABLED)
        # Consul: present and empty, or exactly "true".
        replace = request.query.get("replace-existing-checks") in ("", "true")
        self._register(spec, replace_checks=replace)
        return web.Response(status=200)

    def _register(self, spec: _RegistrationSpec, *, replace_checks: bool) -> None:
        service_id = spec.id or spec.name
        self._put_service(service_id, spec)
        specs = spec.check_specs()
        ids = [
            self._service_check_id(service_id, s, i, len(specs))
            for i, s in enumerate(specs)
        ]
        if replace_checks:
            for stale in self._state.checks_of(service_id):
                if stale.check_id not in ids:
                    self._remove_check(stale.check_id)
        for check_id, check_spec in zip(ids, specs, strict=True):
            self._add_check(check_id, check_spec, service_id, spec.name)

    def _put_service(self, service_id: str, spec: _RegistrationSpec) -> None:
        previous = self._state.services.get(service_id)
        service = _Registration(
            id=service_id,
            name=spec.name,
            tags=list(spec.tags),
            address=spec.address,
            port=spec.port,
            meta=dict(spec.meta),
            weights=spec.weights or _Weights(1, 1),
            enable_tag_override=spec.enable_tag_override,
            tagged_addresses=_default_tagged_addresses(spec),
            kind=spec.kind,
            create_index=previous.create_index if previous else 0,
            modify_index=previous.modify_index if previous else 0,
        )
        if service == previous:
            return  # like Consul's state store: an identical write moves no index
        index = self._state.bump(spec.name, catalog=True)
        if previous is not None and previous.name != spec.name:
            self._state.name_index[previous.name] = index
        service.create_index = service.create_index or index
        service.modify_index = index
        self._state.services[service_id] = service

    @staticmethod
    def _service_check_id(service_id: str, spec: _CheckSpec, i: int, n: int) -> str:
        if spec.check_id:
            return spec.check_id
        return f"service:{service_id}" + (f":{i + 1}" if n > 1 else "")

    def _add_check(
        self, check_id: str, spec: _CheckSpec, service_id: str, service_name: str
    ) -> None:
        """Add or replace a check; a replaced check keeps its status and output.

        Its runner restarts either way (a TTL timer starts again, like Consul).
        """
        previous = self._state.checks.get(check_id)
        default_name = f"Service '{service_name}' check" if service_id else check_id
        check = _Check(
            check_id=check_id,
            name=spec.name or default_name,
            service_id=service_id,
            spec=self._effective_spec(spec),
            declared=spec,
            status=spec.status or CRITICAL,
            notes=spec.notes,
            kind=spec.kind(),
        )
        if previous is None:
            check.critical_since = self._critical_clock(check.status)
        else:
            check.status, check.output = previous.status, previous.output
            check.critical_since = previous.critical_since
            check.create_index = previous.create_index
            check.modify_index = previous.modify_index
        if not _same_check(previous, check):
            check.modify_index = self._state.bump(service_name)
            check.create_index = check.create_index or check.modify_index
        self._state.checks[check_id] = check
        self._start_runner(check)

    def _effective_spec(self, spec: _CheckSpec) -> _CheckSpec:
        """Apply Consul's floors and defaults: Interval >= 1s, Timeout 10s,
        DeregisterCriticalServiceAfter >= 1m."""
        effective = _CheckSpec(**{f.name: getattr(spec, f.name) for f in fields(spec)})
        effective.interval = _effective_interval(spec, self._min_interval_ns)
        if effective.interval and effective.timeout <= 0:
            effective.timeout = _DEFAULT_TIMEOUT_NS
        if 0 < spec.deregister_after < self._deregister_min_ns:
            effective.deregister_after = self._deregister_min_ns
        # A check may lower the agent's 4096-byte output cap, never raise it.
        effective.output_max_size = min(
            spec.output_max_size or _OUTPUT_MAX_SIZE, _OUTPUT_MAX_SIZE
        )
        return effective

    def _critical_clock(self, status: str) -> float | None:
        return self.clock() if status == CRITICAL else None

    def _remove_check(self, check_id: str) -> None:
        check = self._state.checks.pop(check_id, None)
        self._stop_runner(check_id)
        if check is not None:
            self._state.bump(*self._service_names(check))

    def _service_names(self, check: _Check) -> tuple[str, ...]:
        """Names whose health a check affects: a node check affects them all."""
        if not check.service_id:
            return tuple({s.name for s in self._state.services.values()})
        svc = self._state.services.get(check.service_id)
        return (svc.name,) if svc else ()

    def _remove_service(self, service_id: str) -> None:
        service = self._state.services.pop(service_id)
        for check in self._state.checks_of(service_id):
            self._state.checks.pop(check.check_id, None)
            self._stop_runner(check.check_id)
        self._state.bump(service.name, catalog=True)

    async def _put_deregister(self, request: web.Request, sid: str) -> web.Response:
        self._authorized(request)
        service = self._known_service(sid)
        self._require(request, "service:write", service.name)
        self._remove_service(sid)
        return web.Response(status=200)

    def _known_service(self, service_id: str) -> _Registration:
        service = self._state.services.get(service_id)
        if service is None:
            raise _HttpError(
                404,
                f"Unknown service ID {_go_quote(service_id)}. Ensure that the "
                "service ID is passed, not the service name.",
            )
        return service

    async def _put_maintenance(self, request: web.Request, sid: str) -> web.Response:
        if not sid:
            raise _HttpError(400, "Missing service ID")
        enable = _maintenance_flag(request)
        self._authorized(request)
        service = self._known_service(sid)
        self._require(request, "service:write", service.name)
        check_id = _MAINTENANCE_PREFIX + sid
        if enable and check_id not in self._state.checks:
            self._add_maintenance_check(service, request.query.get("reason", ""))
        elif not enable and check_id in self._state.checks:
            self._remove_check(check_id)
        return web.Response(status=200)

    def _add_maintenance_check(self, service: _Registration, reason: str) -> None:
        self._put_maintenance_check(
            _MAINTENANCE_PREFIX + service.id,
            "Service Maintenance Mode",
            service.id,
            reason or _DEFAULT_MAINT_REASON,
        )

    def _put_maintenance_check(
        self, check_id: str, name: str, service_id: str, notes: str
    ) -> None:
        check = _Check(
            check_id=check_id,
            name=name,
            service_id=service_id,
            spec=_CheckSpec(),
            status=CRITICAL,
            notes=notes,
            kind="maintenance",
            critical_since=None,  # maintenance never triggers the reaper
        )
        check.create_index = check.modify_index = self._state.bump(
            *self._service_names(check)
        )
        self._state.checks[check_id] = check

    async def _put_node_maintenance(self, request: web.Request, _: str) -> web.Response:
        enable = _maintenance_flag(request)
        self._require(request, "node:write", self.node_name)
        present = _NODE_MAINTENANCE in self._state.checks
        if enable and not present:
            reason = request.query.get("reason", "") or _DEFAULT_NODE_MAINT_REASON
            self._put_maintenance_check(
                _NODE_MAINTENANCE, "Node Maintenance Mode", "", reason
            )
        elif not enable and present:
            self._remove_check(_NODE_MAINTENANCE)
        return web.Response(status=200)

    # ---- standalone checks and TTL updates -------------------------------- #

    async def _put_check_register(self, request: web.Request, _: str) -> web.Response:
        try:
            raw = _load_json(await request.read())
            spec = _CheckSpec(**_CHECK_DEFINITION_SCHEMA.decode(raw, "CheckDefinition"))
        except _DecodeError as exc:
            raise _HttpError(400, f"Request decode failed: {exc}") from None
        if not spec.name:
            raise _HttpError(400, "Missing check name")
        if spec.status and spec.status not in _STATUSES:
            raise _HttpError(400, "Bad check status")
        self._authorized(request)  # an unknown token fails before the rest
        problem = _check_error(spec)
        if problem:
            raise _HttpError(400, f"Invalid check: {problem}")
        service_name = ""
        if spec.service_id:
            service = self._state.services.get(spec.service_id)
            if service is None:
                raise _HttpError(
                    404, f"ServiceID {_go_quote(spec.service_id)} does not exist"
                )
            service_name = service.name
        if service_name:
            self._require(request, "service:write", service_name)
        else:
            self._require(request, "node:write", self.node_name)
        self._add_check(spec.check_id or spec.name, spec, spec.service_id, service_name)
        return web.Response(status=200)

    async def _put_check_deregister(
        self, request: web.Request, cid: str
    ) -> web.Response:
        self._writable_check(request, cid)
        self._remove_check(cid)
        return web.Response(status=200)

    def _writable_check(self, request: web.Request, check_id: str) -> _Check:
        self._authorized(request)
        check = self._state.checks.get(check_id)
        if check is None:
            raise _HttpError(
                404,
                f"Unknown check ID {_go_quote(check_id)}. Ensure that the check ID "
                "is passed, not the check name.",
            )
        names = self._service_names(check)
        if names:
            self._require(request, "service:write", names[0])
        else:
            self._require(request, "node:write", self.node_name)
        return check

    def _ttl_route(self, status: str) -> _Handler:
        async def handler(request: web.Request, cid: str) -> web.StreamResponse:
            return self._ttl_update(request, cid, status, request.query.get("note", ""))

        return handler

    async def _put_check_update(self, request: web.Request, cid: str) -> web.Response:
        try:
            raw = _load_json(await request.read())
            update = _CHECK_UPDATE_SCHEMA.decode(raw, "checkUpdate")
        except _DecodeError as exc:
            raise _HttpError(400, f"Request decode failed: {exc}") from None
        status = str(update.get("status", ""))
        if status not in _STATUSES:
            raise _HttpError(400, f"Invalid check status: '{status}'")
        return self._ttl_update(request, cid, status, str(update.get("output", "")))

    def _ttl_update(
        self, request: web.Request, cid: str, status: str, output: str
    ) -> web.Response:
        check = self._writable_check(request, cid)
        if check.kind != "ttl":
            raise _HttpError(
                500, f"CheckID {_go_quote(cid)} does not have associated TTL"
            )
        limit = check.spec.output_max_size or _OUTPUT_MAX_SIZE
        check.ttl_output = _truncate_ttl_output(output, limit)
        self._set_status(check, status, check.ttl_output)
        self._start_runner(check)  # restarts the TTL timer
        return web.Response(status=200)

    # ---- check execution -------------------------------------------------- #

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # The coroutine itself, not a wrapper awaiting it: a stop() right after
        # start() cancels the task before it runs, and a wrapper would leave
        # the coroutine never awaited (a RuntimeWarning).
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _start_runner(self, check: _Check) -> None:
        if self._runner is None:  # not serving: runners start with start()
            return
        self._stop_runner(check.check_id)
        runner = self._runner_for(check)
        if runner is not None:
            task = asyncio.get_running_loop().create_task(runner)
            self._check_tasks[check.check_id] = task

    def _stop_runner(self, check_id: str) -> None:
        task = self._check_tasks.pop(check_id, None)
        if task is not None:
            task.cancel()

    def _runner_for(self, check: _Check) -> Coroutine[Any, Any, None] | None:
        if check.kind == "ttl":
            return self._ttl_timer(check)
        if check.kind in ("http", "tcp"):
            return self._interval_loop(check)
        if check.kind in _INTERVAL_KINDS:
            return self._unsupported_loop(check)
        return None

    async def _ttl_timer(self, check: _Check) -> None:
        await asyncio.sleep(check.spec.ttl / SECOND)
        expired = "TTL expired"
        if check.ttl_output:
            expired += f" (last output before timeout follows): {check.ttl_output}"
        self._set_status(check, CRITICAL, expired)

    async def _interval_loop(self, check: _Check) -> None:
        interval_s = check.spec.interval / SECOND
        # Consul staggers the first run randomly within one interval.
        await asyncio.sleep(random.uniform(0, interval_s))
        while True:
            try:
                status, output = await self._probe(check)
            except Exception as exc:  # a probe bug must not silently stop the check
                status, output = CRITICAL, f"{type(exc).__name__}: {exc}"
            self._record_result(check, status, output)
            await asyncio.sleep(interval_s)

    async def _unsupported_loop(self, check: _Check) -> None:
        await asyncio.sleep(random.uniform(0, check.spec.interval / SECOND))
        output = f"{check.kind} checks are not run by the Consul agent double"
        self._record_result(check, CRITICAL, output)

    async def _probe(self, check: _Check) -> tuple[str, str]:
        timeout_s = check.spec.timeout / SECOND
        if check.kind == "tcp":
            return await _probe_tcp(check.spec, timeout_s)
        assert self._session is not None
        return await _probe_http(self._session, check.spec, timeout_s)

    def _record_result(self, check: _Check, status: str, output: str) -> None:
        """Consul's StatusHandler: consecutive-success/failure thresholds."""
        if self._state.checks.get(check.check_id) is not check:
            return  # replaced or removed while the probe ran
        spec = check.spec
        if status in (PASSING, WARNING):
            check.successes, check.failures = check.successes + 1, 0
            if check.successes >= spec.success_before_passing:
                self._set_status(check, status, output)
            return
        check.failures, check.successes = check.failures + 1, 0
        to_critical = spec.failures_before_critical
        to_warning = spec.failures_before_warning or to_critical
        if check.failures >= to_critical:
            self._set_status(check, CRITICAL, output)
        elif check.failures >= to_warning:
            self._set_status(check, WARNING, output)

    def _set_status(self, check: _Check, status: str, output: str) -> None:
        # Only status changes reach the catalog at once (Consul defers
        # output-only changes), so only they move the index.
        check.output = output
        if status == check.status:
            return
        if status == CRITICAL:
            check.critical_since = self.clock()
        elif check.status == CRITICAL:
            check.critical_since = None
        check.status = status
        check.modify_index = self._state.bump(*self._service_names(check))

    async def _reaper_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reaper_interval)
            self._reap()

    def _reap(self) -> None:
        """Consul's reapServices: remove services critical for too long."""
        now = self.clock()
        doomed = {
            check.service_id
            for check in self._state.checks.values()
            if check.service_id
            and check.status == CRITICAL
            and check.critical_since is not None
            and check.spec.deregister_after > 0
            and now - check.critical_since > check.spec.deregister_after / SECOND
        }
        for service_id in doomed:
            if service_id in self._state.services:
                self._remove_service(service_id)

    # ---- JSON shapes ------------------------------------------------------ #

    def _sorted_services(self) -> list[tuple[str, _Registration]]:
        return sorted(self._state.services.items())

    def _agent_service_json(
        self, svc: _Registration, *, with_hash: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ID": svc.id,
            "Service": svc.name,
            "Tags": list(svc.tags),
            "Meta": dict(svc.meta),
            "Port": svc.port,
            "Address": svc.address,
            "Weights": {"Passing": svc.weights.passing, "Warning": svc.weights.warning},
            "EnableTagOverride": svc.enable_tag_override,
            "Datacenter": self.datacenter,
        }
        if svc.kind:
            body["Kind"] = svc.kind
        if svc.tagged_addresses:
            body["TaggedAddresses"] = svc.tagged_addresses
        if with_hash:
            body["ContentHash"] = _content_hash(body)
        return body

    def _check_json(self, check: _Check) -> dict[str, Any]:
        svc = self._state.services.get(check.service_id)
        declared = check.declared
        return {
            "Node": self.node_name,
            "CheckID": check.check_id,
            "Name": check.name,
            "Status": check.status,
            "Notes": check.notes,
            "Output": check.output,
            "ServiceID": check.service_id,
            "ServiceName": svc.name if svc else "",
            "ServiceTags": list(svc.tags) if svc else [],
            "Type": check.kind,
            "Interval": _duration_text(declared.interval),
            "Timeout": _duration_text(declared.timeout),
            "ExposedPort": 0,
            "Definition": _definition_json(declared),
            "CreateIndex": check.create_index,
            "ModifyIndex": check.modify_index,
        }

    def _serf_check_json(self) -> dict[str, Any]:
        return {
            "Node": self.node_name,
            "CheckID": "serfHealth",
            "Name": "Serf Health Status",
            "Status": PASSING,
            "Notes": "",
            "Output": "Agent alive and reachable",
            "ServiceID": "",
            "ServiceName": "",
            "ServiceTags": [],
            "Type": "",
            "Interval": "",
            "Timeout": "",
            "ExposedPort": 0,
            "Definition": {},
            "CreateIndex": 1,
            "ModifyIndex": 1,
        }

    def _tagged_node_addresses(self) -> dict[str, str]:
        addr = self.node_address
        return {"lan": addr, "lan_ipv4": addr, "wan": addr, "wan_ipv4": addr}

    def _node_json(self) -> dict[str, Any]:
        return {
            "ID": self.node_id,
            "Node": self.node_name,
            "Address": self.node_address,
            "Datacenter": self.datacenter,
            "TaggedAddresses": self._tagged_node_addresses(),
            "Meta": self._node_meta(),
            "CreateIndex": 1,
            "ModifyIndex": 1,
        }

    def _node_meta(self) -> dict[str, str]:
        builtin = {"consul-network-segment": "", "consul-version": _CONSUL_VERSION}
        return builtin | self.node_meta

    def _health_service_json(self, svc: _Registration) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ID": svc.id,
            "Service": svc.name,
            "Tags": list(svc.tags),
            "Address": svc.address,
            "Meta": dict(svc.meta),
            "Port": svc.port,
            "Weights": {"Passing": svc.weights.passing, "Warning": svc.weights.warning},
            "EnableTagOverride": svc.enable_tag_override,
            "Proxy": {"Mode": "", "MeshGateway": {}, "Expose": {}},
            "Connect": {},
            "CreateIndex": svc.create_index,
            "ModifyIndex": svc.modify_index,
        }
        if svc.tagged_addresses:
            body["TaggedAddresses"] = svc.tagged_addresses
        return body

    def _catalog_service_json(self, svc: _Registration) -> dict[str, Any]:
        return {
            "ID": self.node_id,
            "Node": self.node_name,
            "Address": self.node_address,
            "Datacenter": self.datacenter,
            "TaggedAddresses": self._tagged_node_addresses(),
            "NodeMeta": self._node_meta(),
            "ServiceKind": svc.kind,
            "ServiceID": svc.id,
            "ServiceName": svc.name,
            "ServiceTags": list(svc.tags),
            "ServiceAddress": svc.address,
            "ServiceTaggedAddresses": svc.tagged_addresses or None,
            "ServiceWeights": {
                "Passing": svc.weights.passing,
                "Warning": svc.weights.warning,
            },
            "ServiceMeta": dict(svc.meta),
            "ServicePort": svc.port,
            "ServiceSocketPath": "",
            "ServiceEnableTagOverride": svc.enable_tag_override,
            "ServiceProxy": {"Mode": "", "MeshGateway": {}, "Expose": {}},
            "ServiceConnect": {},
            "CreateIndex": svc.create_index,
            "ModifyIndex": svc.modify_index,
        }

    def _tagged(self, name: str, tags: list[str]) -> list[_Registration]:
        # Consul compares tags case-insensitively; several ?tag= must all match.
        wanted = [t.lower() for t in tags]
        found = [
            s
            for s in self._state.instances(name)
            if all(w in {t.lower() for t in s.tags} for w in wanted)
        ]
        return sorted(found, key=lambda s: s.id)

    def _health_entries(
        self, name: str, passing: bool, tags: list[str]
    ) -> list[dict[str, Any]]:
        entries = []
        for svc in self._tagged(name, tags):
            # node-level checks (serfHealth, node maintenance, checks registered
            # without a ServiceID) count for every service on the node
            own = self._state.checks_of("") + self._state.checks_of(svc.id)
            checks = [self._serf_check_json()] + [self._check_json(c) for c in own]
            if passing and any(c["Status"] != PASSING for c in checks):
                continue
            entries.append(
                {
                    "Node": self._node_json(),
                    "Service": self._health_service_json(svc),
                    "Checks": checks,
                }
            )
        return entries

    def _catalog_services_json(
        self, keep: _Predicate = lambda entry: True
    ) -> dict[str, list[str]]:
        # ?filter= applies to each service instance (the flat catalog entry)
        result: dict[str, list[str]] = {"consul": []}
        for _, svc in self._sorted_services():
            if not keep(self._catalog_service_json(svc)):
                continue
            tags = result.setdefault(svc.name, [])
            tags.extend(t for t in svc.tags if t not in tags)
        return result

    # ---- read endpoints --------------------------------------------------- #

    async def _get_agent_services(self, request: web.Request, _: str) -> web.Response:
        keep = _request_filter(request)
        if not self._authorized(request):
            return self._json(request, {})
        found = {k: v for k, v in self.services().items() if keep(v)}
        return self._json(request, found)

    async def _get_agent_checks(self, request: web.Request, _: str) -> web.Response:
        keep = _request_filter(request)
        if not self._authorized(request):
            return self._json(request, {})
        found = {k: v for k, v in self.checks().items() if keep(v)}
        return self._json(request, found)

    async def _get_agent_service(self, request: web.Request, sid: str) -> web.Response:
        blocking = _parse_wait(request)  # Consul parses ?wait/?index first
        self._authorized(request)
        service = self._state.services.get(sid)
        if service is None:
            raise _HttpError(404, f"unknown service ID: {sid}")
        self._require(request, "service:read", service.name)
        wanted_hash = request.query.get("hash", "")
        if wanted_hash:
            await self._wait_for_new_hash(sid, wanted_hash, blocking.wait_s)
        current = self.service(sid)
        if current is None:  # removed while we waited
            raise _HttpError(404, f"unknown service ID: {sid}")
        response = self._json(request, current)
        response.headers["X-Consul-ContentHash"] = current["ContentHash"]
        return response

    async def _wait_for_new_hash(self, sid: str, wanted: str, wait_s: float) -> None:
        def changed() -> bool:
            current = self.service(sid)
            return current is None or current["ContentHash"] != wanted

        await self._state.wait(changed, wait_s)

    async def _blocking_read(
        self, blocking: _Blocking, index_of: Callable[[], int]
    ) -> int:
        """Hold the request while ``index_of()`` <= ?index (bounded by ?wait)."""
        if blocking.min_index > 0:
            await self._state.wait(
                lambda: index_of() > blocking.min_index, blocking.wait_s
            )
        return max(index_of(), 1)

    async def _get_health_service(
        self, request: web.Request, name: str
    ) -> web.Response:
        blocking = _parse_blocking(request)
        _require_name(name)
        passing = _query_flag(request, "passing")
        keep = _request_filter(request)
        index = await self._blocking_read(
            blocking, lambda: self._state.service_index(name)
        )
        if not self._visible(request):
            return self._json(request, [], index)
        tags = request.query.getall("tag", [])
        entries = self._health_entries(name, passing, tags)
        return self._json(request, [e for e in entries if keep(e)], index)

    async def _get_catalog_service(
        self, request: web.Request, name: str
    ) -> web.Response:
        blocking = _parse_blocking(request)
        _require_name(name)
        keep = _request_filter(request)
        index = await self._blocking_read(
            blocking, lambda: self._state.service_index(name)
        )
        if not self._visible(request):
            return self._json(request, [], index)
        found = self._tagged(name, request.query.getall("tag", []))
        payload = [self._catalog_service_json(s) for s in found]
        return self._json(request, [e for e in payload if keep(e)], index)

    async def _get_catalog_services(self, request: web.Request, _: str) -> web.Response:
        blocking = _parse_blocking(request)
        keep = _request_filter(request)
        index = await self._blocking_read(blocking, lambda: self._state.services_index)
        if not self._visible(request):
            return self._json(request, {}, index)
        return self._json(request, self._catalog_services_json(keep), index)

    def _visible(self, request: web.Request) -> bool:
        """Whether this node's services show: ACLs allow it and every
        ?node-meta=key:value matches the node's meta."""
        if not self._authorized(request):
            return False
        meta = self._node_meta()
        wanted = [p.partition(":") for p in request.query.getall("node-meta", [])]
        return all(meta.get(key) == value for key, _, value in wanted)

    # ---- local service health (/v1/agent/health/service/...) -------------- #

    def _local_health(self, svc: _Registration) -> tuple[int, str, dict[str, Any]]:
        """(HTTP code, aggregated status, AgentServiceChecksInfo) of one instance."""
        checks = self._state.checks_of("") + self._state.checks_of(svc.id)
        status = _aggregated_status(checks)
        code = {PASSING: 200, WARNING: 429}.get(status, 503)
        info = {
            "AggregatedStatus": status,
            "Service": self._agent_service_json(svc),
            "Checks": [self._check_json(c) for c in checks],
        }
        return code, status, info

    async def _get_local_health_by_id(
        self, request: web.Request, sid: str
    ) -> web.Response:
        if not sid:
            raise _HttpError(400, "Missing serviceID")
        self._authorized(request)
        svc = self._state.services.get(sid)
        if svc is None:
            reason = f"ServiceId {sid} not found"
            body: object = {
                "AggregatedStatus": CRITICAL,
                "Service": None,
                "Checks": None,
            }
            return self._local_health_reply(request, 404, reason, body)
        self._require(request, "service:read", svc.name)
        code, status, info = self._local_health(svc)
        return self._local_health_reply(request, code, status, info)

    async def _get_local_health_by_name(
        self, request: web.Request, name: str
    ) -> web.Response:
        if not name:
            raise _HttpError(400, "Missing service Name")
        self._require(request, "service:read", name)
        code, status = 404, f"ServiceName {name} Not Found"
        infos = []
        for svc in self._tagged(name, []):
            one_code, one_status, info = self._local_health(svc)
            infos.append(info)
            # the worst instance wins: 200 < 429 < 503
            if code == 404 or one_code > code:
                code, status = one_code, one_status
        return self._local_health_reply(request, code, status, infos)

    def _local_health_reply(
        self, request: web.Request, code: int, status: str, body: object
    ) -> web.Response:
        """JSON, or the bare status with ?format=text / Accept: text/plain."""
        if _wants_text(request):
            return _text(code, status)
        response = self._json(request, body)
        response.set_status(code)
        return response

    async def _get_agent_self(self, request: web.Request, _: str) -> web.Response:
        self._require(request, "agent:read", self.node_name)
        payload = {
            "Config": {
                "Datacenter": self.datacenter,
                "NodeName": self.node_name,
                "NodeID": self.node_id,
                "Version": _CONSUL_VERSION,
                "Server": True,
            },
            "Member": {"Name": self.node_name, "Addr": self.node_address, "Status": 1},
            "Meta": self._node_meta(),
        }
        return self._json(request, payload)

    async def _get_leader(self, request: web.Request, _: str) -> web.Response:
        return self._json(request, f"{self.node_address}:8300")

    async def _get_peers(self, request: web.Request, _: str) -> web.Response:
        return self._json(request, [f"{self.node_address}:8300"])


def _maintenance_flag(request: web.Request) -> bool:
    """?enable= of the maintenance endpoints, parsed like Go's ParseBool."""
    if "enable" not in request.query:
        raise _HttpError(400, "Missing value for enable")
    raw = request.query["enable"]
    enable = _parse_go_bool(raw)
    if enable is None:
        raise _HttpError(400, f"Invalid value for enable: {json.dumps(raw)}")
    return enable


def _aggregated_status(checks: Iterable[_Check]) -> str:
    """Consul's HealthChecks.AggregatedStatus(): maintenance beats critical,
    critical beats warning; no checks at all is passing."""
    statuses = set()
    for check in checks:
        if check.kind == "maintenance":
            return "maintenance"
        statuses.add(check.status)
    return next((s for s in (CRITICAL, WARNING) if s in statuses), PASSING)


def _wants_text(request: web.Request) -> bool:
    if request.headers.get("Accept", "").startswith("text/plain"):
        return True
    return request.query.get("format", "") == "text"


_LOG: Final = logging.getLogger(__name__)


def _warn_if_not_dns_safe(name: str) -> None:
    # Consul accepts such names and only logs; the product validates its own.
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in name):
        _LOG.warning(
            "Service name will not be discoverable via DNS due to invalid "
            "characters. Valid characters include all alpha-numerics and dashes. "
            "service=%s",
            name,
        )
    elif len(name.encode()) > 63:
        _LOG.warning(
            "Service name will not be discoverable via DNS due to it being too "
            "long. Valid lengths are between 1 and 63 bytes. service=%s",
            name,
        )


def _duration_text(nanos: int) -> str:
    """A check's Interval/Timeout as Consul shows them: "" when not set."""
    return format_go_duration(nanos) if nanos else ""


def _ip_version(address: str) -> int | None:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return None


# Consul's validateService checks these three (its wan_ipv6 check is a typo for
# a second lan_ipv6 one, so wan_ipv6 goes unchecked there too).
_TAGGED_ADDRESS_VERSIONS: Final = (("lan_ipv4", 4), ("wan_ipv4", 4), ("lan_ipv6", 6))


def _tagged_address_error(tagged: Mapping[str, Mapping[str, Any]]) -> str | None:
    for key, version in _TAGGED_ADDRESS_VERSIONS:
        if (
            key in tagged
            and _ip_version(str(tagged[key].get("Address", ""))) != version
        ):
            return (
                f"Service tagged address {_go_quote(key)} must be a valid "
                f"ipv{version} address"
            )
    return None


def _default_tagged_addresses(spec: _RegistrationSpec) -> dict[str, Any]:
    """Consul adds lan/wan tagged addresses for a service with an IP address."""
    tagged: dict[str, Any] = dict(spec.tagged_addresses)
    version = _ip_version(spec.address)
    if version is not None:
        own = {"Address": spec.address, "Port": spec.port}
        for scope in ("lan", "wan"):
            tagged.setdefault(f"{scope}_ipv{version}", dict(own))
    return tagged


def _clean_path(path: str) -> str:
    """Go's path.Clean as ServeMux applies it (a trailing slash is kept)."""
    cleaned = posixpath.normpath(re.sub("/+", "/", path or "/"))
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def _require_name(name: str) -> None:
    if not name:
        raise _HttpError(400, "Missing service name")


def _same_check(previous: _Check | None, check: _Check) -> bool:
    if previous is None:
        return False
    same = ("name", "service_id", "spec", "notes", "status")
    return all(getattr(previous, a) == getattr(check, a) for a in same)


def _content_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _definition_json(spec: _CheckSpec) -> dict[str, Any]:
    """The non-empty fields of Consul's HealthCheckDefinition."""
    durations = {
        "Interval": spec.interval,
        "Timeout": spec.timeout,
        "TTL": spec.ttl,
        "DeregisterCriticalServiceAfter": spec.deregister_after,
    }
    plain: dict[str, Any] = {
        "HTTP": spec.http,
        "Header": spec.header,
        "Method": spec.method,
        "Body": spec.body,
        "TCP": spec.tcp,
        "GRPC": spec.grpc,
        "TLSServerName": spec.tls_server_name,
        "TLSSkipVerify": spec.tls_skip_verify,
    }
    body = {k: v for k, v in plain.items() if v}
    body.update({k: format_go_duration(v) for k, v in durations.items() if v})
    return body


# --------------------------------------------------------------------------- #
# CLI                                                                         #
# --------------------------------------------------------------------------- #


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a Consul agent test double.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8500, help="0 picks a free port")
    parser.add_argument("--node-name", default="consul-agent-double")
    parser.add_argument("--datacenter", default="dc1")
    parser.add_argument(
        "--acl-token",
        action="append",
        default=None,
        help="enable ACLs (default deny) and accept this secret; repeatable",
    )
    parser.add_argument("--min-check-interval", type=float, default=1.0)
    parser.add_argument("--deregister-minimum", type=float, default=60.0)
    parser.add_argument("--reaper-interval", type=float, default=30.0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument(
        "--tls-client-ca", help="require client certificates issued by this PEM CA"
    )
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_client_ca is not None and args.tls_cert is None:
        parser.error("--tls-client-ca needs --tls-cert and --tls-key")
    return args


@contextlib.asynccontextmanager
async def _stop_signals() -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _serve(args: argparse.Namespace) -> None:
    double = ConsulAgentDouble(
        node_name=args.node_name,
        datacenter=args.datacenter,
        acl_tokens=args.acl_token,
        min_check_interval=args.min_check_interval,
        deregister_minimum=args.deregister_minimum,
        reaper_interval=args.reaper_interval,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
    )
    async with _stop_signals() as stop:
        await double.start(host=args.host, port=args.port)
        print(f"listening {double.address}", flush=True)
        try:
            await stop.wait()
        finally:
            await double.stop()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(_serve(_parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
