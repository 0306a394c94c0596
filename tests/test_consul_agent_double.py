"""Tests of the Consul agent double every package ships, through real HTTP.

They run once per `make test`, here, against the double of one render
(tests/conftest.py puts it on sys.path before this module is imported), with
the fixtures and helpers the package's own tests use.

Tests using the ``consul_agent`` fixture hold for a real Consul 1.20-1.22 agent too
(set CONSUL_HTTP_ADDR); those needing the double's own features use
``consul_double`` (skipped against a real agent) or build a double themselves.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import consul  # type: ignore[import-untyped]
import consul.aio  # type: ignore[import-untyped]
import pytest
import trustme
from agent_http_support import agent_http
from aiohttp import web
from tests.managed.agent_handle import (  # fixtures the tests below take
    ConsulAgentHandle,
    DoubleFactory,
    consul_agent,
    consul_double,
    consul_double_factory,
    real_agent,
)
from tests.managed.consul_agent_double import (
    ConsulAgentDouble,
    format_go_duration,
)
from tests.managed.consul_agent_double import (
    main as double_main,
)
from tests.managed.helpers import wait_until
from tests.managed.ports import refused_port

from scripts.rendering import RenderedPackage

__all__ = ["consul_agent", "consul_double", "consul_double_factory"]


# py-consul 1.8 itself triggers this aiohttp deprecation when building its client.
pytestmark = pytest.mark.filterwarnings(
    "ignore:ssl_context is deprecated:DeprecationWarning"
)

# --------------------------------------------------------------------------- #
# helpers                                                                     #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.text)


class AgentApi:
    """Raw HTTP access to an agent; deregisters what it registered at the end."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.registered: set[str] = set()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        raw: bytes | None = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        async with self.session.request(
            method, path, data=data, params=params, headers=headers
        ) as response:
            text = await response.text()
            return Reply(response.status, text, dict(response.headers))

    async def register(self, body: Mapping[str, Any], **kwargs: Any) -> Reply:
        reply = await self.call(
            "PUT", "/v1/agent/service/register", body=body, **kwargs
        )
        if reply.status == 200:
            keys = {k.lower(): v for k, v in body.items()}
            self.registered.add(str(keys.get("id") or keys.get("name")))
        return reply

    async def checks(self) -> dict[str, Any]:
        reply = await self.call("GET", "/v1/agent/checks")
        assert reply.status == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result

    async def health(self, name: str, **params: Any) -> tuple[list[Any], Reply]:
        reply = await self.call("GET", f"/v1/health/service/{name}", params=params)
        assert reply.status == 200, reply.text
        return reply.json(), reply

    async def cleanup(self) -> None:
        for service_id in self.registered:
            await self.call("PUT", f"/v1/agent/service/deregister/{service_id}")


@pytest.fixture
async def api(consul_agent: ConsulAgentHandle) -> AsyncIterator[AgentApi]:
    async with agent_http(consul_agent) as session:
        agent_api = AgentApi(session)
        yield agent_api
        await agent_api.cleanup()


@asynccontextmanager
async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """A small HTTP server on 127.0.0.1; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def respond(
    status: int, body: str = ""
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body)

    return handler


@asynccontextmanager
async def fast_double(
    **options: Any,
) -> AsyncIterator[tuple[ConsulAgentDouble, AgentApi]]:
    """A double with shrunk timings, plus an API client for it."""
    options.setdefault("min_check_interval", 0.05)
    async with (
        ConsulAgentDouble(**options) as double,
        aiohttp.ClientSession(f"http://{double.address}") as session,
    ):
        yield double, AgentApi(session)


def py_consul_client(handle: ConsulAgentHandle) -> Any:
    """py-consul's asyncio client for the agent under test (an async context)."""
    host, port = handle.http_addr.rsplit(":", 1)
    return consul.aio.Consul(
        host=host, port=int(port), scheme=handle.scheme, token=handle.token
    )


async def until_received(agent: ConsulAgentHandle, path: str, times: int = 1) -> None:
    """Wait until the double has received ``path`` ``times`` times; a real agent
    offers no such view, so there the caller just races ahead."""
    double = agent.double
    if double is not None:
        await double.wait_for(
            lambda: sum(r.path == path for r in double.requests) >= times
        )


def status_of(double: ConsulAgentDouble, check_id: str) -> str | None:
    check = double.checks().get(check_id)
    return None if check is None else str(check["Status"])


# --------------------------------------------------------------------------- #
# Go durations                                                                #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "0s"),
        (10**9, "1s"),
        (90 * 10**9, "1m30s"),
        (60 * 10**9, "1m0s"),
        (3600 * 10**9, "1h0m0s"),
        (1_500_000_000, "1.5s"),
        (250_000_000, "250ms"),
        (1_500, "1.5µs"),
        (42, "42ns"),
        (-(10**9), "-1s"),
    ],
)
def test_format_go_duration_matches_go(nanos: int, text: str) -> None:
    assert format_go_duration(nanos) == text


# --------------------------------------------------------------------------- #
# registration                                                                #
# --------------------------------------------------------------------------- #


async def test_register_answers_200_empty_and_id_defaults_to_name(
    api: AgentApi, name: str
) -> None:
    reply = await api.register({"Name": name, "Port": 8080, "Tags": ["a"]})
    assert (reply.status, reply.text) == (200, "")

    services = (await api.call("GET", "/v1/agent/services")).json()
    svc = services[name]
    assert svc["ID"] == name
    assert svc["Service"] == name
    assert svc["Tags"] == ["a"]
    assert svc["Meta"] == {}
    assert svc["Port"] == 8080
    assert svc["Address"] == ""
    assert svc["Weights"] == {"Passing": 1, "Warning": 1}
    assert svc["EnableTagOverride"] is False
    assert isinstance(svc["Datacenter"], str)


async def test_agent_services_never_null_tags_or_meta(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Tags": None, "Meta": None})
    svc = (await api.call("GET", "/v1/agent/services")).json()[name]
    assert (svc["Tags"], svc["Meta"]) == ([], {})


async def test_register_with_py_consul_lowercase_keys(
    consul_agent: ConsulAgentHandle, name: str
) -> None:
    async with py_consul_client(consul_agent) as client:
        check = consul.Check.http(
            "http://127.0.0.1:1/health", "10s", timeout="5s", deregister="90s"
        )
        ok = await client.agent.service.register(
            name,
            service_id=f"{name}-1",
            address="10.1.2.3",
            port=8080,
            tags=["v1", "effect"],
            meta={"domain": "default"},
            weights={"Passing": 3, "Warning": 1},
            check=check,
            replace_existing_checks=True,
        )
        assert ok is True
        try:
            services = await client.agent.services()
            svc = services[f"{name}-1"]
            assert svc["Service"] == name
            assert svc["Address"] == "10.1.2.3"
            assert svc["Meta"] == {"domain": "default"}
            assert svc["Weights"] == {"Passing": 3, "Warning": 1}
            checks = await client.agent.checks()
            assert checks[f"service:{name}-1"]["Timeout"] == "5s"
            _, nodes = await client.health.service(name)
            assert [n["Service"]["ID"] for n in nodes] == [f"{name}-1"]
        finally:
            assert await client.agent.service.deregister(f"{name}-1") is True
        # py-consul turns the 404 of an unknown ID into False
        assert await client.agent.service.deregister(f"{name}-1") is False


async def test_snake_case_and_any_case_keys_are_accepted(
    api: AgentApi, name: str
) -> None:
    body = {
        "name": name,
        "ENABLE_TAG_OVERRIDE": True,
        "tagged_addresses": {"lan": {"Address": "10.0.0.1", "Port": 80}},
        "check": {
            "ttl": "30s",
            "deregister_critical_service_after": "5m",
            "TLS_Skip_Verify": True,
            "successbeforepassing": 2,  # Go matches field names case-insensitively
            "FAILURESBEFORECRITICAL": 3,
            "service_id": "ignored",
            "Status": "passing",
        },
    }
    reply = await api.register(body)
    assert (reply.status, reply.text) == (200, "")
    svc = (await api.call("GET", f"/v1/agent/service/{name}")).json()
    assert svc["EnableTagOverride"] is True
    assert svc["TaggedAddresses"]["lan"]["Address"] == "10.0.0.1"
    check = (await api.checks())[f"service:{name}"]
    assert (check["Status"], check["ServiceID"]) == ("passing", name)


@pytest.mark.parametrize(
    "key", ["success_before_passing", "failures_before_critical", "check_id"]
)
async def test_snake_case_outside_consuls_alias_list_is_unknown(
    api: AgentApi, key: str
) -> None:
    # Consul translates only a fixed list of snake_case keys; the rest are
    # unknown fields to a real agent, so the double refuses them too.
    reply = await api.register({"Name": "x", "Check": {"TTL": "10s", key: 1}})
    assert (reply.status, reply.text) == (
        400,
        f'Request decode failed: json: unknown field "{key}"',
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"Name": "x", "Colour": "blue"}, "Colour"),
        ({"Name": "x", "Check": {"TTL": "10s", "Frequency": "1s"}}, "Frequency"),
        ({"Name": "x", "Checks": [{"TTL": "10s", "id": "c1"}]}, "id"),
        ({"Name": "x", "Weights": {"Passing": 1, "Heavy": 2}}, "Heavy"),
    ],
)
async def test_unknown_field_is_a_decode_error(
    api: AgentApi, body: dict[str, Any], field: str
) -> None:
    reply = await api.register(body)
    assert reply.status == 400
    assert reply.text == f'Request decode failed: json: unknown field "{field}"'


