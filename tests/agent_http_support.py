"""Raw HTTP to a Consul agent (real or double), for the double's own tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from tests.managed.agent_handle import ConsulAgentHandle


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    headers: dict[str, str]  # keys lowercased

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Agent:
    """Raw HTTP to one agent; deregisters the services it registered."""

    session: aiohttp.ClientSession
    url: str
    registered: list[str] = field(default_factory=list)

    async def call(
        self, method: str, path: str, *, body: object = None, **params: str
    ) -> Answer:
        async with self.session.request(
            method, path, json=body, params=params, allow_redirects=False
        ) as response:
            text = await response.text()
            headers = {k.lower(): v for k, v in response.headers.items()}
            return Answer(response.status, text, headers)

    async def register(self, body: dict[str, Any]) -> Answer:
        answer = await self.call("PUT", "/v1/agent/service/register", body=body)
        if answer.status == 200:
            self.registered.append(body.get("ID") or body["Name"])
        return answer

    async def get_json(self, path: str, **params: str) -> Any:
        answer = await self.call("GET", path, **params)
        assert answer.status == 200, answer.text
        return answer.json()


def agent_http(handle: ConsulAgentHandle) -> aiohttp.ClientSession:
    """A session on the agent's base URL that sends its token, if any: what
    every raw client of these tests starts from."""
    token = {"X-Consul-Token": handle.token} if handle.token else None
    return aiohttp.ClientSession(handle.base_url, headers=token)


async def agent_session(handle: ConsulAgentHandle) -> AsyncIterator[Agent]:
    async with agent_http(handle) as session:
        agent = Agent(session, handle.base_url)
        yield agent
        for service_id in agent.registered:
            await agent.call("PUT", f"/v1/agent/service/deregister/{service_id}")
