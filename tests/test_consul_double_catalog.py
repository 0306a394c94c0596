"""The catalog and health reads and writes of the Consul agent double.

Tests taking ``consul_agent`` hold for a real Consul 1.20-1.22 agent too (set
CONSUL_HTTP_ADDR): external nodes registered through /v1/catalog, the reads
over them, the errors and indexes Consul gives. Those taking ``consul_double``
check what only the double does (its refusals of what it does not model).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from agent_http_support import agent_http
from tests.managed.agent_handle import (  # fixtures the tests below take
    ConsulAgentHandle,
    consul_agent,
    consul_double,
)
from tests.managed.consul_agent_double import ConsulAgentDouble

__all__ = ["consul_agent", "consul_double"]


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def index(self) -> int:
        return int(self.headers["X-Consul-Index"])


class Catalog:
    """Raw HTTP to an agent; deregisters the nodes it registered at the end."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.nodes: set[str] = set()

    async def call(
        self, method: str, path: str, body: object = None, **params: Any
    ) -> Reply:
        data = None if body is None else json.dumps(body)
        async with self.session.request(
            method, path, data=data, params=params or None
        ) as response:
            return Reply(response.status, await response.text(), response.headers)

    async def get(self, path: str, **params: Any) -> Reply:
        reply = await self.call("GET", path, **params)
        assert reply.status == 200, reply.text
        return reply

    async def register(self, body: Mapping[str, Any]) -> Reply:
        if "Node" in body:
            self.nodes.add(str(body["Node"]))
        return await self.call("PUT", "/v1/catalog/register", body)

    async def deregister(self, body: Mapping[str, Any]) -> Reply:
        return await self.call("PUT", "/v1/catalog/deregister", body)

    async def cleanup(self) -> None:
        for node in self.nodes:
            await self.deregister({"Node": node})


@pytest.fixture
async def catalog(consul_agent: ConsulAgentHandle) -> AsyncIterator[Catalog]:
    async with agent_http(consul_agent) as session:
        client = Catalog(session)
        yield client
        await client.cleanup()


@pytest.fixture
def node() -> str:
    """A unique external node name (tests may share a real agent)."""
    return f"ext-{uuid.uuid4().hex[:8]}"


def external(node: str, name: str, **extra: Any) -> dict[str, Any]:
    """An external node with one service and a passing service check."""
    return {
        "Node": node,
        "Address": "192.0.2.10",
        "NodeMeta": {"rack": "r1"},
        "Service": {"ID": f"{name}-1", "Service": name, "Tags": ["v1"], "Port": 80},
        "Check": {
            "CheckID": f"{name}-check",
            "Name": "probe",
            "Status": "passing",
            "ServiceID": f"{name}-1",
        },
        **extra,
    }


async def test_register_answers_true_and_every_read_shows_the_external_node(
    catalog: Catalog, node: str, name: str
) -> None:
    reply = await catalog.register(external(node, name))
    assert (reply.status, reply.json()) == (200, True)

    nodes = (await catalog.get("/v1/catalog/nodes")).json()
    mine = next(n for n in nodes if n["Node"] == node)
    assert (mine["Address"], mine["Meta"]) == ("192.0.2.10", {"rack": "r1"})
    assert mine["CreateIndex"] > 0

    one = (await catalog.get(f"/v1/catalog/node/{node}")).json()
    assert one["Node"]["Node"] == node
    assert one["Services"][f"{name}-1"]["Service"] == name
    assert one["Services"][f"{name}-1"]["Weights"] == {"Passing": 1, "Warning": 1}

    flat = (await catalog.get(f"/v1/catalog/service/{name}")).json()
    assert [(e["Node"], e["ServiceID"], e["ServicePort"]) for e in flat] == [
        (node, f"{name}-1", 80)
    ]
    assert name in (await catalog.get("/v1/catalog/services")).json()

    healthy = (await catalog.get(f"/v1/health/service/{name}", passing="")).json()
    assert [e["Node"]["Node"] for e in healthy] == [node]
    # an external node has no serfHealth: only what was registered counts
    assert [c["CheckID"] for c in healthy[0]["Checks"]] == [f"{name}-check"]
    assert healthy[0]["Checks"][0]["ServiceName"] == name

    # catalog registrations are not the agent's services
    agent_services = (await catalog.get("/v1/agent/services")).json()
    assert f"{name}-1" not in agent_services