def _meta(pairs: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(pairs)}


_HTTP_CHECK = {"HTTP": "http://127.0.0.1:1/health", "Interval": "10s"}

# (case id, body, exact 400 body); later steps are also broken to prove the order.
VALIDATION_CASES: list[tuple[str, object, str]] = [
    (
        "bad-duration",
        {"Name": "", "Check": {"HTTP": "http://x", "Interval": "10"}},
        'Request decode failed: time: missing unit in duration "10"',
    ),
    (
        "bad-unit",
        {"Name": "", "Check": {"TTL": "5y"}},
        'Request decode failed: time: unknown unit "y" in duration "5y"',
    ),
    (
        "wrong-type",
        {"Name": "x", "Port": "80"},
        "Request decode failed: json: cannot unmarshal string into Go struct "
        "field ServiceDefinition.Port of type int",
    ),
    ("missing-name", {"Address": "0.0.0.0"}, "Missing service name"),
    ("empty-name", {"Name": "", "Weights": {"Passing": 0}}, "Missing service name"),
    (
        "any-v4",
        {"Name": "x", "Address": "0.0.0.0", "Weights": {"Passing": 0}},
        "Invalid service address",
    ),
    ("any-v6", {"Name": "x", "Address": "::"}, "Invalid service address"),
    (
        "weights-passing",
        {"Name": "x", "Weights": {"Passing": 0, "Warning": 1}, "Meta": {"": "v"}},
        "Invalid Weights: Passing must be greater than 0",
    ),
    (
        "weights-warning",
        {"Name": "x", "Weights": {"Passing": 1, "Warning": -1}},
        "Invalid Weights: Warning must be greater or equal than 0",
    ),
    (
        "meta-blank",
        {"Name": "x", "Meta": {"": "v"}, "Check": {"HTTP": "http://x"}},
        "Invalid Service Meta: Couldn't load metadata pair ('', 'v'): "
        "Key cannot be blank",
    ),
    (
        "meta-charset",
        {"Name": "x", "Meta": {"a.b": "v"}},
        "Invalid Service Meta: Couldn't load metadata pair ('a.b', 'v'): "
        "Key contains invalid characters",
    ),
    (
        "meta-key-length",
        {"Name": "x", "Meta": {"k" * 129: "v"}},
        f"Invalid Service Meta: Couldn't load metadata pair ('{'k' * 129}', 'v'): "
        "Key is too long (limit: 128 characters)",
    ),
    (
        "meta-prefix",
        {"Name": "x", "Meta": {"consul-x": "v"}},
        "Invalid Service Meta: Couldn't load metadata pair ('consul-x', 'v'): "
        "Key prefix 'consul-' is reserved for internal use",
    ),
    (
        "meta-value-length",
        {"Name": "x", "Meta": {"k": "v" * 513}},
        f"Invalid Service Meta: Couldn't load metadata pair ('k', '{'v' * 513}'): "
        "Value is too long (limit: 512 characters)",
    ),
    (
        "meta-pairs",
        {"Name": "x", "Meta": _meta(65)},
        "Invalid Service Meta: Node metadata cannot contain more than 64 "
        "key/value pairs",
    ),
    (
        "interval-required",
        {"Name": "x", "Check": {"HTTP": "http://x", "Status": "bogus"}},
        "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP "
        "or OSService checks",
    ),
    (
        "interval-required-tcp",
        {"Name": "x", "Checks": [_HTTP_CHECK, {"TCP": "127.0.0.1:1"}]},
        "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP "
        "or OSService checks",
    ),
    (
        "interval-and-ttl",
        {"Name": "x", "Check": {"TTL": "10s", "Interval": "10s"}},
        "Invalid check: Interval and TTL cannot both be specified",
    ),
    (
        "check-not-object",
        {"Name": "x", "Checks": ["a"]},
        "Request decode failed: json: cannot unmarshal string into Go struct "
        "field ServiceDefinition.Checks of type structs.CheckType",
    ),
    (
        "untyped-check",
        {"Name": "x", "Checks": [{"Name": "no type"}]},
        "Invalid check: TTL must be > 0 for TTL checks",
    ),
    (
        "bad-status",
        {"Name": "x", "Checks": [_HTTP_CHECK | {"Status": "ok"}]},
        "Status for checks must 'passing', 'warning', 'critical'",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [pytest.param(body, text, id=case) for case, body, text in VALIDATION_CASES],
)
async def test_validation_errors_in_documented_order(
    api: AgentApi, body: dict[str, Any], expected: str
) -> None:
    reply = await api.register(body)
    assert (reply.status, reply.text) == (400, expected)
    assert reply.headers["Content-Type"].startswith("text/plain")
    services = (await api.call("GET", "/v1/agent/services")).json()
    assert "x" not in services


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"not json", b"[1]"], ids=["empty", "eof", "garbage", "array"]
)
async def test_undecodable_body_is_400_decode_failed(api: AgentApi, raw: bytes) -> None:
    reply = await api.call("PUT", "/v1/agent/service/register", raw=raw)
    assert reply.status == 400
    assert reply.text.startswith("Request decode failed: ")


async def test_ip_addresses_get_default_tagged_addresses(
    api: AgentApi, name: str
) -> None:
    await api.register(
        {
            "Name": name,
            "Address": "10.1.2.3",
            "Port": 80,
            "TaggedAddresses": {"lan": {"address": "10.9.9.9", "port": 81}},
        }
    )
    svc = (await api.call("GET", f"/v1/agent/service/{name}")).json()
    assert svc["TaggedAddresses"] == {
        "lan": {"Address": "10.9.9.9", "Port": 81},
        "lan_ipv4": {"Address": "10.1.2.3", "Port": 80},
        "wan_ipv4": {"Address": "10.1.2.3", "Port": 80},
    }


async def test_bad_ipv4_tagged_address_is_refused(api: AgentApi, name: str) -> None:
    body = {"Name": name, "TaggedAddresses": {"lan_ipv4": {"Address": "nope"}}}
    reply = await api.register(body)
    assert (reply.status, reply.text) == (
        500,
        'Service tagged address "lan_ipv4" must be a valid ipv4 address',
    )


async def test_service_names_are_not_validated(api: AgentApi, name: str) -> None:
    odd = f"{name}_Not.DNS"
    reply = await api.register({"Name": odd})
    assert (reply.status, reply.text) == (200, "")
    assert odd in (await api.call("GET", "/v1/catalog/services")).json()


async def test_unclean_paths_redirect_like_go(api: AgentApi) -> None:
    reply = await api.session.get("/v1/agent//services", allow_redirects=False)
    assert reply.status == 301
    assert reply.headers["Location"] == "/v1/agent/services"
    reply.release()


async def test_meta_at_the_limits_is_accepted(api: AgentApi, name: str) -> None:
    meta = _meta(63) | {"k" * 128: "v" * 512}
    reply = await api.register({"Name": name, "Meta": meta})
    assert (reply.status, reply.text) == (200, "")


# --------------------------------------------------------------------------- #
# checks inside a service                                                     #
# --------------------------------------------------------------------------- #


async def test_durations_strings_and_nanoseconds(api: AgentApi, name: str) -> None:
    checks = [
        {"HTTP": "http://127.0.0.1:1/a", "Interval": "1m30s", "Timeout": "1.5s"},
        {"HTTP": "http://127.0.0.1:1/b", "Interval": 2_000_000_000},
        {"TCP": "127.0.0.1:1", "Interval": "250ms"},
    ]
    assert (await api.register({"Name": name, "Checks": checks})).status == 200
    found = await api.checks()
    first, second, third = (found[f"service:{name}:{i}"] for i in (1, 2, 3))
    assert (first["Interval"], first["Timeout"]) == ("1m30s", "1.5s")
    # Consul shows what was asked: no Timeout given is "" (10s is used)
    assert (second["Interval"], second["Timeout"]) == ("2s", "")
    # ... and 250ms stays "250ms" on display, though it runs every second
    assert (third["Interval"], third["Type"]) == ("250ms", "tcp")


async def test_interval_below_one_second_runs_every_second() -> None:
    probes: list[float] = []

    async def record(request: web.Request) -> web.Response:
        probes.append(time.monotonic())
        return web.Response(text="ok")

    async with serve(record) as base, ConsulAgentDouble() as double:
        async with aiohttp.ClientSession(f"http://{double.address}") as session:
            check = {"HTTP": base, "Interval": "100ms"}
            await AgentApi(session).register({"Name": "web", "Check": check})
        await wait_until(lambda: len(probes) >= 2, 4.0, "two probes")
    assert probes[1] - probes[0] >= 0.95


