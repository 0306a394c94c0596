# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The one reader of a node's contract.yaml, parsed once per path."""

import copy
import functools
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigurationError
from .model_node_settings import ModelNodeSettings
from .settings_loader import load_node_settings


def node_contract(node_class: type) -> dict[str, Any]:
    """The contract next to `node_class`'s module, as a dict of its own.

    A copy: what one caller changes, no other caller sees. Raises
    ConfigurationError naming the file when it is missing or not a mapping.
    """
    return copy.deepcopy(dict(_parsed(_contract_path(node_class))))


def contract_name(node_class: type) -> str:
    """The node's name: `name:` of its contract."""
    return str(_parsed(_contract_path(node_class)).get("name", ""))


def settings_for(node_class: type, environ: Mapping[str, str]) -> ModelNodeSettings:
    """Settings from the contract's `config:` block, overridden by `environ`.

    The runtime calls it once at start-up and registers the result in the
    node's container; nothing else rebuilds settings.
    """
    contract = _parsed(_contract_path(node_class))
    return load_node_settings(
        contract.get("config") or {},
        environ,
        node_class.__name__,
        descriptor=contract.get("descriptor"),
    )


def _contract_path(node_class: type) -> Path:
    return Path(inspect.getfile(node_class)).with_name("contract.yaml")


@functools.cache
def _parsed(path: Path) -> Mapping[str, Any]:
    # Cached: start-up, the node's initialize() and the shells' names all read
    # the same file, and it does not change while the process runs.
    try:
        contract: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"cannot read {path}: {error}") from None
    if not isinstance(contract, dict):
        raise ConfigurationError(f"{path}: a contract is a mapping of keys")
    return contract
