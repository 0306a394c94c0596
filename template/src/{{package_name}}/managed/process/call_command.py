# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""`<console script> call`: one call to a service found in Consul, its answer on stdout."""

import asyncio
import json
import logging
import sys
from typing import Any, TextIO

from ..calling.call_arguments import CallTags, CallTimeout
from ..calling.call_errors import (
    CallFailedError,
    CallRejectedError,
    CallResponseInvalidError,
)
from ..calling.handlers.handler_service_calls import HandlerServiceCalls
from ..consul.handlers.handler_consul_discovery import HandlerConsulDiscovery
from ..discovery.endpoint_resolver import EndpointResolver
from ..errors import ConfigurationError, NoHealthyInstanceError
from ..lifecycle.mixin_managed_node import MixinManagedNode
from ..logs.log_events import set_log_level
from ..metrics.node_metrics import NodeMetrics
from ..settings.model_node_settings import ModelNodeSettings
from .protected_settings import load_protected_settings
from .stop_signals import StopSignalReceivedError

# Exit codes of `call` (docs/operations.md lists them): a script branches on them.
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NO_INSTANCE = 3
EXIT_FAILED = 4
EXIT_REJECTED = 5
EXIT_UNUSABLE_ANSWER = 6
# As a shell reports a command a signal ended: 128 + the signal's number.
_EXIT_SIGNALLED_BASE = 128


class CallInputError(ValueError):
    """The JSON to send is not JSON, or not an object (exit 2)."""


def call_command(
    node_class: type[MixinManagedNode],
    service: str,
    source: TextIO,
    tags: CallTags,
    timeout: CallTimeout,
) -> int:
    """POST the JSON object read from `source` to a healthy instance of `service`;
    print the answer as JSON and return the exit code.

    Consul is reached with the node's own settings (its contract, the
    ONEX_NODE_* and CONSUL_* variables, the token and TLS files).
    """
    try:
        payload = _json_object(_read(source))
        settings = load_protected_settings(node_class)
        # Only what goes wrong around the call (Consul away, say) shows.
        set_log_level(logging.WARNING)
        answer = asyncio.run(_call(settings, service, payload, tags, timeout))
    except (CallInputError, ConfigurationError) as error:
        return _fail(EXIT_USAGE, str(error))
    except NoHealthyInstanceError as error:
        return _fail(EXIT_NO_INSTANCE, str(error))
    except CallFailedError as error:
        return _fail(EXIT_FAILED, str(error))
    except CallRejectedError as error:
        if error.error is not None:
            # The callee's error body says why; a script may read it.
            print(json.dumps({"error": error.error}))
        return _fail(EXIT_REJECTED, str(error))
    except CallResponseInvalidError as error:
        return _fail(EXIT_UNUSABLE_ANSWER, str(error))
    except StopSignalReceivedError as stop:
        return _EXIT_SIGNALLED_BASE + stop.signum
    print(json.dumps(answer))
    return EXIT_OK


async def _call(
    settings: ModelNodeSettings,
    service: str,
    payload: dict[str, Any],
    tags: CallTags,
    timeout: CallTimeout,
) -> Any:
    discovery = HandlerConsulDiscovery(
        settings.consul, settings.check, settings.discovery
    )
    metrics = NodeMetrics()
    calls = HandlerServiceCalls(
        EndpointResolver(discovery, settings, metrics), settings.calls, metrics
    )
    try:
        return await calls.call(service, payload, tags=tags, timeout=timeout)
    finally:
        await calls.aclose()
        await discovery.aclose()


def _read(source: TextIO) -> str:
    try:
        return source.read()
    except UnicodeDecodeError as error:
        raise CallInputError(f"the input is not UTF-8 (byte {error.start})") from None


def _json_object(document: str) -> dict[str, Any]:
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError as error:
        raise CallInputError(
            f"the input is not JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(parsed, dict):
        raise CallInputError(
            f"the input must be a JSON object, not {type(parsed).__name__}"
        )
    return parsed


def _fail(exit_code: int, message: str) -> int:
    # A call's errors end with the correlation ID its attempts carried.
    print(f"call: {message}", file=sys.stderr)
    return exit_code