async def test_check_id_and_name_conventions(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "ID": f"{name}-a", "Check": {"TTL": "30s"}})
    await api.register(
        {
            "Name": name,
            "ID": f"{name}-b",
            "Checks": [
                {"TTL": "30s"},
                {"TTL": "30s", "Name": "custom", "Status": "warning"},
                {"TTL": "30s", "CheckID": "my-own-id", "Notes": "n"},
            ],
        }
    )
    found = await api.checks()
    single = found[f"service:{name}-a"]
    assert single["Name"] == f"Service '{name}' check"
    assert single["Status"] == "critical"  # default initial status
    assert (single["ServiceID"], single["ServiceName"]) == (f"{name}-a", name)
    assert single["Type"] == "ttl"
    assert found[f"service:{name}-b:1"]["Name"] == f"Service '{name}' check"
    second = found[f"service:{name}-b:2"]
    assert (second["Name"], second["Status"]) == ("custom", "warning")
    assert found["my-own-id"]["Notes"] == "n"
    assert f"service:{name}-b:3" not in found


async def test_deregister_critical_after_has_a_one_minute_floor(
    consul_double: ConsulAgentDouble, api: AgentApi, name: str
) -> None:
    checks = [
        {"TTL": "30s", "DeregisterCriticalServiceAfter": "10s"},
        {"TTL": "30s", "DeregisterCriticalServiceAfter": "90s"},
    ]
    await api.register({"Name": name, "Checks": checks})
    assert consul_double.deregister_after(f"service:{name}:1") == 60.0
    assert consul_double.deregister_after(f"service:{name}:2") == 90.0
    # the API shows the value as registered
    shown = consul_double.checks()[f"service:{name}:1"]["Definition"]
    assert shown["DeregisterCriticalServiceAfter"] == "10s"


async def test_reregistering_keeps_status_unless_replace_existing_checks(
    api: AgentApi, name: str
) -> None:
    two_checks = {
        "Name": name,
        "Checks": [{"TTL": "30s", "CheckID": "c1"}, {"TTL": "30s", "CheckID": "c2"}],
    }
    await api.register(two_checks)
    assert (await api.call("PUT", "/v1/agent/check/pass/c1")).status == 200

    # Re-register with only c1, tags changed: c1 keeps "passing", c2 survives.
    only_c1 = {
        "Name": name,
        "Tags": ["new"],
        "Checks": [{"TTL": "30s", "CheckID": "c1"}],
    }
    assert (await api.register(only_c1)).status == 200
    found = await api.checks()
    assert found["c1"]["Status"] == "passing"
    assert found["c1"]["ServiceTags"] == ["new"]
    assert "c2" in found

    # Only "" or "true" switch replace-existing-checks on.
    reply = await api.register(only_c1, params={"replace-existing-checks": "1"})
    assert reply.status == 200
    assert "c2" in await api.checks()

    # With replace-existing-checks, c2 (missing from the request) goes.
    reply = await api.register(only_c1, params={"replace-existing-checks": "true"})
    assert reply.status == 200
    found = await api.checks()
    assert "c2" not in found
    assert found["c1"]["Status"] == "passing"


async def test_script_checks_are_disabled_like_a_default_agent(
    api: AgentApi, name: str
) -> None:
    body = {"Name": name, "Check": {"Args": ["/bin/true"], "Interval": "10s"}}
    reply = await api.register(body)
    assert reply.status == 500
    assert reply.text.startswith("Scripts are disabled on this agent")


# --------------------------------------------------------------------------- #
# deregistration and agent reads                                              #
# --------------------------------------------------------------------------- #


async def test_deregister_removes_service_and_its_checks(
    api: AgentApi, name: str
) -> None:
    await api.register({"Name": name, "Check": {"TTL": "30s"}})
    reply = await api.call("PUT", f"/v1/agent/service/deregister/{name}")
    assert (reply.status, reply.text) == (200, "")
    assert name not in (await api.call("GET", "/v1/agent/services")).json()
    assert f"service:{name}" not in await api.checks()


async def test_deregister_unknown_id_is_404_with_consul_text(api: AgentApi) -> None:
    reply = await api.call("PUT", "/v1/agent/service/deregister/nope")
    assert reply.status == 404
    assert reply.text == (
        'Unknown service ID "nope". Ensure that the service ID is passed, '
        "not the service name."
    )


async def test_agent_service_by_id_has_content_hash(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Port": 1})
    first = await api.call("GET", f"/v1/agent/service/{name}")
    assert first.status == 200
    assert first.headers["Content-Type"].startswith("application/json")
    body = first.json()
    assert (body["ID"], body["Port"]) == (name, 1)
    assert body["ContentHash"]
    await api.register({"Name": name, "Port": 2})
    second = (await api.call("GET", f"/v1/agent/service/{name}")).json()
    assert second["ContentHash"] != body["ContentHash"]
    assert (await api.call("GET", "/v1/agent/service/nope")).status == 404


# --------------------------------------------------------------------------- #
# health and catalog                                                          #
# --------------------------------------------------------------------------- #

NODE_FIELDS = {
    "ID",
    "Node",
    "Address",
    "Datacenter",
    "TaggedAddresses",
    "Meta",
    "CreateIndex",
    "ModifyIndex",
}
SERVICE_FIELDS = {
    "ID",
    "Service",
    "Tags",
    "Address",
    "Meta",
    "Port",
    "Weights",
    "EnableTagOverride",
    "CreateIndex",
    "ModifyIndex",
}
CHECK_FIELDS = {
    "Node",
    "CheckID",
    "Name",
    "Status",
    "Notes",
    "Output",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "Type",
    "Interval",
    "Timeout",
    "CreateIndex",
    "ModifyIndex",
}


async def test_health_service_shape_and_serf_check(api: AgentApi, name: str) -> None:
    await api.register(
        {"Name": name, "Port": 80, "Tags": ["t"], "Check": {"TTL": "30s"}}
    )
    entries, reply = await api.health(name)
    assert reply.headers["Content-Type"].startswith("application/json")
    assert len(entries) == 1
    entry = entries[0]
    assert entry["Node"].keys() >= NODE_FIELDS
    assert {"lan", "wan"} <= entry["Node"]["TaggedAddresses"].keys()
    assert entry["Service"].keys() >= SERVICE_FIELDS
    assert entry["Service"]["Address"] == ""  # empty: use Node.Address
    for check in entry["Checks"]:
        assert check.keys() >= CHECK_FIELDS
    serf = next(c for c in entry["Checks"] if c["CheckID"] == "serfHealth")
    assert serf["Name"] == "Serf Health Status"
    assert serf["Status"] == "passing"
    assert serf["Output"] == "Agent alive and reachable"
    assert (serf["ServiceID"], serf["Type"]) == ("", "")
    own = next(c for c in entry["Checks"] if c["CheckID"] == f"service:{name}")
    assert (own["ServiceName"], own["ServiceTags"]) == (name, ["t"])


async def test_health_unknown_service_is_empty_list(api: AgentApi, name: str) -> None:
    reply = await api.call("GET", f"/v1/health/service/{name}")
    assert (reply.status, reply.text) == (200, "[]")


async def test_passing_drops_instances_with_any_non_passing_check(
    api: AgentApi, name: str
) -> None:
    for suffix in ("ok", "warn", "crit", "mixed"):
        await api.register(
            {
                "Name": name,
                "ID": f"{name}-{suffix}",
                "Checks": [
                    {"TTL": "30s", "CheckID": f"{suffix}-1"},
                    {"TTL": "30s", "CheckID": f"{suffix}-2"},
                ],
            }
        )
    plan = {
        "ok-1": "pass",
        "ok-2": "pass",
        "warn-1": "pass",
        "warn-2": "warn",
        "crit-1": "fail",
        "crit-2": "pass",
        "mixed-1": "warn",
        "mixed-2": "fail",
    }
    for check_id, verb in plan.items():
        reply = await api.call("PUT", f"/v1/agent/check/{verb}/{check_id}")
        assert reply.status == 200, reply.text

    everyone, _ = await api.health(name)
    assert len(everyone) == 4
    healthy, _ = await api.health(name, passing="")
    assert [e["Service"]["ID"] for e in healthy] == [f"{name}-ok"]
    also, _ = await api.health(name, passing="true")
    assert [e["Service"]["ID"] for e in also] == [f"{name}-ok"]
    not_filtered, _ = await api.health(name, passing="false")
    assert len(not_filtered) == 4
    bad = await api.call("GET", f"/v1/health/service/{name}", params={"passing": "x"})
    assert (bad.status, bad.text) == (400, "Invalid value for ?passing")


async def test_tag_filter_is_and_and_case_insensitive(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "ID": f"{name}-1", "Tags": ["a", "b"]})
    await api.register({"Name": name, "ID": f"{name}-2", "Tags": ["a"]})
    params = [("tag", "a"), ("tag", "B")]
    reply = await api.call("GET", f"/v1/health/service/{name}", params=params)
    assert [e["Service"]["ID"] for e in reply.json()] == [f"{name}-1"]
    only_a = await api.call("GET", f"/v1/health/service/{name}", params={"tag": "a"})
    assert len(only_a.json()) == 2
    catalog = await api.call("GET", f"/v1/catalog/service/{name}", params=params)
    assert [e["ServiceID"] for e in catalog.json()] == [f"{name}-1"]


