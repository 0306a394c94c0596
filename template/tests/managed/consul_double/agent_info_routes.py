# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Routes of /v1/agent/self, /v1/agent/members and /v1/status/{leader,peers}."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.managed.consul_double.agent_profile import (
    ALL_SEGMENTS,
    SEGMENTS_NOT_SUPPORTED,
    AgentProfile,
)
from tests.managed.consul_double.http_plumbing import HttpError, Route
from tests.managed.consul_double.response_headers import json_response

# (request) -> full rights?; raises 403 for an unknown token
Authorized = Callable[[web.Request], bool]
# (request, permission, resource name); raises 403 when not allowed
Require = Callable[[web.Request, str, str], None]


@dataclass(frozen=True)
class AgentInfoRoutes:
    """What the agent says about itself; ``self_json`` is Self's JSON."""

    profile: Callable[[], AgentProfile]
    self_json: Callable[[], dict[str, Any]]
    authorized: Authorized
    require: Require

    def routes(self) -> list[Route]:
        return [
            Route("/v1/agent/self", "GET", self._get_self),
            Route("/v1/agent/members", "GET", self._get_members),
            Route("/v1/status/leader", "GET", self._get_leader),
            Route("/v1/status/peers", "GET", self._get_peers),
        ]

    async def _get_self(self, request: web.Request, _: str) -> web.StreamResponse:
        self.require(request, "agent:read", self.profile().node_name)
        return json_response(request, self.self_json())

    async def _get_members(self, request: web.Request, _: str) -> web.StreamResponse:
        # AgentMembers: any non-empty ?wan means the WAN pool; a segment other
        # than "" or "_all" makes no sense there (400), and CE servers have
        # no segments at all (500).
        wan = request.query.get("wan", "") != ""
        segment = request.query.get("segment", "")
        if wan and segment not in ("", ALL_SEGMENTS):
            raise HttpError(400, "Cannot provide a segment with wan=true")
        if not wan and segment not in ("", ALL_SEGMENTS):
            raise HttpError(500, SEGMENTS_NOT_SUPPORTED)
        # filterMembers drops members the token may not node:read.
        members = [self.profile().member(wan=wan)] if self.authorized(request) else []
        return json_response(request, members)

    async def _get_leader(self, request: web.Request, _: str) -> web.StreamResponse:
        return json_response(request, self.profile().leader_addr)

    async def _get_peers(self, request: web.Request, _: str) -> web.StreamResponse:
        return json_response(request, [self.profile().leader_addr])
