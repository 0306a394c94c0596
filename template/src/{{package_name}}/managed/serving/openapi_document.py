# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""GET /openapi.json: the OpenAPI 3.1 document of POST /invoke."""

from typing import Any

from ..settings.model_node_settings import ModelNodeSettings
from .protocol_invocable_node import ProtocolInvocableNode


def openapi_document(
    settings: ModelNodeSettings, node: ProtocolInvocableNode
) -> dict[str, Any]:
    """The document, with the schemas pydantic derives from the node's models."""
    request = node.input_model.model_json_schema()
    response = node.output_model.model_json_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": settings.service_name, "version": settings.node_version},
        "paths": {
            settings.invoke_path: {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request}},
                    },
                    "responses": {
                        "200": {
                            "description": "The handler's output",
                            "content": {"application/json": {"schema": response}},
                        }
                    },
                }
            }
        },
    }
