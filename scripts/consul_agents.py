"""Consul agents (the rendered package's double, or a real one) and rendered nodes.

The agent double ships inside every rendered package
(``python -m tests.managed.consul_agent_double``); started with ``--port 0`` it
prints one line ``listening 127.0.0.1:PORT`` on stdout.
"""

from __future__ import annotations

import re
import shutil
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.processes import (
    HttpResponse,
    ManagedProcess,
    free_port,
    http_request,
    start_process,
    wait_for,
)
from scripts.rendering import USER_ENV, RenderedPackage

AGENT_START_TIMEOUT = 30.0
_LISTENING = re.compile(r"^listening (\S+):(\d+)\s*$", re.MULTILINE)


@dataclass
class AgentClient:
    """The handful of agent endpoints the tests and the demo read."""

    address: str  # host:port, as in CONSUL_HTTP_ADDR
    scheme: str = "http"
    token: str | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def get(self, path: str) -> HttpResponse | None:
        return http_request(self.base_url + path, headers=self._headers())

    def put(self, path: str) -> HttpResponse | None:
        """A write with no body (deregister, check updates...)."""
        return http_request(
            self.base_url + path, method="PUT", headers=self._headers(), data=b""
        )

    def _headers(self) -> dict[str, str]:
        return {"X-Consul-Token": self.token} if self.token else {}

    def get_json(self, path: str) -> Any:
        """Decoded JSON of a 200 answer; None when down or not 200."""
        response = self.get(path)
        if response is None or response.status != 200:
            return None
        return response.json()

    def services(self) -> dict[str, dict[str, Any]]:
        return self.get_json("/v1/agent/services") or {}

    def checks(self) -> dict[str, dict[str, Any]]:
        return self.get_json("/v1/agent/checks") or {}

    def health_service(self, name: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(name, safe="")
        return self.get_json(f"/v1/health/service/{quoted}") or []

    def service_named(self, name: str) -> dict[str, Any] | None:
        """The registration of service ``name``, if exactly one exists."""
        found = [s for s in self.services().values() if s.get("Service") == name]
        return found[0] if len(found) == 1 else None

    def checks_of(self, service_id: str) -> list[dict[str, Any]]:
        return [c for c in self.checks().values() if c.get("ServiceID") == service_id]

    def deregister(self, service_id: str) -> int | None:
        """PUT /v1/agent/service/deregister/<id>: the status, None if down."""
        quoted = urllib.parse.quote(service_id, safe="")
        response = self.put(f"/v1/agent/service/deregister/{quoted}")
        return None if response is None else response.status


def parse_consul_address(value: str) -> tuple[str, str]:
    """Split ``CONSUL_HTTP_ADDR`` ("host:port" or "scheme://host:port")."""
    if "://" in value:
        parsed = urllib.parse.urlsplit(value)
        return parsed.scheme, parsed.netloc
    return "http", value


def start_agent_double(package: RenderedPackage, log_dir: Path) -> ManagedProcess:
    """The double from the rendered package, as a real process, on a free port."""
    return start_process(
        "consul-agent-double",
        [package.python, "-m", "tests.managed.consul_agent_double", "--port", "0"],
        env=package.env(),
        cwd=package.root,
        log_dir=log_dir,
    )


def wait_for_double(process: ManagedProcess) -> AgentClient:
    """Wait for the double's ``listening HOST:PORT`` line."""

    def listening() -> AgentClient | None:
        match = _LISTENING.search(process.stdout())
        if match:
            return AgentClient(f"{match.group(1)}:{match.group(2)}")
        if not process.running():
            raise RuntimeError(f"the agent double exited\n{process.output_tail()}")
        return None

    return wait_for(
        listening, timeout=AGENT_START_TIMEOUT, what="agent double printing 'listening'"
    )


def consul_binary() -> str | None:
    return shutil.which("consul")


def start_dev_agent(binary: str, log_dir: Path) -> tuple[ManagedProcess, AgentClient]:
    """``consul agent -dev`` on loopback, every port free (or disabled).

    Free ports rather than the defaults so a demo never collides with an
    agent the user already runs.
    """
    http_port = free_port()
    args = [
        binary,
        "agent",
        "-dev",
        "-node=onex-template-demo",
        "-bind=127.0.0.1",
        "-client=127.0.0.1",
        f"-http-port={http_port}",
        f"-serf-lan-port={free_port()}",
        f"-serf-wan-port={free_port()}",
        f"-server-port={free_port()}",
        "-dns-port=-1",
        "-grpc-port=-1",
        "-grpc-tls-port=-1",
    ]
    process = start_process(
        "consul-dev-agent", args, env=dict(USER_ENV), cwd=log_dir, log_dir=log_dir
    )
    client = AgentClient(f"127.0.0.1:{http_port}")

    def has_leader() -> bool:
        if not process.running():
            raise RuntimeError(f"consul agent -dev exited\n{process.output_tail()}")
        leader = client.get_json("/v1/status/leader")
        return isinstance(leader, str) and bool(leader)

    wait_for(
        has_leader, timeout=AGENT_START_TIMEOUT, what="consul -dev electing a leader"
    )
    return process, client


# (interval, timeout) that make a fresh check pass within about a second.
# The timeout must stay below the interval: the node refuses anything else.
FAST_CHECKS = ("1s", "500ms")


def node_env(
    package: RenderedPackage,
    *,
    consul_address: str,
    node_port: int,
    token: str | None = None,
    check_policy: tuple[str, str] | None = FAST_CHECKS,
    extra: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """Environment of a node on loopback registering with ``consul_address``.

    Every ONEX_NODE_* and CONSUL_* variable of the user's environment is
    dropped first: a developer's CONSUL_HTTP_TOKEN or ONEX_NODE_SERVICE_ID
    must neither leak into a test nor change its outcome. ``check_policy``
    None keeps the check interval and timeout from the rendered answers.
    """
    overrides: dict[str, str | None] = {
        key: None for key in USER_ENV if key.startswith(("ONEX_NODE_", "CONSUL_"))
    }
    overrides.update(
        {
            "CONSUL_HTTP_ADDR": consul_address,
            "CONSUL_HTTP_TOKEN": token,
            "ONEX_NODE_ADVERTISE_ADDRESS": "127.0.0.1",
            "ONEX_NODE_BIND_HOST": "127.0.0.1",
            "ONEX_NODE_PORT": str(node_port),
            "ONEX_NODE_LOG_LEVEL": "INFO",
        }
    )
    if check_policy is not None:
        interval, timeout = check_policy
        overrides["ONEX_NODE_CHECK_INTERVAL"] = interval
        overrides["ONEX_NODE_CHECK_TIMEOUT"] = timeout
    overrides.update(extra or {})
    return package.env(overrides)


def start_node(
    package: RenderedPackage,
    env: dict[str, str],
    log_dir: Path,
    *,
    as_module: bool = False,
) -> ManagedProcess:
    """The node as users start it: its console script, or ``python -m``."""
    if as_module:
        args: list[str | Path] = [package.python, "-m", package.package_name]
    else:
        args = [package.console_script]
    return start_process(
        f"node-{package.project_name}", args, env=env, cwd=package.root, log_dir=log_dir
    )


def health_url(package: RenderedPackage, node_port: int) -> str:
    return f"http://127.0.0.1:{node_port}{package.answers['health_path']}"
