# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Nodes registered through /v1/catalog: Consul's Catalog.Register/Deregister rules."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from typing import Final

from tests.managed.consul_double.agent_state import AgentState, Check, Registration
from tests.managed.consul_double.catalog_records import CatalogNode, NodeEntries
from tests.managed.consul_double.catalog_requests import (
    CheckRequest,
    DeregisterRequest,
    RegisterRequest,
    ServiceRequest,
)
from tests.managed.consul_double.constants import CRITICAL
from tests.managed.consul_double.mesh_rules import multierror, service_errors
from tests.managed.consul_double.registration_rules import meta_error, weights_error
from tests.managed.consul_double.request_decoding import RegistrationSpec, Weights

_UUID_HEX: Final = re.compile(r"[0-9a-fA-F]*")


class CatalogWriteError(Exception):
    """Consul's RPC error text; the HTTP API answers it as a 500."""


class PermissionDenied(Exception):
    """The token lacks ``permission`` on ``name`` (answered as a 403)."""

    def __init__(self, permission: str, name: str) -> None:
        super().__init__(f"{permission} on {name}")
        self.permission = permission
        self.name = name


def _uuid_error(node_id: str) -> str | None:
    """go-uuid's ParseUUID errors."""
    if len(node_id) != 36:
        return "uuid string is wrong length"
    if any(node_id[i] != "-" for i in (8, 13, 18, 23)):
        return "uuid is improperly formatted"
    hex_digits = node_id.replace("-", "")
    if not _UUID_HEX.fullmatch(hex_digits):
        bad = next(c for c in hex_digits if not _UUID_HEX.fullmatch(c))
        return f"encoding/hex: invalid byte: U+{ord(bad):04X} {bad!r}"
    return None