@pytest.mark.parametrize("path", ["/v1/health/service/", "/v1/catalog/service/"])
async def test_service_reads_need_a_name(api: AgentApi, path: str) -> None:
    reply = await api.call("GET", path)
    assert (reply.status, reply.text) == (400, "Missing service name")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('Service.Meta.domain == "default"', ["a", "b"]),
        ("Service.Meta.domain != default", ["c"]),
        ('"v1" in Service.Tags', ["a"]),
        ("Service.Tags contains v2", ["b"]),
        ("v1 not in Service.Tags", ["b", "c"]),
        ("Service.Port == 8081", ["b"]),
        ('Service.ID matches "-[ab]$"', ["a", "b"]),
        ("Checks.Status == critical", ["c"]),
        ("Service.Meta is empty", ["c"]),
        ("not (Service.Port == 8080) and Service.Meta is not empty", ["b"]),
        ("Service.Port == 8080 or Service.Tags contains v2", ["a", "b"]),
        # `and` binds tighter than `or`: the other way round, [] and ["b"].
        (
            "Service.Port == 8082 or Service.Port == 8080 and Service.Tags contains v2",
            ["c"],
        ),
        (
            "Service.Tags contains v2 and Service.Port == 8081 or Service.Port == 8080",
            ["a", "b"],
        ),
    ],
)
async def test_filter_expressions_on_health(
    api: AgentApi, name: str, expression: str, expected: list[str]
) -> None:
    instances = {
        "a": {"Port": 8080, "Tags": ["v1"], "Meta": {"domain": "default"}},
        "b": {"Port": 8081, "Tags": ["v2"], "Meta": {"domain": "default"}},
        "c": {"Port": 8082, "Tags": [], "Check": {"TTL": "30s"}},
    }
    for suffix, fields in instances.items():
        await api.register({"Name": name, "ID": f"{name}-{suffix}"} | fields)
    entries, _ = await api.health(name, filter=expression)
    assert [e["Service"]["ID"] for e in entries] == [f"{name}-{s}" for s in expected]


async def test_filter_on_agent_and_catalog_reads(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Tags": ["x"], "Check": {"TTL": "30s"}})
    await api.register({"Name": f"{name}-other"})
    services = await api.call(
        "GET", "/v1/agent/services", params={"filter": f"Service == {name}"}
    )
    assert list(services.json()) == [name]
    checks = await api.call(
        "GET", "/v1/agent/checks", params={"filter": f"ServiceName == {name}"}
    )
    assert list(checks.json()) == [f"service:{name}"]
    catalog = await api.call(
        "GET", f"/v1/catalog/service/{name}", params={"filter": "ServiceTags is empty"}
    )
    assert catalog.json() == []
    names = await api.call(
        "GET", "/v1/catalog/services", params={"filter": "ServiceTags contains x"}
    )
    # the consul service has no tags: the filter drops it too
    assert names.json() == {name: ["x"]}


@pytest.mark.parametrize("expression", ["Service.Port ==", "(a == b", "a ~ b", "x y"])
async def test_malformed_filter_is_400(
    consul_double: ConsulAgentDouble, api: AgentApi, expression: str
) -> None:
    reply = await api.call("GET", "/v1/health/service/x", params={"filter": expression})
    assert reply.status == 400
    assert reply.text.startswith("Failed to create boolean expression evaluator")


async def test_node_meta_filter() -> None:
    async with fast_double(node_meta={"rack": "r1"}) as (_, api):
        await api.register({"Name": "web"})
        for path in ("/v1/health/service/web", "/v1/catalog/service/web"):
            hit = await api.call("GET", path, params={"node-meta": "rack:r1"})
            assert len(hit.json()) == 1
            miss = await api.call("GET", path, params={"node-meta": "rack:r2"})
            assert miss.json() == []
        entry = (await api.call("GET", "/v1/health/service/web")).json()[0]
        assert entry["Node"]["Meta"]["rack"] == "r1"


async def test_catalog_services_and_service(api: AgentApi, name: str) -> None:
    await api.register(
        {"Name": name, "ID": f"{name}-1", "Tags": ["x"], "Address": "10.0.0.9"}
    )
    await api.register({"Name": name, "ID": f"{name}-2", "Tags": ["x", "y"], "Port": 7})
    services = (await api.call("GET", "/v1/catalog/services")).json()
    assert services["consul"] == []
    assert sorted(services[name]) == ["x", "y"]
    flat = (await api.call("GET", f"/v1/catalog/service/{name}")).json()
    by_id = {entry["ServiceID"]: entry for entry in flat}
    first = by_id[f"{name}-1"]
    assert first["ServiceName"] == name
    assert first["ServiceAddress"] == "10.0.0.9"
    assert first["ServiceTags"] == ["x"]
    assert first["ServiceMeta"] == {}
    assert {"Node", "Address", "ServicePort"} <= first.keys()
    assert "Checks" not in first
    assert by_id[f"{name}-2"]["ServicePort"] == 7


# --------------------------------------------------------------------------- #
# HTTP rules: methods, paths, bodies, indexes                                 #
# --------------------------------------------------------------------------- #

WRITE_PATHS = [
    "/v1/agent/service/register",
    "/v1/agent/service/deregister/x",
    "/v1/agent/service/maintenance/x",
    "/v1/agent/check/pass/x",
    "/v1/agent/check/warn/x",
    "/v1/agent/check/fail/x",
    "/v1/agent/check/update/x",
]
READ_PATHS = [
    "/v1/agent/services",
    "/v1/agent/service/x",
    "/v1/agent/checks",
    "/v1/health/service/x",
    "/v1/catalog/services",
    "/v1/catalog/service/x",
]


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_write_endpoints_are_put_only(
    api: AgentApi, method: str, path: str
) -> None:
    reply = await api.call(method, path)
    assert (reply.status, reply.text) == (405, f"method {method} not allowed")


@pytest.mark.parametrize("path", READ_PATHS)
async def test_read_endpoints_refuse_put(api: AgentApi, path: str) -> None:
    reply = await api.call("PUT", path)
    assert (reply.status, reply.text) == (405, "method PUT not allowed")


@pytest.mark.parametrize(
    "path", ["/v1/nope", "/v1/agent/servicez", "/v1/agent/check/nope"]
)
async def test_unknown_path_is_404_plain_text(api: AgentApi, path: str) -> None:
    reply = await api.call("GET", path)
    assert reply.status == 404
    # Consul's Index handler writes it with Fprintln: a final newline
    assert reply.text == "Invalid URL path: not a recognized HTTP API endpoint\n"
    assert reply.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "path",
    ["/v1/health/service/{n}", "/v1/catalog/services", "/v1/catalog/service/{n}"],
)
async def test_reads_carry_a_nonzero_index_that_moves(
    api: AgentApi, name: str, path: str
) -> None:
    before = await api.call("GET", path.format(n=name))
    first = int(before.headers["X-Consul-Index"])
    assert first > 0
    await api.register({"Name": name})
    after = await api.call("GET", path.format(n=name))
    assert int(after.headers["X-Consul-Index"]) > first


# --------------------------------------------------------------------------- #
# check execution                                                             #
# --------------------------------------------------------------------------- #


async def test_http_check_turns_passing_within_one_interval(
    consul_double: ConsulAgentDouble, api: AgentApi, name: str
) -> None:
    seen: list[web.Request] = []

    async def health(request: web.Request) -> web.Response:
        seen.append(request)
        return web.Response(text="all good")

    async with serve(health) as base:
        check = {
            "HTTP": f"{base}/health",
            "Interval": "1s",
            "Header": {"X-Probe": ["yes"]},
        }
        await api.register({"Name": name, "Check": check})
        cid = f"service:{name}"
        assert status_of(consul_double, cid) == "critical"
        # first run happens after a random delay in [0, 1s)
        await wait_until(
            lambda: status_of(consul_double, cid) == "passing", 3.0, "passing"
        )
    output = consul_double.checks()[cid]["Output"]
    assert output == f"HTTP GET {base}/health: 200 OK Output: all good"
    assert seen[0].headers["User-Agent"] == "Consul Health Check"
    assert seen[0].headers["X-Probe"] == "yes"
    assert seen[0].method == "GET"


async def test_first_probe_is_staggered_within_one_interval() -> None:
    first_seen: dict[str, float] = {}

    async def record(request: web.Request) -> web.Response:
        first_seen.setdefault(request.path, time.monotonic())
        return web.Response(text="ok")

    count = 8
    async with serve(record) as base, ConsulAgentDouble() as double:
        checks = [{"HTTP": f"{base}/{i}", "Interval": "1s"} for i in range(count)]
        started = time.monotonic()
        async with aiohttp.ClientSession(f"http://{double.address}") as session:
            await AgentApi(session).register({"Name": "web", "Checks": checks})
        await wait_until(lambda: len(first_seen) == count, 3.0, "first probes")
    delays = sorted(seen - started for seen in first_seen.values())
    assert delays[-1] < 1.6  # all within one interval (plus scheduling slack)
    # a random delay in [0, 1s): eight probes do not all fire at once
    assert delays[-1] - delays[0] > 0.1


