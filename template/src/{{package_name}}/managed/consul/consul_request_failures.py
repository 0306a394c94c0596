# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""One request to the agent bounded in time; network and TLS failures named as Consul errors."""

import asyncio
from collections.abc import Awaitable

import aiohttp

from ..errors import ConsulConnectionLostError, ConsulUnavailableError
from ..settings.model_consul_settings import ModelConsulSettings
from .consul_agent_connection import ConsulAnswer


async def within_limit(
    operation: str,
    request: Awaitable[ConsulAnswer],
    limit: float,
    settings: ModelConsulSettings,
) -> ConsulAnswer:
    """`request` within `limit` seconds; network failures as Consul errors."""
    where = settings.http_addr
    try:
        async with asyncio.timeout(limit):
            return await request
    except TimeoutError:
        raise ConsulUnavailableError(
            f"{operation}: Consul agent at {where} did not answer within {limit:g}s"
        ) from None
    except aiohttp.ClientConnectorCertificateError as error:
        raise ConsulUnavailableError(
            f"{operation}: TLS certificate of the Consul agent at {where} "
            f"was rejected ({error.certificate_error}); check CONSUL_CACERT, "
            "CONSUL_CAPATH and CONSUL_TLS_SERVER_NAME",
            reached=False,
        ) from None
    except aiohttp.ClientSSLError as error:
        raise ConsulUnavailableError(
            f"{operation}: TLS handshake with the Consul agent at {where} "
            f"failed ({_tls_reason(error)}); if the agent requires client "
            "certificates, set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY",
            reached=False,
        ) from None
    except aiohttp.ClientConnectorError as error:
        raise ConsulUnavailableError(
            f"{operation}: cannot reach Consul agent at {where} ({error})",
            reached=False,
        ) from None
    except (
        aiohttp.ServerDisconnectedError,
        aiohttp.ClientOSError,
        aiohttp.ClientPayloadError,
    ) as error:
        raise ConsulConnectionLostError(
            f"{operation}: lost the connection to Consul agent at {where} "
            f"({error}){_disconnect_hint(settings, error)}"
        ) from None
    except aiohttp.ClientError as error:
        raise ConsulUnavailableError(
            f"{operation}: the request to Consul agent at {where} failed ({error})"
        ) from None


def _disconnect_hint(settings: ModelConsulSettings, error: Exception) -> str:
    """Name the likely cause when an https agent hangs up on the handshake.

    With TLS 1.3 an agent that requires client certificates (Consul's
    verify_incoming) refuses one only after the client's handshake is done,
    so aiohttp sees nothing but a disconnection.
    """
    if (
        isinstance(error, aiohttp.ServerDisconnectedError)
        and settings.scheme == "https"
        and settings.client_cert is None
    ):
        return (
            "; an agent requiring client certificates does this to clients "
            "without one: set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY"
        )
    return ""


def _tls_reason(error: aiohttp.ClientSSLError) -> str:
    """OpenSSL's reason (e.g. TLSV13_ALERT_CERTIFICATE_REQUIRED), not the repr."""
    reason = getattr(error.os_error, "reason", None)
    return str(reason or error)
