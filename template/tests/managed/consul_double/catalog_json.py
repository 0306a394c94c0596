# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The JSON of nodes, services and checks in Consul's catalog and health answers."""

from __future__ import annotations

from typing import Any

from tests.managed.consul_double.agent_state import Check, Registration
from tests.managed.consul_double.catalog_records import CatalogNode, NodeEntries
from tests.managed.consul_double.connect_proxy import catalog_proxy_json
from tests.managed.consul_double.go_durations import format_go_duration
from tests.managed.consul_double.request_decoding import CheckSpec


def node_json(node: CatalogNode) -> dict[str, Any]:
    """A ``structs.Node``: its Locality is an omitempty pointer."""
    body: dict[str, Any] = {
        "ID": node.id,
        "Node": node.name,
        "Address": node.address,
        "Datacenter": node.datacenter,
        "TaggedAddresses": node.tagged_addresses,
        "Meta": node.meta,
    }
    if node.locality is not None:
        body["Locality"] = _locality(node.locality)
    return body | {"CreateIndex": node.create_index, "ModifyIndex": node.modify_index}


def weights_json(svc: Registration) -> dict[str, int]:
    return {"Passing": svc.weights.passing, "Warning": svc.weights.warning}


def connect_json(svc: Registration) -> dict[str, Any]:
    """structs.ServiceConnect: its fields are omitempty (the agent keeps no
    SidecarService: it registered the sidecar instead)."""
    body: dict[str, Any] = {"Native": True} if svc.connect_native else {}
    if svc.peer_meta is not None:
        names = ("SNI", "SpiffeID", "Protocol")
        body["PeerMeta"] = {k: svc.peer_meta[k] for k in names if svc.peer_meta.get(k)}
    return body


def _locality(locality: dict[str, str]) -> dict[str, str]:
    """A ``structs.Locality``: Region and Zone are omitempty."""
    names = (("region", "Region"), ("zone", "Zone"))
    return {go: locality[py] for py, go in names if locality.get(py)}


def locality_json(svc: Registration) -> dict[str, Any]:
    """``{"Locality": {...}}`` when one was registered (omitempty pointer)."""
    return {} if svc.locality is None else {"Locality": _locality(svc.locality)}


def service_json(svc: Registration) -> dict[str, Any]:
    """A ``structs.NodeService``, as health and catalog/node answers show it."""
    body: dict[str, Any] = {"Kind": svc.kind} if svc.kind else {}
    body |= {
        "ID": svc.id,
        "Service": svc.name,
        "Tags": list(svc.tags),
        "Address": svc.address,
        "Meta": dict(svc.meta),
        "Port": svc.port,
        "Weights": weights_json(svc),
        "EnableTagOverride": svc.enable_tag_override,
        "Proxy": catalog_proxy_json(svc.proxy),
        "Connect": connect_json(svc),
        "CreateIndex": svc.create_index,
        "ModifyIndex": svc.modify_index,
    }
    if svc.socket_path:
        body["SocketPath"] = svc.socket_path
    if svc.tagged_addresses:
        body["TaggedAddresses"] = svc.tagged_addresses
    return body | locality_json(svc)


def catalog_service_json(node: CatalogNode, svc: Registration) -> dict[str, Any]:
    """A ``structs.ServiceNode``: /v1/catalog/service's flat entry."""
    return {
        "ID": node.id,
        "Node": node.name,
        "Address": node.address,
        "Datacenter": node.datacenter,
        "TaggedAddresses": node.tagged_addresses,
        "NodeMeta": node.meta,
        "ServiceKind": svc.kind,
        "ServiceID": svc.id,
        "ServiceName": svc.name,
        "ServiceTags": list(svc.tags),
        "ServiceAddress": svc.address,
        "ServiceTaggedAddresses": svc.tagged_addresses or None,
        "ServiceWeights": weights_json(svc),
        "ServiceMeta": dict(svc.meta),
        "ServicePort": svc.port,
        "ServiceSocketPath": svc.socket_path,
        "ServiceEnableTagOverride": svc.enable_tag_override,
        "ServiceProxy": catalog_proxy_json(svc.proxy),
        "ServiceConnect": connect_json(svc),
        # a pointer without omitempty here: null when none was registered
        "ServiceLocality": None if svc.locality is None else _locality(svc.locality),
        "CreateIndex": svc.create_index,
        "ModifyIndex": svc.modify_index,
    }


def check_json(
    node_name: str, check: Check, svc: Registration | None
) -> dict[str, Any]:
    """A ``structs.HealthCheck``; ``svc`` is the check's service, if any."""
    declared = check.declared
    return {
        "Node": node_name,
        "CheckID": check.check_id,
        "Name": check.name,
        "Status": check.status,
        "Notes": check.notes,
        "Output": check.output,
        "ServiceID": check.service_id,
        "ServiceName": svc.name if svc else "",
        "ServiceTags": list(svc.tags) if svc else [],
        "Type": check.kind,
        "Interval": _shown(check.interval_text, declared.interval),
        "Timeout": _shown(check.timeout_text, declared.timeout),
        "ExposedPort": check.exposed_port,
        "Definition": definition_json(declared),
        "CreateIndex": check.create_index,
        "ModifyIndex": check.modify_index,
    }


def node_checks_json(entries: NodeEntries) -> list[dict[str, Any]]:
    """Every check of a node, in Consul's order."""
    return [
        check_json(entries.node.name, c, entries.services.get(c.service_id))
        for c in entries.sorted_checks()
    ]


def health_entry(entries: NodeEntries, svc: Registration) -> dict[str, Any]:
    """A ``structs.CheckServiceNode``: one instance with its node and checks."""
    name = entries.node.name
    checks = [
        check_json(name, c, entries.services.get(c.service_id))
        for c in entries.health_checks_of(svc.id)
    ]
    return {
        "Node": node_json(entries.node),
        "Service": service_json(svc),
        "Checks": checks,
    }


def _shown(text: str | None, nanos: int) -> str:
    """A check's Interval/Timeout as Consul shows them: "" when not set."""
    if text is not None:
        return text
    return format_go_duration(nanos) if nanos else ""


def definition_json(spec: CheckSpec) -> dict[str, Any]:
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
