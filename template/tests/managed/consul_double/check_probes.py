# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""HTTP, TCP and script check probes, with Consul's output texts."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
from typing import Final

import aiohttp

from tests.managed.consul_double.constants import (
    CRITICAL,
    OUTPUT_MAX_SIZE,
    PASSING,
    WARNING,
)
from tests.managed.consul_double.go_durations import format_go_duration, go_quote
from tests.managed.consul_double.request_decoding import CheckSpec


def _tail(data: bytes, limit: int) -> str:
    # Consul reads the body into a circular buffer: the last `limit` bytes stay.
    return data[-limit:].decode("utf-8", errors="replace")


def truncate_ttl_output(output: str, limit: int) -> str:
    raw = output.encode()
    if len(raw) <= limit:
        return output
    head = raw[:limit].decode("utf-8", errors="replace")
    return f"{head} ... (captured {limit} of {len(raw)} bytes)"


def _dial_error(exc: OSError) -> str:
    if exc.errno == errno.ECONNREFUSED or isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    return exc.strerror or str(exc) or type(exc).__name__


def _http_status(code: int) -> str:
    if 200 <= code <= 299:
        return PASSING
    return WARNING if code == 429 else CRITICAL


def _go_op(method: str) -> str:
    return method[:1].upper() + method[1:].lower()


async def _read_tail(response: aiohttp.ClientResponse, limit: int) -> bytes:
    kept = b""
    async for chunk in response.content.iter_chunked(65536):
        kept = (kept + chunk)[-limit:]
    return kept


async def probe_http(
    session: aiohttp.ClientSession, spec: CheckSpec, timeout_s: float
) -> tuple[str, str]:
    method = spec.method or "GET"
    headers = [
        (name, value) for name, values in spec.header.items() for value in values
    ]
    names = {name.lower() for name, _ in headers}
    if "user-agent" not in names:
        headers.append(("User-Agent", "Consul Health Check"))
    if "accept" not in names:
        headers.append(("Accept", "text/plain, text/*, */*"))
    limit = spec.output_max_size or OUTPUT_MAX_SIZE
    where = f"{_go_op(method)} {go_quote(spec.http)}"
    try:
        async with session.request(
            method,
            spec.http,
            headers=headers,
            data=spec.body.encode() if spec.body else None,
            allow_redirects=not spec.disable_redirects,
            ssl=not spec.tls_skip_verify,
            server_hostname=spec.tls_server_name or None,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            body = await _read_tail(response, limit)
            output = (
                f"HTTP {method} {spec.http}: {response.status} {response.reason} "
                f"Output: {_tail(body, limit)}"
            )
            return _http_status(response.status), output
    except TimeoutError:
        return CRITICAL, (
            f"{where}: context deadline exceeded "
            "(Client.Timeout exceeded while awaiting headers)"
        )
    except aiohttp.ClientConnectorError as exc:
        return CRITICAL, f"{where}: dial tcp {exc.host}:{exc.port}: {_dial_error(exc)}"
    except (aiohttp.ClientError, ValueError) as exc:
        return CRITICAL, f"{where}: {exc}"


async def probe_tcp(spec: CheckSpec, timeout_s: float) -> tuple[str, str]:
    host, _, port = spec.tcp.rpartition(":")
    host = host.strip("[]")
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port)), timeout_s
        )
    except TimeoutError:
        return CRITICAL, f"dial tcp {spec.tcp}: i/o timeout"
    except OSError as exc:
        return CRITICAL, f"dial tcp {spec.tcp}: {_dial_error(exc)}"
    except ValueError:
        return CRITICAL, f"dial tcp {spec.tcp}: address {spec.tcp}: missing port"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return PASSING, f"TCP connect {spec.tcp}: Success"


SCRIPT_TIMEOUT_NS: Final = 30 * 10**9  # CheckMonitor's default: Timeout unset


async def probe_script(spec: CheckSpec, timeout_ns: int) -> tuple[str, str]:
    """Consul's CheckMonitor: exit 0 passing, 1 warning, else critical; stdout
    and stderr together, the last OutputMaxSize bytes kept; ``timeout_ns`` 0
    is its 30s default."""
    limit = spec.output_max_size or OUTPUT_MAX_SIZE
    timeout_ns = timeout_ns or SCRIPT_TIMEOUT_NS
    try:
        process = await asyncio.create_subprocess_exec(
            *spec.script_args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # like Consul, the whole subtree is killed
        )
    except OSError as exc:
        return CRITICAL, f"exec: {go_quote(spec.script_args[0])}: {_dial_error(exc)}"
    assert process.stdout is not None
    try:
        output = await asyncio.wait_for(process.stdout.read(), timeout_ns / 10**9)
        code = await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        timeout = format_go_duration(timeout_ns)
        return CRITICAL, f"Timed out ({timeout}) running check"
    text = _captured(output, limit)
    if code == 0:
        return PASSING, text
    return (WARNING if code == 1 else CRITICAL), text


def _captured(output: bytes, limit: int) -> str:
    if len(output) <= limit:
        return output.decode("utf-8", errors="replace")
    kept = _tail(output, limit)
    return f"Captured {limit} of {len(output)} bytes\n...\n{kept}"
