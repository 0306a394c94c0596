"""The double's agent endpoints, refusals and headers, as Consul's source has them.

``GET /`` and unknown paths (agent/http.go Index), /v1/agent/self and
/v1/agent/members with /v1/status/*, script checks, the register fields the
double models (the mesh's: test_consul_double_mesh.py), and the response
headers of each kind of endpoint.
Tests taking ``consul_agent`` hold for a real Consul 1.20-1.22 agent too
(CONSUL_HTTP_ADDR); ``consul_double`` / ``consul_double_factory`` ones use the
double's own options.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

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

SCRIPTS_DISABLED = (
    "Scripts are disabled on this agent from remote calls; to enable, configure "
    "'enable_script_checks' to true"
)
UI_DISABLED = (
    "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the "
    "agent configuration and restart."
)
QUERY_META = (
    "X-Consul-Index",
    "X-Consul-KnownLeader",
    "X-Consul-LastContact",
    "X-Consul-Effective-Consistency",
)


async def _double_agent(double: ConsulAgentDouble) -> AsyncIterator[Agent]:
    async for one in agent_session(ConsulAgentHandle(double.address, double)):
        yield one


async def _status(agent: Agent, check_id: str) -> str:
    checks = await agent.get_json("/v1/agent/checks")
    return str(checks.get(check_id, {}).get("Status", ""))


# --------------------------------------------------------------------------- #
# GET / and unknown paths (HTTPHandlers.Index)                                #
# --------------------------------------------------------------------------- #


async def test_root_says_ui_disabled_or_redirects_to_the_ui(agent: Agent) -> None:
    for method in ("GET", "PUT"):  # Index takes any method
        root = await agent.call(method, "/")
        if root.status == 301:  # an agent with the UI on (consul agent -dev)
            assert root.headers["location"] == "/ui/"
        else:
            assert (root.status, root.text) == (200, UI_DISABLED)
            assert root.headers["content-type"] == "text/plain; charset=utf-8"


async def test_an_http_check_on_the_agents_own_address_passes(
    agent: Agent, name: str
) -> None:
    check = {"HTTP": f"{agent.url}/", "Interval": "1s"}
    assert (await agent.register({"Name": name, "Check": check})).status == 200

    async def passing() -> bool:
        return await _status(agent, f"service:{name}") == "passing"

    await wait_until(passing, timeout=10, message="the check on / passing")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/v1/nope", "Invalid URL path: not a recognized HTTP API endpoint\n"),
        (
            "/nope",
            "Invalid URL path: if attempting to use the HTTP API, ensure the path "
            "starts with '/v1/'\n",
        ),
    ],
)
async def test_unknown_paths_are_404_by_whether_they_hold_v1(
    agent: Agent, path: str, text: str
) -> None:
    answer = await agent.call("GET", path)
    assert (answer.status, answer.text) == (404, text)
    assert "vary" not in answer.headers  # Index is not wrapped


async def test_a_double_with_the_ui_redirects_and_its_check_still_passes(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory(ui_enabled=True)
    async for agent in _double_agent(double):
        root = await agent.call("GET", "/")
        assert (root.status, root.headers["location"]) == (301, "/ui/")
        assert root.text == '<a href="/ui/">Moved Permanently</a>.\n\n'
        page = await agent.call("GET", "/ui/")
        assert page.status == 200
        assert page.headers["content-type"].startswith("text/html")
        check = {"HTTP": f"{agent.url}/", "Interval": "1s"}
        await agent.register({"Name": "web", "Check": check})
        await double.wait_for(
            lambda: double.checks()["service:web"]["Status"] == "passing", 10
        )
        output = double.checks()["service:web"]["Output"]
        assert output.startswith(f"HTTP GET {agent.url}/: 200 OK")


# --------------------------------------------------------------------------- #
# /v1/agent/self, /v1/agent/members, /v1/status/*                             #
# --------------------------------------------------------------------------- #


async def test_agent_self_has_every_section(agent: Agent) -> None:
    me = await agent.get_json("/v1/agent/self")
    assert {"Config", "DebugConfig", "Coord", "Member", "Stats", "Meta"} <= set(me)
    config = me["Config"]
    for key in ("Datacenter", "PrimaryDatacenter", "NodeName", "NodeID"):
        assert isinstance(config[key], str) and config[key], key
    for key in ("Revision", "Version", "BuildDate"):
        assert isinstance(config[key], str), key
    assert isinstance(config["Server"], bool)
    assert me["Meta"]["consul-version"] == config["Version"]
    assert len(me["Coord"]["Vec"]) == 8
    debug = me["DebugConfig"]
    assert (debug["NodeName"], debug["Datacenter"]) == (
        config["NodeName"],
        config["Datacenter"],
    )
    assert debug["EnableRemoteScriptChecks"] is False  # Consul's default
    assert isinstance(debug["ACLsEnabled"], bool)
    assert isinstance(debug["ClientAddrs"], list)
    stats = me["Stats"]
    assert stats["consul"]["server"] == str(config["Server"]).lower()
    assert all(isinstance(v, str) for part in stats.values() for v in part.values())
    if config["Server"]:
        assert stats["raft"]["state"] in ("Leader", "Follower", "Candidate")


async def test_self_is_consistent_with_status_and_members(agent: Agent) -> None:
    me = await agent.get_json("/v1/agent/self")
    leader = await agent.get_json("/v1/status/leader")
    peers = await agent.get_json("/v1/status/peers")
    assert leader in peers
    assert leader.endswith(":8300")
    assert me["Stats"]["consul"]["leader_addr"] == leader
    members = await agent.get_json("/v1/agent/members")
    mine = [m for m in members if m["Name"] == me["Config"]["NodeName"]]
    assert mine == [me["Member"]]
    member = me["Member"]
    assert (member["Status"], member["Port"]) == (1, 8301)
    tags, config = member["Tags"], me["Config"]
    assert (tags["dc"], tags["id"]) == (config["Datacenter"], config["NodeID"])
    assert tags["role"] == ("consul" if config["Server"] else "node")
    for key in ("Protocol", "Delegate"):
        low, high, now = (member[f"{key}{s}"] for s in ("Min", "Max", "Cur"))
        assert low <= now <= high


async def test_wan_members_are_named_node_dot_dc(agent: Agent) -> None:
    me = await agent.get_json("/v1/agent/self")
    wan = await agent.get_json("/v1/agent/members", wan="1")
    if me["Config"]["Server"]:
        node = f"{me['Config']['NodeName']}.{me['Config']['Datacenter']}"
        assert node in [m["Name"] for m in wan]
        assert {m["Port"] for m in wan if m["Name"] == node} == {8302}


async def test_members_segments_as_consul_ce_treats_them(agent: Agent) -> None:
    everyone = await agent.call("GET", "/v1/agent/members", segment="_all")
    assert everyone.status == 200
    wan = await agent.call("GET", "/v1/agent/members", wan="1", segment="seg")
    assert (wan.status, wan.text) == (400, "Cannot provide a segment with wan=true")
    lan = await agent.call("GET", "/v1/agent/members", segment="seg")
    server = (await agent.get_json("/v1/agent/self"))["Config"]["Server"]
    # CE: a server has no segments at all, a client only its own ("")
    refusal = (
        "Network segments are not supported in this version of Consul"
        if server
        else 'segment "seg" not found'
    )
    assert (lan.status, lan.text) == (500, refusal)


async def test_members_and_self_follow_acls(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory(acl_tokens={"good"})
    async for agent in _double_agent(double):
        assert await agent.get_json("/v1/agent/members") == []  # filtered
        shown = await agent.get_json("/v1/agent/members", token="good")
        assert [m["Name"] for m in shown] == [double.node_name]
        unknown = await agent.call("GET", "/v1/agent/members", token="nope")
        assert (unknown.status, unknown.text) == (403, "ACL not found")
        me = await agent.get_json("/v1/agent/self", token="good")
        assert me["DebugConfig"]["ACLsEnabled"] is True
        assert me["Stats"]["consul"]["acl"] == "enabled"
        assert me["Member"]["Tags"]["acls"] == "1"


# --------------------------------------------------------------------------- #
# script checks                                                               #
# --------------------------------------------------------------------------- #

SCRIPT_CHECK = {"Args": ["/bin/true"], "Interval": "10s"}


async def test_script_checks_refused_the_same_on_every_endpoint(
    agent: Agent, name: str
) -> None:
    answers = [
        await agent.register({"Name": name, "Check": SCRIPT_CHECK}),
        await agent.register({"Name": name, "Checks": [SCRIPT_CHECK]}),
        await agent.call(
            "PUT", "/v1/agent/check/register", body={"Name": name, **SCRIPT_CHECK}
        ),
    ]
    assert [(a.status, a.text) for a in answers] == [(500, SCRIPTS_DISABLED)] * 3
    assert name not in await agent.get_json("/v1/agent/services")
    assert name not in await agent.get_json("/v1/agent/checks")


async def test_local_script_checks_still_refuse_api_registrations(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory(enable_local_script_checks=True)
    async for agent in _double_agent(double):
        refused = await agent.register({"Name": "web", "Check": SCRIPT_CHECK})
        assert (refused.status, refused.text) == (500, SCRIPTS_DISABLED)
        debug = (await agent.get_json("/v1/agent/self"))["DebugConfig"]
        assert debug["EnableLocalScriptChecks"] is True
        assert debug["EnableRemoteScriptChecks"] is False


@pytest.mark.parametrize(
    ("code", "status"), [(0, "passing"), (1, "warning"), (2, "critical")]
)
async def test_enabled_script_checks_run_with_consuls_exit_codes(
    consul_double_factory: DoubleFactory, code: int, status: str
) -> None:
    double = await consul_double_factory(
        enable_script_checks=True, min_check_interval=0.05
    )
    script = f"import sys; print('said {code}'); sys.exit({code})"
    check = {"Args": [sys.executable, "-c", script], "Interval": "50ms"}
    async for agent in _double_agent(double):
        assert (await agent.register({"Name": "web", "Check": check})).status == 200
        # a new check starts critical with no output: wait for the script's
        await double.wait_for(lambda: bool(double.checks()["service:web"]["Output"]))
        found = double.checks()["service:web"]
        assert (found["Type"], found["Status"]) == ("script", status)
        assert found["Output"] == f"said {code}\n"
        me = await agent.get_json("/v1/agent/self")
        assert me["DebugConfig"]["EnableRemoteScriptChecks"] is True


async def test_a_script_past_its_timeout_is_critical(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory(
        enable_script_checks=True, min_check_interval=0.05
    )
    script = "import time; time.sleep(30)"
    check = {
        "Args": [sys.executable, "-c", script],
        "Interval": "1s",
        "Timeout": "200ms",
        "Status": "passing",
    }
    async for agent in _double_agent(double):
        await agent.register({"Name": "web", "Check": check})
        await double.wait_for(
            lambda: double.checks()["service:web"]["Status"] == "critical", 10
        )
        output = double.checks()["service:web"]["Output"]
        assert output == "Timed out (200ms) running check"


# --------------------------------------------------------------------------- #
# register fields: modelled or refused, never dropped                         #
# --------------------------------------------------------------------------- #


async def test_socket_path_locality_and_native_connect_are_kept(
    agent: Agent, name: str
) -> None:
    body = {
        "Name": name,
        "SocketPath": f"/tmp/{name}.sock",
        "Locality": {"Region": "eu-west-1", "Zone": "eu-west-1a"},
        "Connect": {"Native": True},
    }
    assert (await agent.register(body)).status == 200
    locality = {"Region": "eu-west-1", "Zone": "eu-west-1a"}
    own = await agent.get_json(f"/v1/agent/service/{name}")
    assert own["SocketPath"] == body["SocketPath"]
    assert (own["Locality"], own["Connect"]) == (locality, {"Native": True})
    listed = (await agent.get_json("/v1/agent/services"))[name]
    assert listed["Locality"] == locality
    [entry] = await agent.get_json(f"/v1/health/service/{name}")
    service = entry["Service"]
    assert service["SocketPath"] == body["SocketPath"]
    assert (service["Locality"], service["Connect"]) == (locality, {"Native": True})
    [flat] = await agent.get_json(f"/v1/catalog/service/{name}")
    assert flat["ServiceSocketPath"] == body["SocketPath"]
    assert flat["ServiceConnect"] == {"Native": True}
    assert flat["ServiceLocality"] == locality


async def test_a_locality_of_the_wrong_shape_is_a_decode_error(
    agent: Agent, name: str
) -> None:
    answer = await agent.register({"Name": name, "Locality": {"Planet": "earth"}})
    assert (answer.status, answer.text) == (
        400,
        'Request decode failed: json: unknown field "Planet"',
    )


# --------------------------------------------------------------------------- #
# response headers                                                            #
# --------------------------------------------------------------------------- #


async def test_no_answer_carries_a_server_header(agent: Agent, name: str) -> None:
    answers = [
        await agent.call("GET", "/"),
        await agent.call("GET", "/nope"),
        await agent.call("GET", "/v1/nope"),
        await agent.call("GET", "/v1//agent/services"),  # ServeMux's 301
        await agent.call("GET", "/v1/agent/services"),
        await agent.call("POST", "/v1/agent/services"),
        await agent.register({"Name": name}),
        await agent.register({}),
        await agent.call("GET", f"/v1/health/service/{name}"),
    ]
    assert [a for a in answers if "server" in a.headers] == []


async def test_agent_local_reads_carry_no_query_meta(agent: Agent, name: str) -> None:
    await agent.register({"Name": name})
    paths = (
        "/v1/agent/services",
        "/v1/agent/checks",
        "/v1/agent/self",
        "/v1/agent/members",
        "/v1/status/leader",
        "/v1/status/peers",
        f"/v1/agent/service/{name}",
    )
    for path in paths:
        answer = await agent.call("GET", path)
        assert answer.status == 200, path
        assert answer.headers["content-type"] == "application/json", path
        assert [h for h in QUERY_META if h.lower() in answer.headers] == [], path
        assert answer.headers["vary"] == "Accept-Encoding", path
        assert answer.headers["x-consul-default-acl-policy"] in ("allow", "deny")
    own = await agent.call("GET", f"/v1/agent/service/{name}")
    assert own.headers["x-consul-contenthash"] == own.json()["ContentHash"]


@pytest.mark.parametrize(
    ("params", "consistency"),
    [({}, "leader"), ({"stale": ""}, "stale"), ({"consistent": ""}, "consistent")],
)
async def test_catalog_and_health_reads_carry_query_meta(
    agent: Agent, name: str, params: dict[str, str], consistency: str
) -> None:
    await agent.register({"Name": name})
    for path in (f"/v1/health/service/{name}", "/v1/catalog/services"):
        answer = await agent.call("GET", path, **params)
        assert int(answer.headers["x-consul-index"]) > 0
        assert answer.headers["x-consul-knownleader"] == "true"
        assert int(answer.headers["x-consul-lastcontact"]) >= 0
        assert answer.headers["x-consul-effective-consistency"] == consistency
        assert answer.headers["x-consul-query-backend"] == "blocking-query"


async def test_writes_answer_empty_without_content_type(
    agent: Agent, name: str
) -> None:
    answer = await agent.register({"Name": name})
    assert (answer.status, answer.text) == (200, "")
    assert "content-type" not in answer.headers
    assert answer.headers["vary"] == "Accept-Encoding"


async def test_errors_are_plain_text_and_options_lists_the_methods(
    agent: Agent,
) -> None:
    wrong = await agent.call("GET", "/v1/agent/service/register")
    assert (wrong.status, wrong.headers["allow"]) == (405, "OPTIONS,PUT")
    assert wrong.headers["content-type"] == "text/plain; charset=utf-8"
    options = await agent.call("OPTIONS", "/v1/agent/services")
    assert (options.status, options.text) == (200, "")
    assert options.headers["allow"] == "OPTIONS,GET"


async def test_injected_faults_carry_no_server_header(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory()
    async for agent in _double_agent(double):
        double.fail_requests(500, count=1)
        failed = await agent.call("GET", "/v1/agent/services")
        assert failed.status == 500
        assert "server" not in failed.headers


async def test_local_health_answers_carry_their_reason(agent: Agent, name: str) -> None:
    check = {"TTL": "30s", "Status": "warning"}
    await agent.register({"Name": name, "Check": check})
    path = f"/v1/agent/health/service/id/{name}"
    text = await agent.call("GET", path, format="text")
    assert (text.status, text.text) == (429, "warning")
    assert text.headers["content-type"] == "text/plain"  # set exactly, no charset
    assert text.headers["x-consul-reason"] == "warning"
    as_json = await agent.call("GET", path)
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.headers["x-consul-reason"] == "warning"


async def test_self_stats_count_the_agents_services_and_checks(
    consul_double_factory: DoubleFactory,
) -> None:
    double = await consul_double_factory(enable_script_checks=True)
    async for agent in _double_agent(double):
        script = {"Args": ["/bin/true"], "Interval": "10s"}
        checks = [{"TTL": "30s"}, {"TTL": "30s"}, script]
        await agent.register({"Name": "web", "Checks": checks})
        stats = (await agent.get_json("/v1/agent/self"))["Stats"]["agent"]
        assert stats == {
            "check_monitors": "1",
            "check_ttls": "2",
            "checks": "3",
            "services": "1",
        }
