"""The owner code `make demo` writes into its caller: clean, and it calls the callee.

Written into a copy of an orchestrator render whose names start with a digit
(package ``node_3d_printer_queue``, class ``Handler3dPrinterQueue``), so the
names come from the render and not from a guess. The handler then runs with
the package's in-memory context against a stand-in callee served over HTTP:
what it sends and what it makes of the answer.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from package_checks import SHARED_BIN, assert_succeeded

from scripts.demo_owner_code import CALL_MARKER, call_lines, write_caller_code
from scripts.rendering import RenderCache

CALLEE = "stats-demo"

# Runs in the copy (its src/ ahead of the installed render): the handler the
# demo wrote, with in-memory discovery naming one instance of CALLEE, which is
# a bare aiohttp route answering like the compute sample.
_RUN_HANDLER = """
import asyncio, importlib, json, sys, tomllib
from aiohttp import web

package = sys.argv[1]
pyproject = tomllib.loads(open("pyproject.toml", encoding="utf-8").read())
(target,) = pyproject["project"]["entry-points"]["onex.nodes"].values()
module, _, name = target.partition(":")
node_class = getattr(importlib.import_module(module), name)
shell = importlib.import_module(module.rpartition(".")[0] + ".handler")
handler_class = getattr(shell, shell.__all__[0])
managed = package + ".managed"
context_class = importlib.import_module(managed + ".context").ModelNodeContext
endpoint_class = importlib.import_module(
    managed + ".discovery.model_instance_endpoint"
).ModelInstanceEndpoint
settings_for = importlib.import_module(managed + ".settings.node_contract").settings_for
received = []


async def summarise(request):
    received.append(await request.json())
    return web.json_response(
        {"count": 3, "total": 6249.0, "mean": 2083.0, "minimum": 899.0,
         "maximum": 4100.0}
    )


async def main():
    app = web.Application()
    app.router.add_post("/invoke", summarise)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    instance = endpoint_class(
        service_id=sys.argv[2] + "-1", service=sys.argv[2], address="127.0.0.1",
        port=port,
    )
    context = context_class.in_memory(
        settings=settings_for(node_class, {}), instances=[instance]
    )
    handler = handler_class(context)
    request = node_class.input_model.model_validate(
        {"amounts_cents": [1250, 899, 4100], "discount_percent": 10,
         "tax_percent": 20}
    )
    try:
        answer = await handler.handle(request)
    finally:
        await runner.cleanup()
    print(json.dumps({"answer": answer.model_dump(mode="json"), "sent": received}))


asyncio.run(main())
"""


def test_caller_code_is_clean_and_calls_the_callee(
    renders: RenderCache, tmp_path: Path
) -> None:
    rendered = renders.get("digit-first")
    project = tmp_path / "project"
    shutil.copytree(rendered.root, project)
    copy = dataclasses.replace(rendered, root=project)
    handler = write_caller_code(project, copy.package_name, CALLEE)

    written = [str(handler), str(handler.parent.parent / "models")]
    for command in (["check", *written], ["format", "--check", *written]):
        assert_succeeded(copy.run([SHARED_BIN / "ruff", *command]), "ruff")
    lines = call_lines(handler)
    assert CALL_MARKER in lines[0]
    assert lines[-1].strip() == ")"

    result = copy.run(
        [copy.python, "-c", _RUN_HANDLER, copy.package_name, CALLEE],
        env={"PYTHONPATH": str(project / "src")},
        timeout=60,
    )
    assert_succeeded(result, "the demo's caller handler")
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["sent"] == [{"values": [1250, 899, 4100]}]
    assert outcome["answer"] == {
        "subtotal_cents": 6249,
        "discount_cents": 625,
        "tax_cents": 1125,
        "total_cents": 6749,
        "completed_steps": ["subtotal", "discount", "tax"],
    }
