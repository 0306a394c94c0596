# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""POST /invoke: the input model as JSON in, the output model as JSON out."""

from aiohttp import web
from aiohttp.typedefs import Handler

from .protocol_invocable_node import ProtocolInvocableNode


def invoke_route(node: ProtocolInvocableNode) -> Handler:
    """Run one request through the node."""

    async def invoke(request: web.Request) -> web.Response:
        payload = node.input_model.model_validate(await request.json())
        result = await node.invoke(payload)
        return web.json_response(result.model_dump(mode="json"))

    return invoke