@pytest.mark.parametrize(
    ("code", "status", "text"),
    [
        (500, "critical", "500 Internal Server Error Output: boom"),
        (429, "warning", "429 Too Many Requests Output: boom"),
        (204, "passing", "204 No Content Output: "),
        (404, "critical", "404 Not Found Output: boom"),
    ],
)
async def test_http_check_status_mapping(code: int, status: str, text: str) -> None:
    body = "" if code == 204 else "boom"
    async with serve(respond(code, body)) as base, fast_double() as (double, api):
        check = {"HTTP": f"{base}/h", "Interval": "50ms", "Status": "passing"}
        if status == "passing":
            check["Status"] = "critical"
        await api.register({"Name": "web", "Check": check})
        await wait_until(lambda: status_of(double, "service:web") == status)
        assert double.checks()["service:web"]["Output"] == f"HTTP GET {base}/h: {text}"


async def test_http_check_refused_is_critical_with_reason() -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}/h"
        async with fast_double() as (double, api):
            check = {"HTTP": url, "Interval": "50ms", "Status": "passing"}
            await api.register({"Name": "web", "Check": check})
            await wait_until(lambda: status_of(double, "service:web") == "critical")
            output = double.checks()["service:web"]["Output"]
    assert output.startswith(f'Get "{url}": dial tcp 127.0.0.1:')
    assert output.endswith("connect: connection refused")


async def test_http_check_timeout_is_critical() -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async with serve(slow) as base, fast_double() as (double, api):
        check = {
            "HTTP": base,
            "Interval": "50ms",
            "Timeout": "100ms",
            "Status": "passing",
        }
        await api.register({"Name": "web", "Check": check})
        await wait_until(lambda: status_of(double, "service:web") == "critical")
        release.set()
        assert "Client.Timeout exceeded" in double.checks()["service:web"]["Output"]


async def test_http_check_output_is_capped_at_4096_bytes() -> None:
    body = "a" * 5000 + "END"
    async with serve(respond(200, body)) as base, fast_double() as (double, api):
        await api.register({"Name": "web", "Check": {"HTTP": base, "Interval": "50ms"}})
        await wait_until(lambda: status_of(double, "service:web") == "passing")
        output = double.checks()["service:web"]["Output"]
    _, _, kept = output.partition(" Output: ")
    assert len(kept.encode()) == 4096
    assert kept.endswith("END")  # Consul keeps the tail (circular buffer)


async def test_tcp_check_passing_and_critical() -> None:
    with refused_port() as port:
        async with serve(respond(200)) as base, fast_double() as (double, api):
            open_addr = base.removeprefix("http://")
            closed_addr = f"127.0.0.1:{port}"
            checks = [
                {"TCP": open_addr, "Interval": "50ms"},
                {"TCP": closed_addr, "Interval": "50ms", "Status": "passing"},
            ]
            await api.register({"Name": "web", "Checks": checks})
            await wait_until(lambda: status_of(double, "service:web:1") == "passing")
            await wait_until(lambda: status_of(double, "service:web:2") == "critical")
            found = double.checks()
    assert found["service:web:1"]["Output"] == f"TCP connect {open_addr}: Success"
    assert found["service:web:2"]["Output"] == (
        f"dial tcp {closed_addr}: connect: connection refused"
    )


async def test_consecutive_thresholds() -> None:
    healthy = True
    calls = 0

    async def toggled(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=200 if healthy else 500)

    async with serve(toggled) as base, fast_double() as (double, api):
        check = {
            "HTTP": base,
            "Interval": "50ms",
            "SuccessBeforePassing": 3,
            "FailuresBeforeWarning": 1,
            "FailuresBeforeCritical": 3,
        }
        await api.register({"Name": "web", "Check": check})
        await wait_until(lambda: calls >= 2)
        assert status_of(double, "service:web") == "critical"  # 3 successes needed
        await wait_until(lambda: status_of(double, "service:web") == "passing")
        assert calls >= 3
        healthy, failed_from = False, calls
        await wait_until(lambda: status_of(double, "service:web") == "warning")
        await wait_until(lambda: status_of(double, "service:web") == "critical")
        assert calls - failed_from >= 3


# --------------------------------------------------------------------------- #
# blocking queries                                                            #
# --------------------------------------------------------------------------- #


async def test_blocking_health_query_answers_on_change(
    consul_agent: ConsulAgentHandle, api: AgentApi, name: str
) -> None:
    _, first = await api.health(name)
    index = first.headers["X-Consul-Index"]
    params = {"index": index, "wait": "10s"}
    path = f"/v1/health/service/{name}"
    blocked = asyncio.create_task(api.call("GET", path, params=params))
    await until_received(consul_agent, path, times=2)
    assert not blocked.done()
    await api.register({"Name": name})
    reply = await asyncio.wait_for(blocked, 5)
    assert int(reply.headers["X-Consul-Index"]) > int(index)
    assert [e["Service"]["ID"] for e in reply.json()] == [name]


async def test_blocking_query_returns_same_index_when_wait_runs_out(
    api: AgentApi, name: str
) -> None:
    await api.register({"Name": name})
    _, first = await api.health(name)
    index = first.headers["X-Consul-Index"]
    started = time.monotonic()
    reply = await api.call(
        "GET", f"/v1/health/service/{name}", params={"index": index, "wait": "300ms"}
    )
    elapsed = time.monotonic() - started
    assert reply.status == 200
    assert reply.headers["X-Consul-Index"] == index
    # Consul adds up to wait/16 of jitter; 2 s of slack for a loaded machine
    # still fails an agent that ignores `wait` (its default is 5 minutes).
    assert 0.25 <= elapsed < 0.3 * (1 + 1 / 16) + 2.0


async def test_blocking_catalog_services_sees_last_instance_removed(
    consul_agent: ConsulAgentHandle, api: AgentApi, name: str
) -> None:
    await api.register({"Name": name})
    path = f"/v1/catalog/service/{name}"
    first = await api.call("GET", path)
    params = {"index": first.headers["X-Consul-Index"], "wait": "10s"}
    blocked = asyncio.create_task(api.call("GET", path, params=params))
    await until_received(consul_agent, path, times=2)
    await api.call("PUT", f"/v1/agent/service/deregister/{name}")
    reply = await asyncio.wait_for(blocked, 5)
    assert reply.json() == []


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"wait": "10"}, "Invalid wait time"),
        ({"wait": "abc", "index": "1"}, "Invalid wait time"),
        ({"index": "-1"}, "Invalid index"),
        ({"index": "x"}, "Invalid index"),
        (
            {"stale": "", "consistent": "", "wait": "bad"},
            "Cannot specify ?stale with ?consistent, conflicting semantics.",
        ),
    ],
)
@pytest.mark.parametrize(
    "path", ["/v1/health/service/x", "/v1/catalog/services", "/v1/catalog/service/x"]
)
async def test_blocking_parameter_errors(
    api: AgentApi, path: str, params: dict[str, str], text: str
) -> None:
    reply = await api.call("GET", path, params=params)
    assert (reply.status, reply.text) == (400, text)


async def test_identical_reregistration_does_not_wake_watchers(
    api: AgentApi, name: str
) -> None:
    body = {"Name": name, "Tags": ["a"], "Check": {"TTL": "30s"}}
    await api.register(body)
    _, first = await api.health(name)
    index = first.headers["X-Consul-Index"]
    await api.register(body)  # a periodic re-registration changes nothing
    _, again = await api.health(name, index=index, wait="200ms")
    assert again.headers["X-Consul-Index"] == index
    await api.register(body | {"Tags": ["b"]})
    _, changed = await api.health(name, index=index, wait="5s")
    assert int(changed.headers["X-Consul-Index"]) > int(index)


async def test_py_consul_blocking_health_call(
    consul_agent: ConsulAgentHandle, api: AgentApi, name: str
) -> None:
    async with py_consul_client(consul_agent) as client:
        index, nodes = await client.health.service(name)
        assert nodes == []
        watch = asyncio.create_task(
            client.health.service(name, index=index, wait="10s", passing=True)
        )
        await api.register({"Name": name, "Check": {"TTL": "30s"}})
        await api.call("PUT", f"/v1/agent/check/pass/service:{name}")
        # the first wake-up may come from the registration (still critical)
        new_index, nodes = await asyncio.wait_for(watch, 5)
        assert int(new_index) > int(index)
        while not nodes:
            new_index, nodes = await asyncio.wait_for(
                client.health.service(name, index=new_index, wait="5s", passing=True),
                10,
            )
        assert [n["Service"]["ID"] for n in nodes] == [name]


async def test_check_status_change_does_not_wake_catalog_services(
    consul_double: ConsulAgentDouble, api: AgentApi, name: str
) -> None:
    await api.register({"Name": name, "Check": {"TTL": "30s"}})
    first = await api.call("GET", "/v1/catalog/services")
    index = first.headers["X-Consul-Index"]
    await api.call("PUT", f"/v1/agent/check/pass/service:{name}")
    reply = await api.call(
        "GET", "/v1/catalog/services", params={"index": index, "wait": "200ms"}
    )
    assert reply.headers["X-Consul-Index"] == index
    assert consul_double.index > int(index)


