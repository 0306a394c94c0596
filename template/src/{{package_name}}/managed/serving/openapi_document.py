# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""GET /openapi.json: the OpenAPI 3.1 document of POST /invoke."""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from ..settings.model_node_settings import ModelNodeSettings
from ..values.http_headers import CORRELATION_HEADER, MIN_BUDGET_MS, TIMEOUT_HEADER
from ..values.whole_numbers import MAX_MILLISECONDS
from .model_invoke_error_body import ModelInvokeErrorBody
from .protocol_invocable_node import ProtocolInvocableNode

REF_TEMPLATE = "#/components/schemas/{model}"
# Every refusal POST /invoke can answer, with when.
_ERRORS = {
    "400": (
        "Not JSON (or not UTF-8) (not_json), an X-Correlation-ID that is not a "
        "UUID (invalid_correlation_id), or an X-Request-Timeout-Ms that is not "
        "whole milliseconds (invalid_timeout)"
    ),
    "404": "No such path",
    "405": "Another method than POST",
    "413": "The body is larger than the node accepts",
    "415": "Content-Type is not application/json",
    "422": "The body fails the input model, or the handler rejected the request",
    "500": "The handler failed",
    "503": "The node is starting, stopping or running its maximum of requests",
    "504": (
        "The handler ran past its time budget (timeout), or the budget was too "
        f"small to start (under {MIN_BUDGET_MS}ms) or ran out while the handler "
        "called another node (deadline_exceeded)"
    ),
}


def openapi_document(
    settings: ModelNodeSettings, node: ProtocolInvocableNode
) -> dict[str, Any]:
    """The document, with the schemas pydantic derives from the node's models
    (nested models under components/schemas, as the $refs say)."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (node.input_model, "validation"),
        (node.output_model, "serialization"),
        (ModelInvokeErrorBody, "serialization"),
    ]
    refs, definitions = models_json_schema(models, ref_template=REF_TEMPLATE)
    request, response, error = (refs[model] for model in models)
    correlation = {
        "description": "The request's correlation ID (a UUID); generated when not sent",
        "schema": {"type": "string", "format": "uuid"},
    }
    answers: dict[str, Any] = {
        "200": _answer("The handler's output", response, correlation),
        **{
            status: _answer(description, error, correlation)
            for status, description in _ERRORS.items()
        },
    }
    answers["503"]["headers"]["Retry-After"] = {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "integer"},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": settings.service_name, "version": settings.node_version},
        "paths": {
            settings.invoke_path: {
                "post": {
                    "operationId": "invoke",
                    "summary": f"Run one request through {settings.node_class}",
                    "parameters": [
                        {"name": CORRELATION_HEADER, "in": "header", **correlation},
                        {
                            "name": TIMEOUT_HEADER,
                            "in": "header",
                            "description": (
                                "The caller's remaining time budget in whole "
                                "milliseconds: the request may take the smaller "
                                "of it and the operation timeout, and the calls "
                                "its handler makes get what is left"
                            ),
                            "schema": {
                                "type": "integer",
                                "minimum": 0,
                                "maximum": MAX_MILLISECONDS,
                            },
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request}},
                    },
                    "responses": answers,
                }
            }
        },
        "components": {"schemas": definitions.get("$defs", {})},
    }


def _answer(
    description: str, schema: dict[str, Any], correlation: dict[str, Any]
) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {CORRELATION_HEADER: correlation},
        "content": {"application/json": {"schema": schema}},
    }