def _is_any(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


class ExternalCatalog:
    """The catalog's other nodes, sharing the agent's raft index.

    Nothing runs their checks and anti-entropy never touches them: they keep
    what was registered until a catalog write changes it.
    """

    def __init__(self, state: AgentState) -> None:
        self._state = state
        self._nodes: dict[str, NodeEntries] = {}  # by lowercased node name

    def nodes(self) -> list[NodeEntries]:
        return list(self._nodes.values())

    def clear(self) -> None:
        self._nodes.clear()

    def find(self, name: str) -> NodeEntries | None:
        return self._nodes.get(name.lower())

    # ---- register ---------------------------------------------------------- #

    def register(self, req: RegisterRequest, authorized: bool) -> None:
        """Validate in Consul's order, then apply as one raft write."""
        if not req.node:
            raise CatalogWriteError("Must provide node")
        if req.id and (problem := _uuid_error(req.id)):
            raise CatalogWriteError(f"Bad node ID: {problem}")
        if not req.address and not req.skip_node_update:
            raise CatalogWriteError("Must provide address if SkipNodeUpdate is not set")
        if req.service is not None:
            self._vet_service(req.service, authorized)
        checks = req.all_checks()
        for check in checks:
            check.node = check.node or req.node
            check.check_id = check.check_id or check.name
            check.type = check.type or check.definition.kind()
        existing = self.find(req.node)
        node = self._node_of(req, existing)
        if (existing is None or node is not existing.node) and not authorized:
            raise PermissionDenied("node:write", req.node)
        for check in checks:
            self._vet_check(req, check, existing, authorized)
        if req.service is not None and (
            problem := meta_error(req.service.meta, req.service.kind)
        ):
            raise CatalogWriteError(
                f"failed inserting service: Invalid Service Meta for node "
                f"{req.node} and serviceID {req.service.id}: {problem}"
            )
        self._apply(req, node, existing, checks)

    @staticmethod
    def _vet_service(service: ServiceRequest, authorized: bool) -> None:
        # servicePreApply: NodeService.Validate first, its text as the RPC error.
        shape = RegistrationSpec(
            name=service.service,
            kind=service.kind,
            port=service.port,
            socket_path=service.socket_path,
            proxy=service.proxy,
            connect=service.connect,
        )
        errors = service_errors(shape, agent_assists=False)
        if errors:
            raise CatalogWriteError(multierror(errors))
        service.id = service.id or service.service
        if service.id and not service.service:
            raise CatalogWriteError(
                "Must provide service name (Service.Service) when service ID is "
                "provided"
            )
        if _is_any(service.address):
            raise CatalogWriteError("Invalid service address")
        if service.service != "consul" and not authorized:
            raise PermissionDenied("service:write", service.service)

    @staticmethod
    def _node_of(req: RegisterRequest, existing: NodeEntries | None) -> CatalogNode:
        """The node after this write: ``existing.node`` itself when unchanged."""
        wanted = CatalogNode(
            name=req.node,
            id=req.id,
            address=req.address,
            datacenter=req.datacenter,
            tagged_addresses=req.tagged_addresses,
            meta=req.node_meta,
            locality=req.locality,
        )
        if existing is None:
            return wanted
        if req.skip_node_update or wanted.same_as(existing.node):
            return existing.node
        wanted.create_index = existing.node.create_index
        return wanted

    @staticmethod
    def _vet_check(
        req: RegisterRequest,
        check: CheckRequest,
        existing: NodeEntries | None,
        authorized: bool,
    ) -> None:
        """Consul's vetRegisterWithACL, for one check."""
        if check.node.lower() != req.node.lower():
            raise CatalogWriteError(
                f"Node '{check.node}' for check '{check.check_id}' doesn't match "
                f"register request node '{req.node}'"
            )
        if not check.service_id:
            if not authorized:
                raise PermissionDenied("node:write", req.node)
            return
        if req.service is not None and req.service.id == check.service_id:
            return
        if existing is None or check.service_id not in existing.services:
            raise CatalogWriteError(
                f"Unknown service ID '{check.service_id}' for check ID "
                f"'{check.check_id}'"
            )
        if not authorized:
            raise PermissionDenied(
                "service:write", existing.services[check.service_id].name
            )

    def _apply(
        self,
        req: RegisterRequest,
        node: CatalogNode,
        existing: NodeEntries | None,
        checks: list[CheckRequest],
    ) -> None:
        entries = existing or NodeEntries(node)
        names: set[str] = set()
        tables = {"nodes": False, "catalog": False, "checks": False}
        if existing is None or node is not existing.node:
            tables["nodes"] = True
            names.update(s.name for s in entries.services.values())
        service = None
        if req.service is not None:
            service = self._service_of(req.service, entries)
            if service is not None:
                tables["catalog"] = True
                names.add(service.name)
                previous = entries.services.get(service.id)
                if previous is not None:
                    names.add(previous.name)
        new_checks = [self._check_of(c, entries) for c in checks]
        changed_checks = [c for c in new_checks if c is not None]
        if changed_checks:
            tables["checks"] = True
        if not any(tables.values()):
            return  # like Consul's state store: an identical write moves no index
        index = self._state.bump(**tables)
        node.create_index = node.create_index or index
        if tables["nodes"]:
            node.modify_index = index
        entries.node = node
        self._nodes[node.name.lower()] = entries
        if service is not None:
            service.create_index = service.create_index or index
            service.modify_index = index
            entries.services[service.id] = service
        for check in changed_checks:
            check.create_index = check.create_index or index
            check.modify_index = index
            entries.checks[check.check_id] = check
            names.update(_affected(entries, check))
        self._state.mark(index, names)

    @staticmethod
    def _service_of(req: ServiceRequest, entries: NodeEntries) -> Registration | None:
        """The service to store, or None when it equals the stored one."""
        weights = req.weights
        if weights is None or weights_error(weights):
            weights = Weights(1, 1)  # Consul's ToServiceNode default
        previous = entries.services.get(req.id)
        service = Registration(
            id=req.id,
            name=req.service,
            tags=list(req.tags),
            address=req.address,
            port=req.port,
            meta=dict(req.meta),
            weights=weights,
            enable_tag_override=req.enable_tag_override,
            tagged_addresses=dict(req.tagged_addresses),
            kind=req.kind,
            socket_path=req.socket_path,
            locality=req.locality,
            connect_native=req.connect.native,
            proxy=req.proxy,
            peer_meta=req.connect.peer_meta,
            create_index=previous.create_index if previous else 0,
            modify_index=previous.modify_index if previous else 0,
        )
        if previous is None:
            return service
        # ServiceNode.IsSameService does not compare the socket path and the
        # locality: a write changing only those is no write at all.
        same = replace(
            service, socket_path=previous.socket_path, locality=previous.locality
        )
        return None if same == previous else service

    @staticmethod
    def _check_of(req: CheckRequest, entries: NodeEntries) -> Check | None:
        """The check to store, or None when it equals the stored one."""
        previous = entries.checks.get(req.check_id)
        check = Check(
            check_id=req.check_id,
            name=req.name,
            service_id=req.service_id,
            spec=req.definition,
            declared=req.definition,
            status=req.status or CRITICAL,
            output=req.output,
            notes=req.notes,
            kind=req.type,
            interval_text=req.interval,
            timeout_text=req.timeout,
            exposed_port=req.exposed_port,
            create_index=previous.create_index if previous else 0,
            modify_index=previous.modify_index if previous else 0,
        )
        return None if check == previous else check

    # ---- deregister -------------------------------------------------------- #

    def deregister(self, req: DeregisterRequest, authorized: bool) -> None:
        """Consul's Catalog.Deregister: a service, else a check, else the node."""
        if not req.node:
            raise CatalogWriteError("Must provide node")
        entries = self.find(req.node)
        if not authorized:
            _vet_deregister(req, entries)
        if entries is None:
            return  # deleting what is not there is no error
        if req.service_id:
            self._remove_service(entries, req.service_id)
        elif req.check_id:
            self._remove_check(entries, req.check_id)
        else:
            self._remove_node(entries)

    def _remove_service(self, entries: NodeEntries, service_id: str) -> None:
        service = entries.services.pop(service_id, None)
        if service is None:
            return
        doomed = [c for c in entries.checks.values() if c.service_id == service_id]
        for check in doomed:
            del entries.checks[check.check_id]
        index = self._state.bump(catalog=True, checks=bool(doomed))
        self._state.mark(index, {service.name})

    def _remove_check(self, entries: NodeEntries, check_id: str) -> None:
        check = entries.checks.get(check_id)
        if check is None:
            return
        names = _affected(entries, check)
        del entries.checks[check_id]
        index = self._state.bump(checks=True)
        self._state.mark(index, names)

    def _remove_node(self, entries: NodeEntries) -> None:
        del self._nodes[entries.node.name.lower()]
        names = {s.name for s in entries.services.values()}
        index = self._state.bump(
            catalog=bool(entries.services), checks=bool(entries.checks), nodes=True
        )
        self._state.mark(index, names)


def _affected(entries: NodeEntries, check: Check) -> set[str]:
    """Services whose health a check counts for: a node check counts for all."""
    if not check.service_id:
        return {s.name for s in entries.services.values()}
    service = entries.services.get(check.service_id)
    return {service.name} if service else set()


def _vet_deregister(req: DeregisterRequest, entries: NodeEntries | None) -> None:
    """Consul's vetDeregisterWithACL for a token without node:write."""
    if req.service_id:
        service = entries.services.get(req.service_id) if entries else None
        if service is None:
            raise CatalogWriteError(f"Unknown service ID '{req.service_id}'")
        raise PermissionDenied("service:write", service.name)
    if req.check_id:
        check = entries.checks.get(req.check_id) if entries else None
        if check is None:
            raise CatalogWriteError(f"Unknown check ID '{req.check_id}'")
        if check.service_id and entries is not None:
            service = entries.services.get(check.service_id)
            raise PermissionDenied("service:write", service.name if service else "")
    raise PermissionDenied("node:write", req.node)