async def test_hash_blocking_on_agent_service(
    consul_agent: ConsulAgentHandle, api: AgentApi, name: str
) -> None:
    await api.register({"Name": name, "Port": 1})
    path = f"/v1/agent/service/{name}"
    first = await api.call("GET", path)
    content_hash = first.json()["ContentHash"]
    assert first.headers["X-Consul-ContentHash"] == content_hash
    blocked = asyncio.create_task(
        api.call(
            "GET",
            f"/v1/agent/service/{name}",
            params={"hash": content_hash, "wait": "10s"},
        )
    )
    await until_received(consul_agent, path, times=2)
    assert not blocked.done()
    await api.register({"Name": name, "Port": 2})
    reply = await asyncio.wait_for(blocked, 5)
    assert reply.json()["Port"] == 2
    assert reply.json()["ContentHash"] != content_hash


# --------------------------------------------------------------------------- #
# TTL checks                                                                  #
# --------------------------------------------------------------------------- #


async def test_ttl_pass_warn_fail_and_note(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Check": {"TTL": "30s"}})
    cid = f"service:{name}"
    for verb, status in (
        ("pass", "passing"),
        ("warn", "warning"),
        ("fail", "critical"),
    ):
        reply = await api.call(
            "PUT", f"/v1/agent/check/{verb}/{cid}", params={"note": f"{verb} note"}
        )
        assert (reply.status, reply.text) == (200, "")
        check = (await api.checks())[cid]
        assert (check["Status"], check["Output"]) == (status, f"{verb} note")


async def test_ttl_update_endpoint(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Check": {"TTL": "30s"}})
    cid = f"service:{name}"
    path = f"/v1/agent/check/update/{cid}"
    reply = await api.call("PUT", path, body={"Status": "passing", "Output": "fine"})
    assert reply.status == 200
    check = (await api.checks())[cid]
    assert (check["Status"], check["Output"]) == ("passing", "fine")
    bad = await api.call("PUT", path, body={"Status": "great"})
    assert (bad.status, bad.text) == (400, "Invalid check status: 'great'")
    unknown_field = await api.call("PUT", path, body={"Status": "passing", "X": 1})
    assert unknown_field.text == 'Request decode failed: json: unknown field "X"'


async def test_ttl_output_is_capped_at_4096_bytes(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Check": {"TTL": "30s"}})
    path = f"/v1/agent/check/update/service:{name}"
    await api.call("PUT", path, body={"Status": "passing", "Output": "x" * 5000})
    output = (await api.checks())[f"service:{name}"]["Output"]
    assert output == "x" * 4096 + " ... (captured 4096 of 5000 bytes)"


async def test_ttl_endpoint_errors(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Check": _HTTP_CHECK})
    unknown = await api.call("PUT", "/v1/agent/check/pass/nope")
    assert (unknown.status, unknown.text) == (
        404,
        'Unknown check ID "nope". Ensure that the check ID is passed, not the check '
        "name.",
    )
    not_ttl = await api.call("PUT", f"/v1/agent/check/pass/service:{name}")
    assert (not_ttl.status, not_ttl.text) == (
        500,
        f'CheckID "service:{name}" does not have associated TTL',
    )
    update_unknown = await api.call(
        "PUT", "/v1/agent/check/update/nope", body={"Status": "passing"}
    )
    assert update_unknown.status == 404


async def test_ttl_expiry_turns_critical() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web", "Check": {"TTL": "200ms"}})
        await api.call("PUT", "/v1/agent/check/pass/service:web")
        assert status_of(double, "service:web") == "passing"
        await wait_until(lambda: status_of(double, "service:web") == "critical")
        assert double.checks()["service:web"]["Output"] == "TTL expired"
        await api.call("PUT", "/v1/agent/check/pass/service:web", params={"note": "hi"})
        await wait_until(lambda: status_of(double, "service:web") == "critical")
        assert double.checks()["service:web"]["Output"] == (
            "TTL expired (last output before timeout follows): hi"
        )


async def test_ttl_heartbeats_keep_a_check_passing() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web", "Check": {"TTL": "1s"}})
        await api.call("PUT", "/v1/agent/check/pass/service:web")
        deadline = time.monotonic() + 2.5  # well past the first TTL
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)  # the heartbeat period under test
            # Before each heartbeat: the previous one restarted the TTL timer.
            assert status_of(double, "service:web") == "passing"
            await api.call("PUT", "/v1/agent/check/pass/service:web")


async def test_standalone_check_register_and_deregister(
    api: AgentApi, name: str
) -> None:
    await api.register({"Name": name})
    body = {"Name": "disk", "ID": f"{name}-disk", "ServiceID": name, "TTL": "30s"}
    reply = await api.call("PUT", "/v1/agent/check/register", body=body)
    assert (reply.status, reply.text) == (200, "")
    check = (await api.checks())[f"{name}-disk"]
    assert (check["Name"], check["ServiceName"], check["Type"]) == ("disk", name, "ttl")
    bad = await api.call(
        "PUT", "/v1/agent/check/register", body={"Name": "x", "HTTP": "http://x"}
    )
    assert bad.status == 400
    assert bad.text.startswith("Invalid check: Interval must be > 0")
    orphan = await api.call(
        "PUT",
        "/v1/agent/check/register",
        body={"Name": "x", "TTL": "10s", "ServiceID": f"{name}-missing"},
    )
    assert (orphan.status, orphan.text) == (
        404,
        f'ServiceID "{name}-missing" does not exist',
    )
    gone = await api.call("PUT", f"/v1/agent/check/deregister/{name}-disk")
    assert gone.status == 200
    assert f"{name}-disk" not in await api.checks()
    again = await api.call("PUT", f"/v1/agent/check/deregister/{name}-disk")
    assert again.status == 404


async def test_local_agent_health_by_id_and_name(api: AgentApi, name: str) -> None:
    for suffix, verb in (("a", "pass"), ("b", "warn")):
        await api.register(
            {"Name": name, "ID": f"{name}-{suffix}", "Check": {"TTL": "30s"}}
        )
        await api.call("PUT", f"/v1/agent/check/{verb}/service:{name}-{suffix}")
    by_id = await api.call("GET", f"/v1/agent/health/service/id/{name}-a")
    assert by_id.status == 200
    info = by_id.json()
    assert info["AggregatedStatus"] == "passing"
    assert info["Service"]["ID"] == f"{name}-a"
    assert [c["CheckID"] for c in info["Checks"]] == [f"service:{name}-a"]
    text = await api.call(
        "GET", f"/v1/agent/health/service/id/{name}-b", params={"format": "text"}
    )
    assert (text.status, text.text) == (429, "warning")
    # by name: the worst instance decides
    by_name = await api.call("GET", f"/v1/agent/health/service/name/{name}")
    assert by_name.status == 429
    assert len(by_name.json()) == 2
    missing = await api.call(
        "GET", "/v1/agent/health/service/id/nope", params={"format": "text"}
    )
    assert (missing.status, missing.text) == (404, "ServiceId nope not found")
    await api.call(
        "PUT", f"/v1/agent/service/maintenance/{name}-a", params={"enable": "true"}
    )
    maint = await api.call("GET", f"/v1/agent/health/service/id/{name}-a")
    assert (maint.status, maint.json()["AggregatedStatus"]) == (503, "maintenance")


# --------------------------------------------------------------------------- #
# maintenance                                                                 #
# --------------------------------------------------------------------------- #


async def test_service_maintenance(api: AgentApi, name: str) -> None:
    await api.register({"Name": name, "Check": {"TTL": "30s", "Status": "passing"}})
    path = f"/v1/agent/service/maintenance/{name}"
    reply = await api.call("PUT", path, params={"enable": "true", "reason": "upgrade"})
    assert (reply.status, reply.text) == (200, "")
    check = (await api.checks())[f"_service_maintenance:{name}"]
    assert check["Name"] == "Service Maintenance Mode"
    assert (check["Status"], check["Notes"]) == ("critical", "upgrade")
    assert (await api.health(name, passing=""))[0] == []
    assert len((await api.health(name))[0]) == 1

    reply = await api.call("PUT", path, params={"enable": "false"})
    assert reply.status == 200
    assert f"_service_maintenance:{name}" not in await api.checks()
    assert len((await api.health(name, passing=""))[0]) == 1


async def test_node_maintenance_takes_every_service_out(
    consul_double: ConsulAgentDouble, api: AgentApi, name: str
) -> None:
    # double-only: maintenance on a shared real agent would disturb other users
    for suffix in ("a", "b"):
        await api.register(
            {
                "Name": f"{name}-{suffix}",
                "Check": {"TTL": "30s", "Status": "passing"},
            }
        )
    _, before = await api.health(f"{name}-a")
    reply = await api.call("PUT", "/v1/agent/maintenance", params={"enable": "1"})
    assert (reply.status, reply.text) == (200, "")
    check = (await api.checks())["_node_maintenance"]
    assert (check["Name"], check["Status"]) == ("Node Maintenance Mode", "critical")
    assert check["Notes"].startswith("Maintenance mode is enabled for this node")
    for suffix in ("a", "b"):
        assert (await api.health(f"{name}-{suffix}", passing=""))[0] == []
    entries, after = await api.health(f"{name}-a")
    assert "_node_maintenance" in [c["CheckID"] for c in entries[0]["Checks"]]
    assert int(after.headers["X-Consul-Index"]) > int(before.headers["X-Consul-Index"])
    local = await api.call("GET", f"/v1/agent/health/service/name/{name}-a")
    assert (local.status, local.json()[0]["AggregatedStatus"]) == (503, "maintenance")
    await api.call("PUT", "/v1/agent/maintenance", params={"enable": "false"})
    assert len((await api.health(f"{name}-a", passing=""))[0]) == 1


async def test_maintenance_errors(api: AgentApi, name: str) -> None:
    await api.register({"Name": name})
    path = f"/v1/agent/service/maintenance/{name}"
    missing = await api.call("PUT", path)
    assert (missing.status, missing.text) == (400, "Missing value for enable")
    invalid = await api.call("PUT", path, params={"enable": "maybe"})
    assert (invalid.status, invalid.text) == (400, 'Invalid value for enable: "maybe"')
    unknown = await api.call(
        "PUT", "/v1/agent/service/maintenance/nope", params={"enable": "true"}
    )
    assert unknown.status == 404


# --------------------------------------------------------------------------- #
# critical-service reaper                                                     #
# --------------------------------------------------------------------------- #


async def test_reaper_removes_services_critical_for_too_long() -> None:
    options = {"reaper_interval": 0.05, "deregister_minimum": 0.2}
    async with fast_double(**options) as (double, api):
        doomed = {"TTL": "30s", "DeregisterCriticalServiceAfter": "10ms"}
        kept = doomed | {"Status": "passing"}
        started = time.monotonic()
        await api.register({"Name": "gone", "Check": doomed})
        await api.register({"Name": "stays", "Check": kept})
        await wait_until(lambda: "gone" not in double.services(), 3.0)
        # the floor (deregister_minimum) applies, not the 10ms asked for
        assert time.monotonic() - started >= 0.2
        assert "service:gone" not in double.checks()
        assert "stays" in double.services()


# --------------------------------------------------------------------------- #
# ACL                                                                         #
# --------------------------------------------------------------------------- #


async def test_acl_tokens_and_precedence() -> None:
    async with fast_double(acl_tokens={"good"}) as (double, api):
        body = {"Name": "web"}
        anonymous = await api.register(body)
        assert anonymous.status == 403
        assert anonymous.text == (
            "Permission denied: token with AccessorID "
            "'00000000-0000-0000-0000-000000000002' lacks permission "
            "'service:write' on \"web\""
        )
        unknown = await api.register(body, headers={"X-Consul-Token": "bad"})
        assert (unknown.status, unknown.text) == (403, "ACL not found")
        # ?token= beats the header
        query_wins = await api.register(
            body, params={"token": "good"}, headers={"X-Consul-Token": "bad"}
        )
        assert query_wins.status == 200
        header_wins = await api.register(
            body, headers={"X-Consul-Token": "bad", "Authorization": "Bearer good"}
        )
        assert header_wins.status == 403
        bearer = await api.register(body, headers={"Authorization": "Bearer good"})
        assert bearer.status == 200
        assert "web" in double.services()


async def test_acl_agent_default_token_applies_when_none_is_sent() -> None:
    async with fast_double(acl_tokens={"good"}, default_token="good") as (_, api):
        assert (await api.register({"Name": "web"})).status == 200
        bad = await api.register({"Name": "web"}, headers={"X-Consul-Token": "x"})
        assert bad.status == 403


async def test_wait_for_sees_requests() -> None:
    async with fast_double() as (double, api):
        seen = asyncio.create_task(
            double.wait_for(
                lambda: any(r.path == "/v1/agent/self" for r in double.requests)
            )
        )
        await api.call("GET", "/v1/agent/self")
        await asyncio.wait_for(seen, 2)


async def test_acl_filters_anonymous_reads() -> None:
    async with fast_double(acl_tokens={"good"}) as (_, api):
        await api.register({"Name": "web"}, params={"token": "good"})
        hidden = await api.call("GET", "/v1/health/service/web")
        assert hidden.json() == []
        # Consul never tells an anonymous caller that results were filtered
        assert "X-Consul-Results-Filtered-By-ACLs" not in hidden.headers
        assert (await api.call("GET", "/v1/agent/services")).json() == {}
        shown = await api.call(
            "GET", "/v1/health/service/web", headers={"X-Consul-Token": "good"}
        )
        assert len(shown.json()) == 1
        gone = await api.call("PUT", "/v1/agent/service/deregister/web")
        assert gone.status == 403
        agent_self = await api.call("GET", "/v1/agent/self")
        assert agent_self.status == 403
        assert "lacks permission 'agent:read'" in agent_self.text
        bad_read = await api.call("GET", "/v1/agent/services", params={"token": "x"})
        assert (bad_read.status, bad_read.text) == (403, "ACL not found")


# --------------------------------------------------------------------------- #
# fault injection                                                             #
# --------------------------------------------------------------------------- #


async def test_hold_and_release_requests() -> None:
    async with fast_double() as (double, api):
        double.hold_requests()
        pending = asyncio.create_task(api.call("GET", "/v1/agent/services"))
        await wait_until(lambda: len(double.requests) == 1)
        assert not pending.done()
        double.release_requests()
        reply = await asyncio.wait_for(pending, 5)
        assert reply.status == 200


async def test_stop_cancels_held_requests_quickly() -> None:
    double = ConsulAgentDouble()
    await double.start()
    async with aiohttp.ClientSession(f"http://{double.address}") as session:
        double.hold_requests()
        pending = asyncio.create_task(session.get("/v1/agent/services"))
        await wait_until(lambda: len(double.requests) == 1)
        started = time.monotonic()
        await double.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(aiohttp.ClientError):
            await pending


async def test_stop_leaves_no_task_behind() -> None:
    before = asyncio.all_tasks()
    async with serve(respond(200)) as base:
        double = ConsulAgentDouble(min_check_interval=0.05)
        await double.start()
        async with aiohttp.ClientSession(f"http://{double.address}") as session:
            api = AgentApi(session)
            checks = [{"HTTP": base, "Interval": "50ms"}, {"TTL": "30s"}]
            await api.register({"Name": "web", "Checks": checks})
            blocked = asyncio.create_task(
                api.call(
                    "GET",
                    "/v1/health/service/web",
                    params={"index": "999", "wait": "1m"},
                )
            )
            await wait_until(lambda: len(double.requests) == 2)
            await double.stop()
            with pytest.raises(aiohttp.ClientError):
                await blocked
    leftovers = asyncio.all_tasks() - before
    assert leftovers == set()


async def test_fail_requests_for_a_count_then_recover() -> None:
    async with fast_double() as (double, api):
        double.fail_requests(500, count=2)
        first = await api.call("GET", "/v1/agent/services")
        second = await api.register({"Name": "web"})
        third = await api.call("GET", "/v1/agent/services")
    assert (first.status, second.status, third.status) == (500, 500, 200)
    assert first.text == "rpc error making call: No cluster leader"
    assert third.json() == {}


async def test_fail_requests_for_a_duration() -> None:
    async with fast_double() as (double, api):
        double.fail_requests(429, duration=0.3)
        limited = await api.call("GET", "/v1/agent/services")
        assert limited.status == 429
        await wait_until(
            lambda: _status_is(api, "/v1/agent/services", 200), 3.0, "recovery"
        )


async def _status_is(api: AgentApi, path: str, status: int) -> bool:
    return (await api.call("GET", path)).status == status


async def test_fail_requests_only_under_a_path_prefix() -> None:
    async with fast_double() as (double, api):
        double.fail_requests(503, path_prefix="/v1/agent/service/register")
        refused = await api.register({"Name": "web"})
        assert (refused.status, refused.text) == (503, "No known Consul servers")
        assert (await api.call("GET", "/v1/agent/services")).status == 200
        double.clear_faults()
        assert (await api.register({"Name": "web"})).status == 200


async def test_answer_requests_sends_exactly_the_bytes_given() -> None:
    async with fast_double() as (double, api):
        double.answer_requests(
            200, body=b"[1, 2]", count=1, path_prefix="/v1/agent/service/"
        )
        odd = await api.call("GET", "/v1/agent/service/web")
        assert (odd.status, odd.text) == (200, "[1, 2]")
        assert odd.headers["Content-Type"] == "application/json"
        double.answer_requests(
            404, body=b"<html>proxy</html>", content_type="text/html"
        )
        page = await api.register({"Name": "web"})
        assert (page.status, page.headers["Content-Type"]) == (404, "text/html")
        assert double.services() == {}


async def test_set_index_header_replaces_the_index_sent() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web"})
        double.set_index_header("0")
        zero = await api.call("GET", "/v1/health/service/web")
        assert zero.headers["X-Consul-Index"] == "0"
        assert [entry["Service"]["ID"] for entry in zero.json()] == ["web"]
        double.clear_faults()
        real = await api.call("GET", "/v1/health/service/web")
        assert int(real.headers["X-Consul-Index"]) == double.index > 0


async def test_drop_connections_closes_without_an_answer() -> None:
    async with fast_double() as (double, api):
        # aiohttp clients retry once on a dropped connection: drop two
        double.drop_connections(count=2)
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.call("GET", "/v1/agent/services")
        assert len(double.requests) == 2
        assert (await api.call("GET", "/v1/agent/services")).status == 200


async def test_latency_delays_answers() -> None:
    async with fast_double() as (double, api):
        double.set_latency(1.0)
        started = time.monotonic()
        await api.call("GET", "/v1/agent/services")
        assert time.monotonic() - started >= 1.0
        double.clear_faults()
        started = time.monotonic()
        await api.call("GET", "/v1/agent/services")
        assert time.monotonic() - started < 1.0


async def test_forget_all_is_like_a_restarted_dev_agent() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web", "Check": {"TTL": "30s"}})
        before = await api.call("GET", "/v1/health/service/web")
        double.forget_all()
        assert double.services() == {}
        assert double.checks() == {}
        lost = await api.call("PUT", "/v1/agent/check/pass/service:web")
        assert lost.status == 404
        after = await api.call("GET", "/v1/health/service/web")
        assert after.json() == []
        # the index went backwards: clients must restart from 0
        assert int(after.headers["X-Consul-Index"]) < int(
            before.headers["X-Consul-Index"]
        )


async def test_restart_on_the_same_port_keeps_registrations() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web", "Check": {"TTL": "30s"}})
        port = double.port
        await double.stop()
        with pytest.raises(aiohttp.ClientConnectorError):
            await api.call("GET", "/v1/agent/services")
        await double.start(port=port)  # a persistent agent reloads its state
        reply = await api.call("GET", "/v1/agent/services")
        assert list(reply.json()) == ["web"]
        assert (await api.call("PUT", "/v1/agent/check/pass/service:web")).status == 200


async def test_wait_for_wakes_on_state_changes() -> None:
    async with fast_double() as (double, api):
        waiter = asyncio.create_task(
            double.wait_for(lambda: "web" in double.services())
        )
        await api.register({"Name": "web"})
        await asyncio.wait_for(waiter, 2)
        with pytest.raises(TimeoutError):
            await double.wait_for(lambda: "other" in double.services(), timeout=0.1)


async def test_rewind_index_keeps_data_but_moves_index_back() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web"})
        before = await api.call("GET", "/v1/health/service/web")
        double.rewind_index()
        after = await api.call("GET", "/v1/health/service/web")
        assert after.json() == before.json()
        assert after.headers["X-Consul-Index"] == "1"
        assert int(before.headers["X-Consul-Index"]) > 1
        assert double.index == 1


async def test_blocking_query_at_a_rewound_index_returns_the_lower_index() -> None:
    async with fast_double() as (double, api):
        await api.register({"Name": "web", "Check": {"TTL": "30s"}})
        before = await api.call("GET", "/v1/health/service/web")
        index = before.headers["X-Consul-Index"]
        double.rewind_index()
        # Nothing moves past the old index: the query blocks for its wait, then
        # answers with the (lower) current index and the current data; a client
        # must restart from 0, never send 0 back as a blocking index.
        reply = await api.call(
            "GET", "/v1/health/service/web", params={"index": index, "wait": "200ms"}
        )
        assert int(reply.headers["X-Consul-Index"]) == 1 < int(index)
        assert reply.json() == before.json()
        again = await api.call(
            "GET", "/v1/health/service/web", params={"index": "0", "wait": "5s"}
        )
        assert again.headers["X-Consul-Index"] == "1"  # index 0 never blocks


async def test_double_factory_fixture(consul_double_factory: DoubleFactory) -> None:
    secured = await consul_double_factory(acl_tokens={"t"}, node_name="n2")
    async with aiohttp.ClientSession(f"http://{secured.address}") as session:
        reply = await AgentApi(session).register({"Name": "web"})
    assert reply.status == 403
    assert secured.node_name == "n2"


async def test_requests_are_recorded(
    consul_double: ConsulAgentDouble, api: AgentApi
) -> None:
    await api.register({"Name": "rec"}, params={"replace-existing-checks": "true"})
    recorded = consul_double.requests[-1]
    assert (recorded.method, recorded.path) == ("PUT", "/v1/agent/service/register")
    assert ("replace-existing-checks", "true") in recorded.query
    assert recorded.json() == {"Name": "rec"}


# --------------------------------------------------------------------------- #
# fixture and CLI                                                             #
# --------------------------------------------------------------------------- #


async def test_fixture_gives_the_double_unless_a_real_agent_is_configured(
    consul_agent: ConsulAgentHandle,
) -> None:
    if os.environ.get("CONSUL_HTTP_ADDR"):
        assert consul_agent.double is None
    else:
        assert consul_agent.double is not None
        assert consul_agent.http_addr == consul_agent.double.address


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8500", ("http", "127.0.0.1:8500")),
        ("http://consul:8500/", ("http", "consul:8500")),
        ("https://consul:8501", ("https", "consul:8501")),
        (" https://[::1]:8501/ ", ("https", "[::1]:8501")),
        ("", None),
    ],
)
def test_real_agent_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[str, str] | None
) -> None:
    monkeypatch.setenv("CONSUL_HTTP_ADDR", value)
    agent = real_agent()
    found = (agent.scheme, agent.http_addr) if agent is not None else None
    assert found == expected


