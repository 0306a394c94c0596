# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Load the node's contract.yaml quickly at start-up."""

import inspect
from pathlib import Path

import yaml
from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.infrastructure.node_core_base import NodeCoreBase

from ..logs.log_events import log_event


class MixinContractFile(NodeCoreBase):
    """Read `contract.yaml` next to the node's module into `contract_data`.

    omnibase-core 0.47 does the same in `_load_contract`, but first imports its
    whole validation package (over a second of start-up) only to check that the
    YAML is well-formed, which `onex validate` already proves at build time.
    A node that registers with Consul should be discoverable as soon as it can.
    """

    async def _load_contract(self) -> None:
        path = Path(inspect.getfile(type(self))).with_name("contract.yaml")
        try:
            contract = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            log_event(
                EnumLogLevel.WARNING,
                "node.contract_unreadable",
                f"cannot read {path}: {error}; running without a contract",
            )
            return
        if isinstance(contract, dict):
            self.contract_data = contract