async def test_a_critical_external_check_keeps_the_instance_out_of_passing(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Checks"] = [{"CheckID": "node-ok", "Name": "node", "Status": "critical"}]
    assert (await catalog.register(body)).status == 200

    everyone = (await catalog.get(f"/v1/health/service/{name}")).json()
    assert {c["CheckID"] for c in everyone[0]["Checks"]} == {"node-ok", f"{name}-check"}
    assert (await catalog.get(f"/v1/health/service/{name}", passing="1")).json() == []


async def test_register_errors_are_consuls_rpc_errors(
    catalog: Catalog, node: str, name: str
) -> None:
    async def error(body: Mapping[str, Any]) -> tuple[int, str]:
        reply = await catalog.register(body)
        return reply.status, reply.text

    assert await error({"Address": "192.0.2.1"}) == (500, "Must provide node")
    assert await error({"Node": node}) == (
        500,
        "Must provide address if SkipNodeUpdate is not set",
    )
    status, text = await error({"Node": node, "Address": "192.0.2.1", "ID": "x"})
    assert (status, text.startswith("Bad node ID: ")) == (500, True)
    assert await error(
        {"Node": node, "Address": "192.0.2.1", "Service": {"ID": "only-id"}}
    ) == (
        500,
        "Must provide service name (Service.Service) when service ID is provided",
    )
    assert await error(
        {
            "Node": node,
            "Address": "192.0.2.1",
            "Service": {"Service": name, "Address": "0.0.0.0"},
        }
    ) == (500, "Invalid service address")
    assert await error(
        {
            "Node": node,
            "Address": "192.0.2.1",
            "Check": {"CheckID": "c1", "Name": "c1", "ServiceID": "nope"},
        }
    ) == (500, "Unknown service ID 'nope' for check ID 'c1'")
    assert (await catalog.get(f"/v1/catalog/node/{node}")).text.strip() == "null"


async def test_skip_node_update_keeps_the_node_as_registered(
    catalog: Catalog, node: str, name: str
) -> None:
    assert (await catalog.register(external(node, name))).status == 200
    other = {"Node": node, "SkipNodeUpdate": True, "Service": {"Service": f"{name}-b"}}
    assert (await catalog.register(other)).status == 200

    one = (await catalog.get(f"/v1/catalog/node/{node}")).json()
    assert one["Node"]["Address"] == "192.0.2.10"
    assert sorted(one["Services"]) == [f"{name}-1", f"{name}-b"]


async def test_deregister_a_check_then_a_service_then_the_node(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Checks"] = [{"CheckID": "node-ok", "Name": "node", "Status": "passing"}]
    assert (await catalog.register(body)).status == 200

    reply = await catalog.deregister({"Node": node, "CheckID": "node-ok"})
    assert (reply.status, reply.json()) == (200, True)
    checks = (await catalog.get(f"/v1/health/node/{node}")).json()
    assert [c["CheckID"] for c in checks] == [f"{name}-check"]

    assert (await catalog.deregister({"Node": node, "ServiceID": f"{name}-1"})).json()
    one = (await catalog.get(f"/v1/catalog/node/{node}")).json()
    assert one["Services"] == {}
    # the service's checks went with it
    assert (await catalog.get(f"/v1/health/node/{node}")).json() == []

    assert (await catalog.deregister({"Node": node})).json() is True
    assert (await catalog.get(f"/v1/catalog/node/{node}")).text.strip() == "null"
    nodes = (await catalog.get("/v1/catalog/nodes")).json()
    assert node not in [n["Node"] for n in nodes]


async def test_deregister_needs_a_node_and_forgives_what_is_absent(
    catalog: Catalog, node: str
) -> None:
    reply = await catalog.deregister({"ServiceID": "x"})
    assert (reply.status, reply.text) == (500, "Must provide node")
    assert (await catalog.deregister({"Node": node})).json() is True
    assert (await catalog.deregister({"Node": node, "ServiceID": "x"})).json() is True


async def test_writes_move_the_index_and_wake_blocking_reads(
    consul_agent: ConsulAgentHandle, catalog: Catalog, node: str, name: str
) -> None:
    before = await catalog.get("/v1/catalog/nodes")
    blocked = asyncio.ensure_future(
        catalog.get("/v1/catalog/nodes", index=str(before.index), wait="10s")
    )
    double = consul_agent.double
    if double is not None:  # a real agent offers no view of what it received
        await double.wait_for(
            lambda: any(
                r.path == "/v1/catalog/nodes"
                and ("index", str(before.index)) in r.query
                for r in double.requests
            )
        )
        assert not blocked.done()  # held: nothing changed yet
    assert (await catalog.register(external(node, name))).status == 200
    woken = await asyncio.wait_for(blocked, 10)
    assert woken.index > before.index
    assert node in [n["Node"] for n in woken.json()]

    checks_before = await catalog.get(f"/v1/health/checks/{name}")
    await catalog.register(
        {
            "Node": node,
            "SkipNodeUpdate": True,
            "Check": {
                "CheckID": f"{name}-check",
                "Name": "probe",
                "Status": "critical",
                "ServiceID": f"{name}-1",
            },
        }
    )
    checks_after = await catalog.get(f"/v1/health/checks/{name}")
    assert checks_after.index > checks_before.index
    assert [c["Status"] for c in checks_after.json()] == ["critical"]


async def test_health_state_any_and_by_status_with_a_filter(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Checks"] = [{"CheckID": "node-bad", "Name": "node", "Status": "critical"}]
    assert (await catalog.register(body)).status == 200

    def ids(reply: Reply) -> set[str]:
        return {c["CheckID"] for c in reply.json() if c["Node"] == node}

    assert ids(await catalog.get("/v1/health/state/any")) == {
        "node-bad",
        f"{name}-check",
    }
    assert ids(await catalog.get("/v1/health/state/critical")) == {"node-bad"}
    assert ids(await catalog.get("/v1/health/state/passing")) == {f"{name}-check"}
    filtered = await catalog.get(
        "/v1/health/state/any", filter=f'Node == "{node}" and ServiceName == "{name}"'
    )
    assert [c["CheckID"] for c in filtered.json()] == [f"{name}-check"]
    # the agent's own node check is in every "any" answer
    assert "serfHealth" in {
        c["CheckID"] for c in (await catalog.get("/v1/health/state/any")).json()
    }
    # Consul does not validate the state: an unknown one matches nothing
    assert (await catalog.get("/v1/health/state/bogus")).json() == []


async def test_health_checks_lists_a_services_checks_only(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Checks"] = [{"CheckID": "node-ok", "Name": "node", "Status": "passing"}]
    assert (await catalog.register(body)).status == 200
    checks = (await catalog.get(f"/v1/health/checks/{name}")).json()
    assert [(c["CheckID"], c["Node"], c["ServiceID"]) for c in checks] == [
        (f"{name}-check", node, f"{name}-1")
    ]
    none = await catalog.get(f"/v1/health/checks/{name}", filter='Status == "critical"')
    assert none.json() == []


async def test_catalog_nodes_by_node_meta_and_filter(
    catalog: Catalog, node: str, name: str
) -> None:
    assert (await catalog.register(external(node, name))).status == 200
    by_meta = (
        await catalog.get("/v1/catalog/nodes", **{"node-meta": "rack:r1"})
    ).json()
    assert node in [n["Node"] for n in by_meta]
    other = (await catalog.get("/v1/catalog/nodes", **{"node-meta": "rack:r2"})).json()
    assert node not in [n["Node"] for n in other]
    filtered = await catalog.get("/v1/catalog/nodes", filter=f'Node == "{node}"')
    assert [n["Node"] for n in filtered.json()] == [node]


async def test_unknown_node_and_missing_names(catalog: Catalog, node: str) -> None:
    assert (await catalog.get(f"/v1/catalog/node/{node}")).json() is None
    assert (await catalog.get(f"/v1/health/node/{node}")).json() == []
    for path, text in [
        ("/v1/catalog/node/", "Missing node name"),
        ("/v1/health/node/", "Missing node name"),
        ("/v1/health/checks/", "Missing service name"),
        ("/v1/health/state/", "Missing check state"),
    ]:
        reply = await catalog.call("GET", path)
        assert (reply.status, reply.text) == (400, text), path


async def test_datacenters_lists_the_agents_own(catalog: Catalog) -> None:
    own = (await catalog.get("/v1/agent/self")).json()["Config"]["Datacenter"]
    assert (await catalog.get("/v1/catalog/datacenters")).json() == [own]


async def test_the_agents_own_node_is_in_the_catalog(catalog: Catalog) -> None:
    own = (await catalog.get("/v1/agent/self")).json()["Config"]["NodeName"]
    assert own in [n["Node"] for n in (await catalog.get("/v1/catalog/nodes")).json()]
    checks = (await catalog.get(f"/v1/health/node/{own}")).json()
    assert "serfHealth" in [c["CheckID"] for c in checks]
    assert (await catalog.get(f"/v1/catalog/node/{own}")).json()["Node"]["Node"] == own


async def test_the_servers_consul_service_is_in_the_catalog_not_the_agent(
    catalog: Catalog,
) -> None:
    # The leader registers a `consul` service for every server (port 8300,
    # no tags, Consul's meta); it is not a service of any agent.
    entries = (await catalog.get("/v1/catalog/service/consul")).json()
    assert entries
    assert {e["ServiceID"] for e in entries} == {"consul"}
    assert all(e["ServiceTags"] == [] for e in entries)
    leader = (await catalog.get("/v1/status/leader")).json()
    assert leader in [f"{e['Address']}:{e['ServicePort']}" for e in entries]
    for entry in entries:
        assert {"raft_version", "serf_protocol_current", "version"} <= set(
            entry["ServiceMeta"]
        )
    healthy = (await catalog.get("/v1/health/service/consul", passing="true")).json()
    assert {e["Node"]["Node"] for e in healthy} == {e["Node"] for e in entries}
    assert "consul" not in (await catalog.get("/v1/agent/services")).json()


@pytest.mark.parametrize(
    ("path", "empty"),
    [
        ("/v1/health/service/{name}", []),
        ("/v1/health/checks/{name}", []),
        ("/v1/catalog/service/{name}", []),
        ("/v1/catalog/services", {}),
        ("/v1/catalog/nodes", []),
    ],
)
async def test_a_peer_that_does_not_exist_has_nothing(
    catalog: Catalog, node: str, name: str, path: str, empty: object
) -> None:
    assert (await catalog.register(external(node, name))).status == 200
    reply = await catalog.get(path.format(name=name), peer="no-such-peer")
    assert reply.json() == empty


LOCALITY = {"Region": "eu-west-1", "Zone": "eu-west-1a"}


def _socket_locality_connect(node: str, name: str) -> dict[str, Any]:
    """``external`` with a socket path, localities and a native Connect."""
    body = external(node, name, Locality={"Region": "eu-west-1"})
    body["Service"] |= {
        "SocketPath": f"/var/run/{name}.sock",
        "Locality": LOCALITY,
        "Connect": {"Native": True, "PeerMeta": {"Protocol": "http"}},
    }
    return body


async def test_socket_path_locality_and_connect_are_stored_and_shown(
    catalog: Catalog, node: str, name: str
) -> None:
    assert (await catalog.register(_socket_locality_connect(node, name))).json()
    connect = {"Native": True, "PeerMeta": {"Protocol": "http"}}
    socket = f"/var/run/{name}.sock"

    [flat] = (await catalog.get(f"/v1/catalog/service/{name}")).json()
    assert (flat["ServiceSocketPath"], flat["ServiceConnect"]) == (socket, connect)
    assert flat["ServiceLocality"] == LOCALITY
    assert "Locality" not in flat  # ServiceNode carries no node locality

    [entry] = (await catalog.get(f"/v1/health/service/{name}")).json()
    assert entry["Node"]["Locality"] == {"Region": "eu-west-1"}
    service = entry["Service"]
    assert (service["SocketPath"], service["Connect"]) == (socket, connect)
    assert service["Locality"] == LOCALITY

    one = (await catalog.get(f"/v1/catalog/node/{node}")).json()
    assert one["Node"]["Locality"] == {"Region": "eu-west-1"}
    assert one["Services"][f"{name}-1"]["Locality"] == LOCALITY
    nodes = (await catalog.get("/v1/catalog/nodes")).json()
    assert next(n for n in nodes if n["Node"] == node)["Locality"] == {
        "Region": "eu-west-1"
    }
    # a native instance is part of the service's connect view
    native = (await catalog.get(f"/v1/catalog/connect/{name}")).json()
    assert [e["ServiceID"] for e in native] == [f"{name}-1"]


async def test_without_them_locality_is_absent_or_null_and_connect_empty(
    catalog: Catalog, node: str, name: str
) -> None:
    assert (await catalog.register(external(node, name))).json()
    [flat] = (await catalog.get(f"/v1/catalog/service/{name}")).json()
    # ServiceNode.ServiceLocality has no omitempty; the others do
    assert (flat["ServiceLocality"], flat["ServiceConnect"]) == (None, {})
    assert flat["ServiceSocketPath"] == ""
    [entry] = (await catalog.get(f"/v1/health/service/{name}")).json()
    assert "Locality" not in entry["Node"]
    assert not {"Locality", "SocketPath"} & set(entry["Service"])
    assert entry["Service"]["Connect"] == {}


async def test_connect_native_is_validated_as_nodeservice_validate_does(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Service"] |= {"Port": 0, "Connect": {"Native": True}}
    reply = await catalog.register(body)
    assert (reply.status, reply.text) == (
        500,
        "1 error occurred:\n\t* Port or SocketPath must be set for a Connect "
        "native service.\n\n",
    )
    assert (await catalog.get(f"/v1/catalog/service/{name}")).json() == []
    body["Service"]["SocketPath"] = f"/var/run/{name}.sock"
    assert (await catalog.register(body)).status == 200


async def test_a_locality_of_the_wrong_shape_is_a_decode_error(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name, Locality={"Planet": "earth"})
    reply = await catalog.register(body)
    assert (reply.status, reply.text) == (
        400,
        'Request decode failed: json: unknown field "Planet"',
    )
    body = external(node, name)
    body["Service"]["Locality"] = {"Planet": "earth"}
    reply = await catalog.register(body)
    assert (reply.status, reply.text) == (
        400,
        'Request decode failed: json: unknown field "Planet"',
    )


async def test_a_write_changing_only_socket_path_or_locality_changes_nothing(
    catalog: Catalog, node: str, name: str
) -> None:
    """Node.IsSame and ServiceNode.IsSameService do not compare them."""
    assert (await catalog.register(_socket_locality_connect(node, name))).json()
    before = await catalog.get(f"/v1/catalog/service/{name}")
    changed = _socket_locality_connect(node, name)
    changed["Locality"] = {"Region": "us-east-1"}
    changed["Service"] |= {"SocketPath": "/other.sock", "Locality": {"Zone": "b"}}
    assert (await catalog.register(changed)).json()
    after = await catalog.get(f"/v1/catalog/service/{name}")
    assert (after.index, after.json()) == (before.index, before.json())
    one = (await catalog.get(f"/v1/catalog/node/{node}")).json()
    assert one["Node"]["Locality"] == {"Region": "eu-west-1"}


# --------------------------------------------------------------------------- #
# what only the double does                                                   #
# --------------------------------------------------------------------------- #


async def test_double_refuses_what_it_does_not_model(
    consul_double: ConsulAgentDouble, catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Service"]["Connect"] = {"SidecarService": {"Port": 21000}}
    reply = await catalog.register(body)
    assert reply.status == 400 and "Service.Connect.SidecarService" in reply.text
    assert (await catalog.get(f"/v1/catalog/service/{name}")).json() == []
    own = {"Node": consul_double.node_name, "Address": "127.0.0.1"}
    reply = await catalog.register(own)
    assert reply.status == 400 and "own node" in reply.text
    reply = await catalog.register({**external(node, name), "PeerName": "p"})
    assert (reply.status, reply.text) == (
        500,
        "cannot register requests with PeerName in them",
    )


async def test_double_forgetting_all_forgets_the_catalog_too(
    consul_double: ConsulAgentDouble, catalog: Catalog, node: str, name: str
) -> None:
    assert (await catalog.register(external(node, name))).status == 200
    consul_double.forget_all()
    assert (await catalog.get(f"/v1/catalog/node/{node}")).json() is None


async def test_a_catalog_check_keeps_its_definition_and_gets_its_type(
    catalog: Catalog, node: str, name: str
) -> None:
    body = external(node, name)
    body["Check"]["Definition"] = {
        "HTTP": "http://192.0.2.10/health",
        "Interval": "10s",
    }
    assert (await catalog.register(body)).status == 200
    (check,) = (await catalog.get(f"/v1/health/checks/{name}")).json()
    assert check["Type"] == "http"  # Consul fills it from the Definition
    assert check["Definition"]["HTTP"] == "http://192.0.2.10/health"
    assert check["Definition"]["Interval"] == "10s"
    assert check["Interval"] == ""  # only the agent sets the top-level strings
    # nothing runs a catalog check: it keeps the status it was given
    assert check["Status"] == "passing"


async def test_a_node_change_moves_its_modify_index_and_a_repeat_moves_nothing(
    catalog: Catalog, node: str, name: str
) -> None:
    assert (await catalog.register(external(node, name))).status == 200
    first = (await catalog.get(f"/v1/catalog/node/{node}")).json()["Node"]
    listed = await catalog.get("/v1/catalog/nodes")

    assert (await catalog.register(external(node, name))).status == 200
    assert (await catalog.get("/v1/catalog/nodes")).index == listed.index

    assert (await catalog.register(external(node, name, Address="192.0.2.11"))).json()
    moved = (await catalog.get(f"/v1/catalog/node/{node}")).json()["Node"]
    assert moved["Address"] == "192.0.2.11"
    assert moved["CreateIndex"] == first["CreateIndex"]
    assert moved["ModifyIndex"] > first["ModifyIndex"]
