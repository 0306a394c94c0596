# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What the owner's handler is given: import ModelNodeContext from here."""

from ..metrics.node_metrics import NodeMetrics
from .model_node_context import ModelNodeContext
from .node_logger import NodeLogger

__all__ = ["ModelNodeContext", "NodeLogger", "NodeMetrics"]
