"""The owner's code `make demo` writes into the caller: a handler calling a node.

User-owned files of the caller (its handler and one model of what the callee
answers), written after the render and before the install, the way an owner
replaces the sample: the handler's work is one ``context.call`` to the callee
service, found through Consul.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

# The lines of the handler that show how a call is made (printed by the demo).
CALL_MARKER = "summary = await self._context.call("

_HANDLER = string.Template('''\
# Yours to edit: the ONEX node template generated this file once.
"""Business logic of ${service}: the subtotal comes from another node.

Written by the template's `make demo` in place of the sample: an owner's
handler calling another node (${callee}) through Consul with `context.call`,
whichever of its instances is alive.
"""

from ${package}.managed.context import (
    ModelNodeContext,
)

from ..models.model_${slug}_input import (
    Model${camel}Input,
)
from ..models.model_${slug}_output import (
    Model${camel}Output,
)
from ..models.model_stats_summary import (
    ModelStatsSummary,
)

# The service that sums the amounts, as registered in Consul.
STATS_SERVICE = "${callee}"


class Handler${camel}:
    """Price an invoice: the subtotal by ${callee}, discount and tax here."""

    def __init__(self, context: ModelNodeContext) -> None:
        self._context = context
        # What the node plans (names, in order); handle() runs them.
        self.steps = ("subtotal", "discount", "tax")

    async def handle(
        self,
        request: Model${camel}Input,
    ) -> Model${camel}Output:
        ${marker}
            STATS_SERVICE,
            {"values": request.amounts_cents},
            response_model=ModelStatsSummary,
        )
        subtotal = round(summary.total)
        discount = _percent_of(subtotal, request.discount_percent)
        tax = _percent_of(subtotal - discount, request.tax_percent)
        # The line carries the request's correlation ID, as the callee's do.
        self._context.log.info(
            "invoice.priced",
            f"priced an invoice, subtotal {subtotal} by {STATS_SERVICE}",
            total_cents=subtotal - discount + tax,
        )
        return Model${camel}Output(
            subtotal_cents=subtotal,
            discount_cents=discount,
            tax_cents=tax,
            total_cents=subtotal - discount + tax,
            completed_steps=self.steps,
        )


def _percent_of(amount: int, percent: int) -> int:
    # Whole cents, halves rounded up: integer arithmetic, no float drift.
    return (amount * percent + 50) // 100
''')

_SUMMARY_MODEL = string.Template('''\
# Yours to edit: the ONEX node template generated this file once.
"""What ${callee} answers, as far as this node reads it."""

from pydantic import BaseModel, ConfigDict


class ModelStatsSummary(BaseModel):
    """The summary ${callee} computes; fields this node does not read are ignored."""

    # extra="ignore": the callee may add fields without breaking this caller.
    model_config = ConfigDict(frozen=True, extra="ignore")

    count: int
    total: float
''')


def write_caller_code(project: Path, package: str, callee: str) -> Path:
    """Replace the sample handler of the render at ``project``; the handler's path.

    Names come from the rendered files (one node, one sample handler), so
    copier's naming rules are not repeated here.
    """
    (handler,) = (project / "src" / package / "nodes").glob("*/handlers/handler_*.py")
    found = re.search(r"^class Handler(\w+):", handler.read_text("utf-8"), re.M)
    if found is None:
        raise RuntimeError(f"{handler}: no handler class to replace")
    slug = handler.stem.removeprefix("handler_")
    names = {
        "service": slug.replace("_", "-"),
        "callee": callee,
        "package": package,
        "slug": slug,
        "camel": found.group(1),
        "marker": CALL_MARKER,
    }
    handler.write_text(_HANDLER.substitute(names), encoding="utf-8")
    model = handler.parent.parent / "models" / "model_stats_summary.py"
    model.write_text(_SUMMARY_MODEL.substitute(names), encoding="utf-8")
    return handler


def call_lines(handler: Path) -> list[str]:
    """The handler's call to the other node, as written (from CALL_MARKER to ")")."""
    lines = handler.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if CALL_MARKER in line)
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == ")")
    return lines[start : end + 1]
