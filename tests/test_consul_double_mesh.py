"""The service mesh fields of the agent's register, as Consul's source has them.

``Kind`` and ``Proxy`` (structs.ConnectProxyConfig) stored and shown by the
agent, health and catalog reads; NodeService.Validate's rules and texts;
``Connect.SidecarService`` registering ``<id>-sidecar-proxy`` with its port
and default checks (agent/sidecar_service.go); ``Connect.PeerMeta`` kept and
``Ports`` an unknown field. Tests taking ``consul_agent`` hold for a real
Consul 1.20-1.22 agent too (CONSUL_HTTP_ADDR); ``consul_double`` ones use the
double's fresh state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from agent_http_support import Agent, agent_session
from tests.managed.agent_handle import (  # fixtures the tests below take
    ConsulAgentHandle,
    DoubleFactory,
    consul_agent,
    consul_double,
    consul_double_factory,
)
from tests.managed.consul_agent_double import ConsulAgentDouble
from tests.managed.helpers import wait_until

__all__ = ["consul_agent", "consul_double", "consul_double_factory"]

SIDECAR_PORTS = range(21000, 21256)  # Consul's default sidecar_min/max_port


def _validation_failed(*errors: str) -> str:
    """Consul's "Validation failed: " and go-multierror's list."""
    count = "1 error" if len(errors) == 1 else f"{len(errors)} errors"
    points = "\n\t".join(f"* {e}" for e in errors)
    return f"Validation failed: {count} occurred:\n\t{points}\n\n"


async def _services(agent: Agent) -> dict[str, Any]:
    found: dict[str, Any] = await agent.get_json("/v1/agent/services")
    return found


# --------------------------------------------------------------------------- #
# Kind and Proxy                                                              #
# --------------------------------------------------------------------------- #


async def test_a_connect_proxy_is_shown_as_consul_shows_it(
    agent: Agent, name: str
) -> None:
    proxy = {
        "DestinationServiceName": "web",
        "Config": {"protocol": "http"},
        "Upstreams": [{"DestinationName": "db", "LocalBindPort": 9191}],
    }
    body = {"Name": name, "Kind": "connect-proxy", "Port": 21900, "Proxy": proxy}
    answer = await agent.register(body)
    assert answer.status == 200, answer.text

    service = await agent.get_json(f"/v1/agent/service/{name}")
    assert service["Kind"] == "connect-proxy"
    # api.AgentServiceConnectProxyConfig: Mode omitted when empty, the
    # upstream's DestinationType defaulted to "service".
    assert service["Proxy"] == {
        "DestinationServiceName": "web",
        "Config": {"protocol": "http"},
        "Upstreams": [
            {
                "DestinationType": "service",
                "DestinationName": "db",
                "LocalBindPort": 9191,
                "MeshGateway": {},
            }
        ],
        "MeshGateway": {},
        "Expose": {},
    }
    # The stored struct: Mode, an upstream's Datacenter always there.
    stored = {
        "DestinationServiceName": "web",
        "Mode": "",
        "Config": {"protocol": "http"},
        "Upstreams": [
            {
                "DestinationType": "service",
                "DestinationName": "db",
                "Datacenter": "",
                "LocalBindPort": 9191,
                "MeshGateway": {},
            }
        ],
        "MeshGateway": {},
        "Expose": {},
    }
    [flat] = await agent.get_json(f"/v1/catalog/service/{name}")
    assert (flat["ServiceKind"], flat["ServiceProxy"]) == ("connect-proxy", stored)
    [entry] = await agent.get_json(f"/v1/health/service/{name}")
    assert (entry["Service"]["Kind"], entry["Service"]["Proxy"]) == (
        "connect-proxy",
        stored,
    )


async def test_a_proxy_on_a_typical_service_is_stored_not_shown_by_the_agent(
    agent: Agent, name: str
) -> None:
    body = {"Name": name, "Proxy": {"LocalServicePort": 8080}}
    assert (await agent.register(body)).status == 200
    service = await agent.get_json(f"/v1/agent/service/{name}")
    assert "Proxy" not in service
    assert "Kind" not in service
    [flat] = await agent.get_json(f"/v1/catalog/service/{name}")
    assert flat["ServiceKind"] == ""
    assert flat["ServiceProxy"] == {
        "LocalServicePort": 8080,
        "Mode": "",
        "MeshGateway": {},
        "Expose": {},
    }


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        (
            {"Kind": "connect-proxy"},
            (
                "Port or SocketPath must be set for a connect-proxy",
                "Proxy.DestinationServiceName must be non-empty for Connect proxy "
                "services",
            ),
        ),
        (
            {
                "Kind": "connect-proxy",
                "Port": 21901,
                "Proxy": {
                    "DestinationServiceName": "*",
                    "Upstreams": [{"DestinationName": "db"}],
                },
            },
            (
                "Proxy.DestinationServiceName must not be a wildcard for Connect "
                "proxy services",
                "upstream local bind port or local socket path must be defined and "
                "nonzero",
            ),
        ),
        (
            {"Kind": "mesh-gateway", "Proxy": {"DestinationServiceName": "web"}},
            (
                "Port must be non-zero for a mesh-gateway",
                "The Proxy.DestinationServiceName configuration is invalid for a "
                "mesh-gateway",
            ),
        ),
        (
            {"Port": 8080, "Connect": {"SidecarService": {"ID": "mine"}}},
            ("A SidecarService cannot specify an ID as this is managed by the agent",),
        ),
        (
            {"Connect": {"Native": True}},
            ("Port or SocketPath must be set for a Connect native service.",),
        ),
        (
            {
                "Kind": "connect-proxy",
                "Port": 21903,
                "Proxy": {
                    "DestinationServiceName": "web",
                    "Config": {"envoy_hcp_metrics_bind_socket_dir": "d" * 71},
                },
            },
            (
                "Proxy.Config: envoy_hcp_metrics_bind_socket_dir length 71 exceeds "
                "max 70",
            ),
        ),
    ],
)
async def test_mesh_registrations_are_validated_as_consul_does(
    agent: Agent, name: str, extra: dict[str, Any], errors: tuple[str, ...]
) -> None:
    answer = await agent.register({"Name": name, **extra})
    assert (answer.status, answer.text) == (400, _validation_failed(*errors))
    assert name not in await _services(agent)


async def test_a_mesh_gateway_may_carry_the_wan_federation_meta_key(
    agent: Agent, name: str
) -> None:
    meta = {"consul-wan-federation": "1"}
    body = {"Name": name, "Kind": "mesh-gateway", "Port": 8443, "Meta": meta}
    answer = await agent.register(body)
    assert answer.status == 200, answer.text
    service = await agent.get_json(f"/v1/agent/service/{name}")
    assert (service["Kind"], service["Meta"]) == ("mesh-gateway", meta)
    assert service["Proxy"] == {"MeshGateway": {}, "Expose": {}}
    typical = await agent.register({"Name": f"{name}-t", "Meta": meta})
    assert (typical.status, typical.text) == (
        400,
        "Invalid Service Meta: Couldn't load metadata pair "
        "('consul-wan-federation', '1'): Key prefix 'consul-' is reserved for "
        "internal use",
    )


async def test_duplicate_upstreams_are_named_by_their_key(
    agent: Agent, name: str
) -> None:
    upstream = {"DestinationName": "db", "LocalBindPort": 9191}
    proxy = {"DestinationServiceName": "web", "Upstreams": [upstream, upstream]}
    body = {"Name": name, "Kind": "connect-proxy", "Port": 21902, "Proxy": proxy}
    answer = await agent.register(body)
    key = (
        '[type="service", name="db", partition="", namespace="", peer="", '
        'datacenter=""]'
    )
    assert (answer.status, answer.text) == (
        400,
        _validation_failed(f"upstreams cannot contain duplicates of {key}"),
    )


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ({"Ports": [{"Name": "http", "Port": 80}]}, "Ports"),
        ({"Proxy": {"DestinationServiceName": "web", "Bogus": 1}}, "Bogus"),
        ({"Connect": {"SidecarService": {"Bogus": 1}}}, "Bogus"),
    ],
)
async def test_unknown_mesh_fields_are_decode_errors(
    agent: Agent, name: str, body: dict[str, Any], unknown: str
) -> None:
    answer = await agent.register({"Name": name, **body})
    assert (answer.status, answer.text) == (
        400,
        f'Request decode failed: json: unknown field "{unknown}"',
    )


async def test_peer_meta_is_kept_and_connect_ignores_unknown_fields(
    agent: Agent, name: str
) -> None:
    # ServiceConnect.UnmarshalJSON uses plain json.Unmarshal: no strictness.
    peer_meta = {"SNI": ["db.default.peer"], "Protocol": "tcp"}
    connect = {"PeerMeta": peer_meta, "Bogus": True}
    assert (await agent.register({"Name": name, "Connect": connect})).status == 200
    service = await agent.get_json(f"/v1/agent/service/{name}")
    assert "Connect" not in service  # api.AgentServiceConnect: Native only
    [flat] = await agent.get_json(f"/v1/catalog/service/{name}")
    assert flat["ServiceConnect"] == {"PeerMeta": peer_meta}


# --------------------------------------------------------------------------- #
# Connect.SidecarService                                                      #
# --------------------------------------------------------------------------- #


async def test_a_sidecar_service_registers_a_connect_proxy(
    agent: Agent, name: str
) -> None:
    body = {"Name": name, "Port": 8080, "Connect": {"SidecarService": {}}}
    assert (await agent.register(body)).status == 200
    services = await _services(agent)
    sidecar = services[f"{name}-sidecar-proxy"]
    assert sidecar["Kind"] == "connect-proxy"
    assert sidecar["Service"] == f"{name}-sidecar-proxy"
    assert sidecar["Port"] in SIDECAR_PORTS
    assert sidecar["Proxy"] == {
        "DestinationServiceName": name,
        "DestinationServiceID": name,
        "LocalServiceAddress": "127.0.0.1",
        "LocalServicePort": 8080,
        "MeshGateway": {},
        "Expose": {},
    }
    # The parent keeps nothing of its SidecarService.
    assert "Connect" not in services[name]

    checks = await agent.get_json("/v1/agent/checks")
    listening = checks[f"service:{name}-sidecar-proxy:1"]
    assert listening["Name"] == "Connect Sidecar Listening"
    assert (listening["Type"], listening["Interval"]) == ("tcp", "10s")
    assert listening["Definition"]["TCP"] == f"127.0.0.1:{sidecar['Port']}"
    aliasing = checks[f"service:{name}-sidecar-proxy:2"]
    assert aliasing["Name"] == f"Connect Sidecar Aliasing {name}"
    assert (aliasing["Type"], aliasing["ServiceID"]) == (
        "alias",
        f"{name}-sidecar-proxy",
    )


async def test_a_sidecar_inherits_tags_meta_and_address_and_keeps_its_port(
    agent: Agent, name: str
) -> None:
    body = {
        "Name": name,
        "Port": 8080,
        "Address": "10.1.2.3",
        "Tags": ["blue"],
        "Meta": {"team": "a"},
        "Connect": {"SidecarService": {"Port": 30123}},
    }
    assert (await agent.register(body)).status == 200
    sidecar = (await _services(agent))[f"{name}-sidecar-proxy"]
    assert (sidecar["Tags"], sidecar["Meta"]) == (["blue"], {"team": "a"})
    assert (sidecar["Address"], sidecar["Port"]) == ("10.1.2.3", 30123)
    checks = await agent.get_json("/v1/agent/checks")
    tcp = checks[f"service:{name}-sidecar-proxy:1"]["Definition"]["TCP"]
    assert tcp == "10.1.2.3:30123"


async def test_re_registering_keeps_the_sidecars_port_and_deregistering_removes_it(
    agent: Agent, name: str
) -> None:
    body = {"Name": name, "Port": 8080, "Connect": {"SidecarService": {}}}
    assert (await agent.register(body)).status == 200
    first = (await _services(agent))[f"{name}-sidecar-proxy"]["Port"]
    body["Tags"] = ["again"]
    assert (await agent.register(body)).status == 200
    again = (await _services(agent))[f"{name}-sidecar-proxy"]
    assert (again["Port"], again["Tags"]) == (first, ["again"])

    answer = await agent.call("PUT", f"/v1/agent/service/deregister/{name}")
    assert answer.status == 200
    services = await _services(agent)
    assert name not in services
    assert f"{name}-sidecar-proxy" not in services
    checks = await agent.get_json("/v1/agent/checks")
    assert [c for c in checks if f"{name}-sidecar-proxy" in c] == []


async def test_the_aliasing_check_follows_the_parents_health(
    agent: Agent, name: str
) -> None:
    body = {
        "Name": name,
        "Port": 8080,
        "Check": {"CheckID": f"{name}-ttl", "TTL": "30s"},
        "Connect": {"SidecarService": {}},
    }
    assert (await agent.register(body)).status == 200
    alias_id = f"service:{name}-sidecar-proxy:2"

    async def alias() -> tuple[str, str]:
        check = (await agent.get_json("/v1/agent/checks"))[alias_id]
        return check["Status"], check["Output"]

    async def shows(expected: tuple[str, str]) -> bool:
        return await alias() == expected

    parent_check = f"Service '{name}' check"
    failing = ("critical", f'Aliased check "{parent_check}" failing: ')
    await wait_until(lambda: shows(failing), message="the alias critical")
    note = {"note": "fine"}
    passed = await agent.call("PUT", f"/v1/agent/check/pass/{name}-ttl", **note)
    assert passed.status == 200
    await wait_until(
        lambda: shows(("passing", "All checks passing.")),
        message="the alias passing",
    )


async def test_a_sidecars_invalid_proxy_fails_its_own_validation(
    agent: Agent, name: str
) -> None:
    upstreams = [{"DestinationName": "db"}]
    sidecar = {"Proxy": {"Upstreams": upstreams}}
    body = {"Name": name, "Port": 8080, "Connect": {"SidecarService": sidecar}}
    answer = await agent.register(body)
    assert (answer.status, answer.text) == (
        400,
        "Failed Validation: 1 error occurred:\n\t* upstream local bind port or "
        "local socket path must be defined and nonzero\n\n",
    )
    assert name not in await _services(agent)


async def test_sidecar_ports_are_the_lowest_free_ones_of_the_range(
    consul_double: ConsulAgentDouble,
) -> None:
    async for agent in _double_session(consul_double):
        for service in ("a", "b"):
            sidecar: dict[str, Any] = {"SidecarService": {}}
            body = {"Name": service, "Port": 8080, "Connect": sidecar}
            assert (await agent.register(body)).status == 200
        services = consul_double.services()
        ports = [services[f"{s}-sidecar-proxy"]["Port"] for s in ("a", "b")]
        assert ports == [21000, 21001]


async def test_a_sidecars_own_token_vouches_for_it(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory(acl_tokens={"root"})
    async for agent in _double_session(double):
        path = "/v1/agent/service/register"
        sidecar = {"SidecarService": {"Token": "not-a-token"}}
        body = {"Name": "web", "Port": 8080, "Connect": sidecar}
        refused = await agent.call("PUT", path, body=body, token="root")
        assert (refused.status, refused.text) == (403, "ACL not found")
        assert double.services() == {}
        sidecar["SidecarService"]["Token"] = "root"
        anonymous = await agent.call("PUT", path, body=body)
        assert anonymous.status == 403  # the parent still needs its own right
        accepted = await agent.call("PUT", path, body=body, token="root")
        assert accepted.status == 200
        assert set(double.services()) == {"web", "web-sidecar-proxy"}


async def _double_session(double: ConsulAgentDouble) -> AsyncIterator[Agent]:
    async for one in agent_session(ConsulAgentHandle(double.address, double)):
        yield one


async def test_health_connect_lists_the_proxies_of_a_service(
    agent: Agent, name: str
) -> None:
    body = {"Name": name, "Port": 8080, "Connect": {"SidecarService": {}}}
    assert (await agent.register(body)).status == 200
    entries = await agent.get_json(f"/v1/health/connect/{name}")
    assert [e["Service"]["ID"] for e in entries] == [f"{name}-sidecar-proxy"]
    service = entries[0]["Service"]
    assert service["Kind"] == "connect-proxy"
    assert service["Proxy"]["DestinationServiceName"] == name
    assert await agent.get_json(f"/v1/health/connect/{name}-sidecar-proxy") == []


# --------------------------------------------------------------------------- #
# Kind and Proxy in a catalog registration                                    #
# --------------------------------------------------------------------------- #


def _external_proxy(node: str, name: str, **service: Any) -> dict[str, Any]:
    return {
        "Node": node,
        "Address": "192.0.2.10",
        "Service": {"Service": name, "Kind": "connect-proxy", **service},
    }


async def test_a_catalog_proxy_is_stored_as_given(agent: Agent, name: str) -> None:
    node = f"node-{name}"
    upstream = {"DestinationName": "db", "LocalBindPort": 9191}
    proxy = {"DestinationServiceName": "web", "Upstreams": [upstream]}
    body = _external_proxy(node, name, Port=21000, Proxy=proxy)
    try:
        answer = await agent.call("PUT", "/v1/catalog/register", body=body)
        assert answer.status == 200, answer.text
        [flat] = await agent.get_json(f"/v1/catalog/service/{name}")
        assert flat["ServiceKind"] == "connect-proxy"
        # No ServiceDefinition.NodeService() here: DestinationType stays "".
        assert flat["ServiceProxy"]["Upstreams"] == [
            {
                "DestinationType": "",
                "DestinationName": "db",
                "Datacenter": "",
                "LocalBindPort": 9191,
                "MeshGateway": {},
            }
        ]
    finally:
        await agent.call("PUT", "/v1/catalog/deregister", body={"Node": node})


async def test_a_catalog_proxy_is_validated_as_the_agent_validates(
    agent: Agent, name: str
) -> None:
    proxy = {"DestinationServiceName": "web"}
    body = _external_proxy(f"node-{name}", name, Proxy=proxy)
    answer = await agent.call("PUT", "/v1/catalog/register", body=body)
    assert (answer.status, answer.text) == (
        500,
        "1 error occurred:\n\t* Port or SocketPath must be set for a connect-proxy\n\n",
    )
    assert await agent.get_json(f"/v1/catalog/service/{name}") == []


async def test_catalog_connect_lists_the_proxies_flat(agent: Agent, name: str) -> None:
    body = {"Name": name, "Port": 8080, "Connect": {"SidecarService": {}}}
    assert (await agent.register(body)).status == 200
    [flat] = await agent.get_json(f"/v1/catalog/connect/{name}")
    assert (flat["ServiceID"], flat["ServiceKind"]) == (
        f"{name}-sidecar-proxy",
        "connect-proxy",
    )
    assert flat["ServiceProxy"]["DestinationServiceID"] == name


async def test_an_alias_of_a_service_on_another_node_follows_the_catalog(
    agent: Agent, name: str
) -> None:
    node = f"node-{name}"

    def external(status: str, output: str) -> dict[str, Any]:
        check = {"CheckID": f"{name}-check", "Name": "db ok", "ServiceID": name}
        return {
            "Node": node,
            "Address": "192.0.2.10",
            "Service": {"Service": name},
            "Check": {**check, "Status": status, "Output": output},
        }

    alias_id = f"{name}-alias"
    alias = {"ID": alias_id, "Name": "db alias", "AliasNode": node}

    async def shows(expected: tuple[str, str]) -> bool:
        check = (await agent.get_json("/v1/agent/checks"))[alias_id]
        return (check["Status"], check["Output"]) == expected

    try:
        written = await agent.call(
            "PUT", "/v1/catalog/register", body=external("passing", "")
        )
        assert written.status == 200, written.text
        body = {**alias, "AliasService": name}
        answer = await agent.call("PUT", "/v1/agent/check/register", body=body)
        assert answer.status == 200, answer.text
        passing = ("passing", "All checks passing.")
        await wait_until(lambda: shows(passing), message="the alias passing")
        failing = external("critical", "down")
        written = await agent.call("PUT", "/v1/catalog/register", body=failing)
        assert written.status == 200, written.text
        down = ("critical", 'Aliased check "db ok" failing: down')
        await wait_until(lambda: shows(down), message="the alias critical")
    finally:
        await agent.call("PUT", f"/v1/agent/check/deregister/{alias_id}")
        await agent.call("PUT", "/v1/catalog/deregister", body={"Node": node})
