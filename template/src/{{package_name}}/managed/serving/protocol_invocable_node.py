# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What POST /invoke needs of a node shell."""

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel


@runtime_checkable
class ProtocolInvocableNode(Protocol):
    """A node that runs one request of its input model through `process()`.

    Every node shell implements it in its archetype's terms (an effect or
    compute input, a reducer's state machine, an orchestrator's plan).
    """

    @property
    def input_model(self) -> type[BaseModel]: ...

    @property
    def output_model(self) -> type[BaseModel]: ...

    async def invoke(self, request: Any) -> BaseModel:
        """The handler's output for `request` (an instance of `input_model`)."""
        ...
