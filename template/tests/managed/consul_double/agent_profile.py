# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Who the double's agent is: /v1/agent/self, /v1/agent/members, /v1/status/*.

The double is a ``consul agent -dev`` style single server that is its own
leader: one Serf member on the LAN (port 8301) and the WAN (8302, named
``<node>.<dc>``), raft on 8300, gRPC on 8502/8503. The same leader address
shows in ``/v1/status/leader``, ``/v1/status/peers``, Stats ``consul.leader_addr``
and the raft configuration; the same member object in ``/v1/agent/members``
and Self ``Member``. DebugConfig is a subset of Consul's sanitized
RuntimeConfig, with its field names, holding what owners read.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from tests.managed.consul_double.agent_state import Registration
from tests.managed.consul_double.constants import CONSUL_VERSION, OUTPUT_MAX_SIZE
from tests.managed.consul_double.request_decoding import Weights

SERVER_PORT: Final = 8300
SERF_LAN_PORT: Final = 8301
SERF_WAN_PORT: Final = 8302
DNS_PORT: Final = 8600
GRPC_PORT: Final = 8502
GRPC_TLS_PORT: Final = 8503
# Consul's Coordinate defaults (serf/coordinate.NewCoordinate): 8 dimensions.
_ORIGIN: Final = {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-05}
_REVISION: Final = "00000000"
_BUILD_DATE: Final = "2025-01-01T00:00:00Z"
_ENVOY_VERSIONS: Final = ("1.34.1", "1.33.2", "1.32.5", "1.31.8")
ALL_SEGMENTS: Final = "_all"  # api.AllSegments
SEGMENTS_NOT_SUPPORTED: Final = (
    "Network segments are not supported in this version of Consul"
)


