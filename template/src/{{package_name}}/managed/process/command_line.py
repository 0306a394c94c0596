# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The console script's arguments: none serves the node, `call` calls a service,
`service-definition` prints its Consul registration."""

import argparse
import io
import math
import sys
from collections.abc import Sequence

from ..lifecycle.mixin_managed_node import MixinManagedNode
from .call_command import (
    EXIT_FAILED,
    EXIT_NO_INSTANCE,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNUSABLE_ANSWER,
    EXIT_USAGE,
    call_command,
)
from .entrypoint import serve_node
from .service_definition_command import service_definition_command

_EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}  the answer (JSON) is on standard output
  {EXIT_USAGE}  usage, a setting that cannot work, or JSON that is not an object
  {EXIT_NO_INSTANCE}  no healthy instance of the service
  {EXIT_FAILED}  every attempt failed (refused, reset, 5xx, time budget spent)
  {EXIT_REJECTED}  the callee rejected the request (its error body on standard output)
  {EXIT_UNUSABLE_ANSWER}  the callee's answer is not JSON
"""


def run_command_line(
    node_class: type[MixinManagedNode], program: str, arguments: Sequence[str]
) -> int:
    """Serve `node_class` (no arguments) or run `call`; return the exit code.

    Bad arguments exit 2 with argparse's usage message.
    """
    if arguments[:1] == ["call"]:
        # Intermixed: JSON may come after the options (`call S --tag t '{}'`).
        parsed = _call_parser(program).parse_intermixed_args(arguments[1:])
        source = sys.stdin if parsed.json is None else io.StringIO(parsed.json)
        return call_command(
            node_class, parsed.service, source, parsed.tags, parsed.timeout
        )
    if arguments[:1] == ["service-definition"]:
        argparse.ArgumentParser(
            prog=f"{program} service-definition",
            description="Print, as JSON, the Consul agent service definition "
            "this node registers with its settings (contract, ONEX_NODE_*): "
            "for an agent's config directory or `consul services register`, "
            "with the node run in consul.registration external.",
        ).parse_args(arguments[1:])
        return service_definition_command(node_class)
    # Only --help, or a usage error for anything else.
    argparse.ArgumentParser(
        prog=program,
        description="Serve the node until SIGTERM, SIGINT or SIGHUP (exit 0; 1 "
        "failed to start, 2 bad configuration).",
        epilog=f"`{program} call SERVICE [JSON]` calls a service instead "
        f"(`{program} call --help`); `{program} service-definition` prints "
        "its Consul registration.",
    ).parse_args(arguments)
    return serve_node(node_class)


def _call_parser(program: str) -> argparse.ArgumentParser:
    call = argparse.ArgumentParser(
        prog=f"{program} call",
        description="POST a JSON object to a healthy instance of SERVICE, found "
        "through Consul with this node's settings (ONEX_NODE_*, CONSUL_*), "
        "and print its answer as JSON.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument("service", metavar="SERVICE", help="the Consul service name")
    call.add_argument(
        "json",
        metavar="JSON",
        nargs="?",
        help="the JSON object to send (default: read from standard input)",
    )
    call.add_argument(
        "--tag",
        dest="tags",
        action="append",
        metavar="TAG",
        help="call only instances carrying TAG (repeatable)",
    )
    call.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="the whole call's time budget (default: the calls.timeout setting)",
    )
    return call


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"--timeout must be a number of seconds above 0, not {text!r}"
        )
    return seconds
