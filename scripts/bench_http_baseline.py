"""The HTTP benchmark's baseline: the node's aiohttp server stack, one bare route.

Started as the node is (its own process, the package's interpreter, plain
``asyncio.run``): an application with the node's ``client_max_size``, an
``AppRunner`` without access log and a ``TCPSite``, whose one POST route
answers a constant JSON body without reading the request. Prints
``listening HOST:PORT`` once it accepts connections; SIGTERM stops it.

Usage: ``python scripts/bench_http_baseline.py PORT PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

HOST = "127.0.0.1"
MAX_REQUEST_BYTES = 1024 * 1024  # the node's default max_request_bytes
# The size and shape of the sample effect's answer.
ANSWER = {"journal": "bench", "bytes_written": 20, "journal_size": 20}


async def answer(_: web.Request) -> web.Response:
    return web.json_response(ANSWER)


async def serve(port: int, path: str) -> None:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_post(path, answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    try:
        await web.TCPSite(runner, HOST, port).start()
        print(f"listening {HOST}:{port}", flush=True)
        await stopping.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.path))


if __name__ == "__main__":
    main()