@dataclass(frozen=True)
class AgentProfile:
    """The agent's identity and the configuration its API reports."""

    node_name: str
    node_id: str
    datacenter: str
    address: str
    http_port: int
    acls_enabled: bool
    acl_default_policy: str
    enable_remote_script_checks: bool
    enable_local_script_checks: bool
    ui_enabled: bool

    @property
    def leader_addr(self) -> str:
        return f"{self.address}:{SERVER_PORT}"

    def member(self, *, wan: bool = False) -> dict[str, Any]:
        """A serf.Member as Consul's servers tag themselves (server_serf.go)."""
        tags = {
            "acls": "1" if self.acls_enabled else "0",
            "bootstrap": "1",
            "build": f"{CONSUL_VERSION}:{_REVISION}",
            "dc": self.datacenter,
            "ft_fs": "1",
            "ft_si": "1",
            "grpc_port": str(GRPC_PORT),
            "grpc_tls_port": str(GRPC_TLS_PORT),
            "id": self.node_id,
            "port": str(SERVER_PORT),
            "raft_vsn": "3",
            "role": "consul",
            "segment": "",
            "vsn": "2",
            "vsn_max": "3",
            "vsn_min": "2",
        }
        if not wan:
            tags["wan_join_port"] = str(SERF_WAN_PORT)
        return {
            "Name": f"{self.node_name}.{self.datacenter}" if wan else self.node_name,
            "Addr": self.address,
            "Port": SERF_WAN_PORT if wan else SERF_LAN_PORT,
            "Tags": dict(sorted(tags.items())),
            "Status": 1,  # serf.StatusAlive
            "ProtocolMin": 1,
            "ProtocolMax": 5,
            "ProtocolCur": 2,
            "DelegateMin": 2,
            "DelegateMax": 5,
            "DelegateCur": 4,
        }

    def server_service(self) -> Registration:
        """The ``consul`` service the leader puts in the catalog for every
        server (leader.go handleAliveMember): never an agent service, so
        /v1/agent/services does not show it; catalog and health reads do."""
        member = self.member()
        return Registration(
            id="consul",
            name="consul",
            tags=[],
            address="",
            port=SERVER_PORT,
            meta={
                "grpc_port": str(GRPC_PORT),
                "grpc_tls_port": str(GRPC_TLS_PORT),
                "non_voter": "false",
                "raft_version": "3",
                "read_replica": "false",
                "serf_protocol_current": str(member["ProtocolCur"]),
                "serf_protocol_max": str(member["ProtocolMax"]),
                "serf_protocol_min": str(member["ProtocolMin"]),
                "version": CONSUL_VERSION,
            },
            weights=Weights(passing=1, warning=1),
            enable_tag_override=False,
            tagged_addresses={},
            kind="",
            create_index=1,
            modify_index=1,
        )

    def self_json(
        self, meta: dict[str, str], counts: Mapping[str, int], index: int
    ) -> dict[str, Any]:
        """``GET /v1/agent/self`` (agent_endpoint.go's Self, field for field);
        ``counts``: Stats' "agent" numbers (services, checks, check_ttls,
        check_monitors)."""
        return {
            "Config": {
                "Datacenter": self.datacenter,
                "PrimaryDatacenter": self.datacenter,
                "NodeName": self.node_name,
                "NodeID": self.node_id,
                "Revision": _REVISION,
                "Server": True,
                "Version": CONSUL_VERSION,
                "BuildDate": _BUILD_DATE,
            },
            "DebugConfig": self._debug_config(),
            "Coord": dict(_ORIGIN),
            "Member": self.member(),
            "Stats": self._stats(counts, index),
            "Meta": meta,
            "xDS": {
                "SupportedProxies": {"envoy": list(_ENVOY_VERSIONS)},
                "Port": GRPC_TLS_PORT,  # the TLS port when there is one
                "Ports": {"Plaintext": GRPC_PORT, "TLS": GRPC_TLS_PORT},
            },
        }

    def _debug_config(self) -> dict[str, Any]:
        http = f"tcp://{self.address}:{self.http_port}"
        return {
            "ACLsEnabled": self.acls_enabled,
            "ACLResolverSettings": {
                "ACLDefaultPolicy": self.acl_default_policy,
                "Datacenter": self.datacenter,
                "NodeName": self.node_name,
            },
            "AdvertiseAddrLAN": self.address,
            "AdvertiseAddrWAN": self.address,
            "BindAddr": self.address,
            "Bootstrap": True,
            "CheckOutputMaxSize": OUTPUT_MAX_SIZE,
            "ClientAddrs": [self.address],
            "DNSPort": DNS_PORT,
            "DataDir": "",
            "Datacenter": self.datacenter,
            "DevMode": True,
            "EnableLocalScriptChecks": self.enable_local_script_checks,
            "EnableRemoteScriptChecks": self.enable_remote_script_checks,
            "GRPCPort": GRPC_PORT,
            "GRPCTLSPort": GRPC_TLS_PORT,
            "HTTPAddrs": [http],
            "HTTPPort": self.http_port,
            "HTTPSPort": -1,
            "NodeID": self.node_id,
            "NodeName": self.node_name,
            "PrimaryDatacenter": self.datacenter,
            "SerfPortLAN": SERF_LAN_PORT,
            "SerfPortWAN": SERF_WAN_PORT,
            "ServerMode": True,
            "ServerPort": SERVER_PORT,
            "UIConfig": {"Enabled": self.ui_enabled, "ContentPath": "/ui/", "Dir": ""},
            "Version": CONSUL_VERSION,
        }

    def _stats(self, counts: Mapping[str, int], index: int) -> dict[str, Any]:
        """Agent.Stats(): every value a string, as Consul prints them."""
        # Go's %v of raft's server list: [{Suffrage:Voter ID:... Address:...}]
        server = f"Suffrage:Voter ID:{self.node_id} Address:{self.leader_addr}"
        raft_config = "[{" + server + "}]"
        serf = {
            "coordinate_resets": "0",
            "encrypted": "false",
            "event_queue": "0",
            "event_time": "1",
            "failed": "0",
            "health_score": "0",
            "intent_queue": "0",
            "left": "0",
            "member_time": "1",
            "members": "1",
            "query_queue": "0",
            "query_time": "1",
        }
        return {
            "agent": {key: str(value) for key, value in sorted(counts.items())},
            "build": {
                "prerelease": "",
                "revision": _REVISION,
                "version": CONSUL_VERSION,
                "version_metadata": "",
            },
            "consul": {
                "acl": "enabled" if self.acls_enabled else "disabled",
                "bootstrap": "true",
                "known_datacenters": "1",
                "leader": "true",
                "leader_addr": self.leader_addr,
                "server": "true",
            },
            "raft": {
                "applied_index": str(index),
                "commit_index": str(index),
                "fsm_pending": "0",
                "last_contact": "0",
                "last_log_index": str(index),
                "last_log_term": "2",
                "last_snapshot_index": "0",
                "last_snapshot_term": "0",
                "latest_configuration": raft_config,
                "latest_configuration_index": "0",
                "num_peers": "0",
                "protocol_version": "3",
                "protocol_version_max": "3",
                "protocol_version_min": "0",
                "snapshot_version_max": "1",
                "snapshot_version_min": "0",
                "state": "Leader",
                "term": "2",
            },
            "runtime": {
                "arch": _go_arch(),
                "cpu_count": "1",
                "goroutines": "100",
                "max_procs": "1",
                "os": platform.system().lower(),
                "version": "go1.23.8",
            },
            "serf_lan": serf,
            "serf_wan": dict(serf),
        }


def _go_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
