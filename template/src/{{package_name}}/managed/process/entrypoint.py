# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Run one ONEX node as a process until SIGTERM, SIGINT or SIGHUP."""

import asyncio
import contextlib

from omnibase_core.enums.enum_log_level import EnumLogLevel

from ..errors import ConfigurationError
from ..lifecycle.mixin_managed_node import MixinManagedNode
from ..logs.log_events import (
    log_event,
    set_log_level,
)
from .node_runtime import NodeRuntime
from .protected_settings import load_protected_settings
from .stop_signals import (
    StopSignalReceivedError,
    ignore_stop_signals,
    on_stop_signals,
    stop_signal_received,
)

# Exit codes: 0 clean stop, 1 failed while starting, 2 bad configuration.
_EXIT_START_FAILED = 1
_EXIT_BAD_CONFIGURATION = 2


def serve_node(node_class: type[MixinManagedNode]) -> int:
    """Serve `node_class` until a stop signal; return the exit code.

    A stop signal that arrives before the event loop handles signals (while
    settings load, see stop_signals.py) ends start-up quietly with exit 0.
    """
    try:
        settings = load_protected_settings(node_class)
        set_log_level(settings.log_level.logging_level)
        # Loads the TLS material too: a bad CA or key is a configuration error.
        runtime = NodeRuntime(node_class, settings)
        return asyncio.run(_serve(runtime))
    except ConfigurationError as error:
        log_event(
            EnumLogLevel.ERROR,
            "node.configuration_error",
            f"{node_class.__name__}: configuration error: {error}",
        )
        return _EXIT_BAD_CONFIGURATION
    except StopSignalReceivedError as stop:
        log_event(
            EnumLogLevel.INFO,
            "node.stopped",
            f"{node_class.__name__} stopped by {stop} while starting",
        )
        return 0


async def _serve(runtime: NodeRuntime) -> int:
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A repeated signal sets the event again: no effect on a teardown under way.
    on_stop_signals(lambda: loop.call_soon_threadsafe(stop_requested.set))
    try:
        if (early := stop_signal_received()) is not None:
            # Its StopSignalReceivedError was swallowed on the way here:
            # unwind now, as it should have (serve_node exits quietly).
            raise StopSignalReceivedError(early)
        return await _serve_until_stopped(runtime, stop_requested)
    finally:
        # Torn down: until the process exits, a signal changes nothing.
        ignore_stop_signals()


async def _serve_until_stopped(
    runtime: NodeRuntime, stop_requested: asyncio.Event
) -> int:
    settings = runtime.settings
    try:
        await runtime.open()
    except OSError as error:
        log_event(
            EnumLogLevel.ERROR,
            "node.listen_failed",
            f"cannot serve the health endpoint on "
            f"{settings.bind_host}:{settings.port}: {error.strerror}",
        )
        await runtime.close()
        return _EXIT_START_FAILED
    name = type(runtime.node).__name__
    exit_code = await _initialize_unless_stopped(runtime, stop_requested)
    if exit_code is None:
        # Which registration runs, in the line every operator reads first.
        registration = (
            settings.consul.registration.value if settings.consul.enabled else "off"
        )
        log_event(
            EnumLogLevel.INFO,
            "node.ready",
            f"{name} is serving {settings.health_url} "
            f"(Consul registration: {registration})",
            service_id=settings.service_id,
            registration=registration,
        )
        await stop_requested.wait()
        exit_code = 0
    log_event(EnumLogLevel.INFO, "node.stopping", f"{name} is stopping")
    await runtime.close()
    log_event(EnumLogLevel.INFO, "node.stopped", f"{name} stopped")
    return exit_code


async def _initialize_unless_stopped(
    runtime: NodeRuntime, stop_requested: asyncio.Event
) -> int | None:
    """Initialize the node; give up early if a stop signal arrives meanwhile.

    Returns None when the node is ready, else the exit code to stop with.
    """
    initializing = asyncio.create_task(runtime.initialize_node())
    stopping = asyncio.create_task(stop_requested.wait())
    await asyncio.wait({initializing, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not initializing.done():
        initializing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await initializing
        return 0
    error = initializing.exception()
    if error is None:
        return None
    log_event(
        EnumLogLevel.ERROR,
        "node.start_failed",
        f"{type(runtime.node).__name__} failed to initialize: {error}",
    )
    return _EXIT_START_FAILED
