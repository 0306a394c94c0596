# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""py-consul's asyncio client, over a connection the node configures itself.

py-consul builds its aiohttp session from `verify`/`cert` with aiohttp's
deprecated `ssl_context=`/`verify_ssl=` arguments, cannot set a TLS server
name, puts an IPv6 host into URLs without brackets, and has no namespace or
partition. `http_connect` is py-consul's hook for its transport: this module
hands it one with the node's ssl.SSLContext, server name and Consul scopes.
"""

import base64
import ssl
from typing import Any

import aiohttp
import consul
import consul.aio
import consul.base

from ..runtime.address_detection import url_host
from ..runtime.model_consul_settings import ModelConsulSettings


class ConsulAgentTransport(consul.aio.HTTPClient):  # type: ignore[misc]
    """py-consul's aiohttp transport with the node's TLS context and scopes."""

    def __init__(
        self, settings: ModelConsulSettings, ssl_context: ssl.SSLContext | None
    ) -> None:
        # Not consul.aio.HTTPClient.__init__: it would build a second session
        # through aiohttp's deprecated TLS arguments. The base sets base_uri.
        consul.base.HTTPClient.__init__(
            self,
            url_host(settings.host),
            settings.port,
            settings.scheme,
            verify=settings.verify,
        )
        self.loop = None
        self._server_hostname = settings.tls_server_name
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
            headers=_basic_auth_header(settings),
            connector=aiohttp.TCPConnector(
                ssl=ssl_context if ssl_context is not None else True
            ),
            # No total: aiohttp's default 5 minutes would cut blocking queries
            # (up to 10m); the discovery handler bounds every call itself.
            timeout=aiohttp.ClientTimeout(total=None),
        )

    def uri(self, path: str, params: list[tuple[str, Any]] | None = None) -> str:
        uri: str = super().uri(path, [*(params or []), *self._scopes] or None)
        return uri

    async def _request(
        self,
        callback: Any,
        method: str,
        uri: str,
        headers: dict[str, str] | None,
        data: Any = None,
        connections_timeout: float | None = None,
        raw: bool = False,
    ) -> Any:
        """As py-consul's, plus the TLS server name (aiohttp takes it per request).

        `connections_timeout` is accepted for py-consul's signature and left
        unused: py-consul's own total timeout would cut blocking queries short.
        """
        async with self._session.request(
            method,
            uri,
            headers=headers,
            data=data,
            server_hostname=self._server_hostname,
        ) as response:
            body = await response.read() if raw else await response.text("utf-8")
        if response.status == 599:
            raise consul.Timeout
        return callback(consul.base.Response(response.status, response.headers, body))


def _basic_auth_header(settings: ModelConsulSettings) -> dict[str, str]:
    """CONSUL_HTTP_AUTH (`user[:password]`) as Go's SetBasicAuth sends it.

    Encoded here: aiohttp 3.14 deprecates BasicAuth and `auth=`, and its
    replacement (encode_basic_auth) is missing from older aiohttp releases.
    """
    if settings.http_auth is None:
        return {}
    user, _, password = settings.http_auth.get_secret_value().partition(":")
    credentials = f"{user}:{password}".encode()
    return {"Authorization": f"Basic {base64.b64encode(credentials).decode()}"}


class ConsulAgentConnection(consul.aio.Consul):  # type: ignore[misc]
    """`consul.aio.Consul` whose transport is a ConsulAgentTransport.

    Build it inside a running event loop; `await close()` when done.
    """

    def __init__(
        self, settings: ModelConsulSettings, ssl_context: ssl.SSLContext | None
    ) -> None:
        self._transport = (settings, ssl_context)
        super().__init__(
            host=settings.host,
            port=settings.port,
            scheme=settings.scheme,
            verify=settings.verify,
            dc=settings.datacenter,
        )
        # py-consul lets CONSUL_HTTP_TOKEN override the token it is given, so
        # the resolved token is set afterwards; it travels as X-Consul-Token.
        self.token = settings.token.get_secret_value() if settings.token else None

    def http_connect(self, *_: object) -> ConsulAgentTransport:
        """py-consul's hook; host, port and TLS come from the settings instead."""
        return ConsulAgentTransport(*self._transport)
