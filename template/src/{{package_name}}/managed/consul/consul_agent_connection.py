# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The node's HTTP connection to its Consul agent, over aiohttp.

The node sends a handful of requests, so it sends them itself instead of
through py-consul, whose client builds its session with aiohttp's deprecated
TLS arguments, cannot set a TLS server name, puts IPv6 hosts into URLs without
brackets, has no namespace or partition, and takes any 200 (a proxy's page
included) for success. This module owns the session (TLS context, server
name, token, basic auth, Consul scopes) and sorts answers by status;
consul_answers checks what a 200 carries.
"""

import base64
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from ..errors import (
    ConsulAnswerError,
    ConsulRejectedError,
    ConsulUnavailableError,
)
from ..logs.external_text import one_line
from ..settings.consul_secrets import consul_redactor
from ..settings.model_consul_settings import ModelConsulSettings

type QueryParams = Sequence[tuple[str, str]]

# Consul's answers to a request it understood and refused: the same request
# cannot succeed (401 and 407: credentials a proxy in front of it refused).
_REFUSALS = frozenset({400, 401, 403, 407})
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ConsulAnswer:
    """One answer of the agent, as received: nothing in it is believed yet."""

    operation: str
    endpoint: str  # "GET /v1/agent/service/<id>", for messages
    status: int
    content_type: str
    index: str | None  # X-Consul-Index, as sent
    body: bytes


class ConsulAgentConnection:
    """One aiohttp session to the agent. Build it in a running event loop;
    `await close()` when done (aiohttp warns about unclosed sessions)."""

    def __init__(
        self, settings: ModelConsulSettings, ssl_context: ssl.SSLContext | None
    ) -> None:
        self._base_url = f"{settings.scheme}://{settings.http_addr}"
        self._server_hostname = settings.tls_server_name
        # What must never appear in a message built from an answer (a body
        # that echoes the request headers echoes them).
        self._redactor = consul_redactor(settings)
        # Consul's Go client sends these on every request when they are set.
        self._scopes = [
            (name, value)
            for name, value in (
                ("ns", settings.namespace),
                ("partition", settings.partition),
            )
            if value
        ]
        self._session = aiohttp.ClientSession(
            headers=_auth_headers(settings),
            connector=aiohttp.TCPConnector(
                ssl=ssl_context if ssl_context is not None else True
            ),
            # No total: aiohttp's default 5 minutes would cut blocking queries
            # (up to 10m); the discovery handler bounds every call itself.
            timeout=aiohttp.ClientTimeout(total=None),
        )

    def url(self, path: str, params: QueryParams = ()) -> str:
        """The request URL: scopes added, IPv6 hosts in brackets."""
        return str(URL(self._base_url + path).with_query([*params, *self._scopes]))

    async def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: QueryParams = (),
        body: object = None,
        max_body: int,
        missing_ok: bool = False,
    ) -> ConsulAnswer:
        """Send one request; its 200 answer, or its 404 answer if `missing_ok`
        (Consul does not know the service or check).

        Raises ConsulRejectedError (400, 401, 403, 407), ConsulUnavailableError
        (429, 5xx, or an answer longer than `max_body` bytes) or
        ConsulAnswerError (any other status); error bodies appear truncated,
        on one line, without the token.
        """
        endpoint = f"{method} {path}"
        async with self._session.request(
            method,
            self.url(path, params),
            json=body,
            server_hostname=self._server_hostname,
        ) as response:
            data = await _read_at_most(response, max_body, operation, endpoint)
        answer = ConsulAnswer(
            operation,
            endpoint,
            response.status,
            response.headers.get("Content-Type", ""),
            response.headers.get("X-Consul-Index"),
            data,
        )
        if answer.status == 200 or (answer.status == 404 and missing_ok):
            return answer
        raise self._status_error(answer)

    async def close(self) -> None:
        await self._session.close()

    def _status_error(self, answer: ConsulAnswer) -> Exception:
        status, operation = answer.status, answer.operation
        reason = one_line(answer.body, self._redactor) or "(no body)"
        if status in _REFUSALS:
            return ConsulRejectedError(operation, status, reason)
        if status == 429 or status >= 500:
            return ConsulUnavailableError(
                f"{operation}: Consul agent answered {status}: {reason}"
            )
        return ConsulAnswerError(
            operation, answer.endpoint, f"status {status} ({reason})"
        )


async def _read_at_most(
    response: aiohttp.ClientResponse, limit: int, operation: str, endpoint: str
) -> bytes:
    """The body, refused past `limit` bytes before all of it is in memory."""
    announced = response.content_length
    if announced is not None and announced > limit:
        raise _too_large(operation, endpoint, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise _too_large(operation, endpoint, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(operation: str, endpoint: str, limit: int) -> ConsulUnavailableError:
    return ConsulUnavailableError(
        f"{operation}: the answer to {endpoint} is larger than {limit} bytes "
        "(discovery.max_answer_size); not read"
    )


def _auth_headers(settings: ModelConsulSettings) -> dict[str, str]:
    """The token as X-Consul-Token (never in a URL, where logs and proxies see
    it) and CONSUL_HTTP_AUTH (`user[:password]`) as Go's SetBasicAuth sends it.

    Encoded here: aiohttp 3.14 deprecates BasicAuth and `auth=`, and its
    replacement (encode_basic_auth) is missing from older aiohttp releases.
    """
    headers = {}
    if settings.token is not None:
        headers["X-Consul-Token"] = settings.token.get_secret_value()
    if settings.http_auth is not None:
        user, _, password = settings.http_auth.get_secret_value().partition(":")
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    return headers