def test_real_agent_rejects_other_schemes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUL_HTTP_ADDR", "unix:///var/run/consul.sock")
    with pytest.raises(pytest.UsageError, match="unix sockets are not supported"):
        real_agent()


type CliProcess = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def cli_process(package_under_test: RenderedPackage) -> Iterator[CliProcess]:
    """Start the double's CLI on a free port, with these extra arguments, as a
    package's user does (its venv, its file); every process still running at
    the end is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*arguments: str) -> subprocess.Popen[str]:
        command = ["-m", "tests.managed.consul_agent_double", "--port", "0", *arguments]
        process = subprocess.Popen(
            [str(package_under_test.python), *command],
            cwd=package_under_test.root,
            env=package_under_test.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


async def listening_address(process: subprocess.Popen[str]) -> str:
    """The ``host:port`` the CLI prints once it listens."""
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 10)
    word, _, address = line.strip().partition(" ")
    assert word == "listening"
    return address


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_cli_serves_until_signalled(
    cli_process: CliProcess, stop_signal: signal.Signals
) -> None:
    process = cli_process()
    address = await listening_address(process)
    assert address.startswith("127.0.0.1:")
    async with (
        aiohttp.ClientSession(f"http://{address}") as session,
        session.get("/v1/catalog/services") as response,
    ):
        assert response.status == 200
        assert await response.json() == {"consul": []}
    process.send_signal(stop_signal)
    code = await asyncio.wait_for(asyncio.to_thread(process.wait), 10)
    assert code == 0


# --------------------------------------------------------------------------- #
# HTTPS                                                                       #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    directory = tmp_path_factory.mktemp("double-tls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(directory / "ca.pem")
    for name, cert in (
        ("server", ca.issue_cert("127.0.0.1")),
        ("client", ca.issue_cert("client@double-test")),
    ):
        cert.private_key_pem.write_to_path(directory / f"{name}.key")
        for blob in cert.cert_chain_pems:
            blob.write_to_path(directory / f"{name}.pem", append=True)
    return TlsFiles(
        ca=directory / "ca.pem",
        cert=directory / "server.pem",
        key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
    )


async def https_status(url: str, context: ssl.SSLContext) -> int:
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        session.get(f"{url}/v1/catalog/services") as response,
    ):
        return response.status


async def test_serves_https_and_may_require_client_certificates(
    tls_files: TlsFiles,
) -> None:
    anonymous = ssl.create_default_context(cafile=str(tls_files.ca))
    identified = ssl.create_default_context(cafile=str(tls_files.ca))
    identified.load_cert_chain(tls_files.client_cert, tls_files.client_key)
    async with ConsulAgentDouble(
        tls_cert=str(tls_files.cert), tls_key=str(tls_files.key)
    ) as double:
        assert double.url == f"https://{double.address}"
        assert await https_status(double.url, anonymous) == 200
    async with ConsulAgentDouble(
        tls_cert=str(tls_files.cert),
        tls_key=str(tls_files.key),
        tls_client_ca=str(tls_files.ca),
    ) as double:
        assert await https_status(double.url, identified) == 200
        with pytest.raises(aiohttp.ClientError):
            await https_status(double.url, anonymous)


@pytest.mark.parametrize(
    "arguments",
    [["--tls-cert", "c.pem"], ["--tls-key", "k.pem"], ["--tls-client-ca", "ca.pem"]],
)
def test_cli_tls_flags_must_be_complete(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        double_main(["--port", "0", *arguments])

    assert raised.value.code == 2


async def test_cli_serves_https(tls_files: TlsFiles, cli_process: CliProcess) -> None:
    process = cli_process(
        "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key)
    )
    address = await listening_address(process)
    trusting = ssl.create_default_context(cafile=str(tls_files.ca))
    assert await https_status(f"https://{address}", trusting) == 200
