# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul service meta: the node's own keys and Consul's rules for the owner's."""

import re
from collections.abc import Mapping

from ..errors import ConfigurationError

# Keys the node always registers (ModelInstanceRegistration.for_node); owner
# meta may not replace them, or discovery by node type or version would lie.
NODE_META_KEYS = (
    "node_type",
    "node_id",
    "node_name",
    "node_version",
    "domain",
    "template_version",
    # Where callers and Prometheus reach the node (serving/).
    "invoke_path",
    "metrics_path",
    # "true" or "false": whether callers may repeat a failed call elsewhere.
    "idempotent",
)
# Consul's limits (agent/structs ValidateServiceMetadata), so a bad pair is a
# start-up error instead of a 400 from the agent at registration.
_KEY = re.compile(r"^[a-zA-Z0-9_-]+$")
_KEY_LIMIT = 128
# Longer values are refused (owner's) or cut (the node's own, see
# ModelInstanceRegistration.for_node).
META_VALUE_LIMIT = 512
_PAIRS_LIMIT = 64
_RESERVED_PREFIX = "consul-"


def parse_meta_pairs(source: str, text: str) -> dict[str, str]:
    """`key=value,key=value` (values may contain "=", not ",") as a dict."""
    meta: dict[str, str] = {}
    for item in text.split(","):
        pair = item.strip()
        if not pair:
            continue
        key, separator, value = pair.partition("=")
        if not separator:
            raise ConfigurationError(
                f"{source}: {pair!r} is not a key=value pair (key=value,...)"
            )
        meta[key.strip()] = value.strip()
    return meta


def meta_problem(meta: Mapping[str, str]) -> str | None:
    """Why Consul (or the node) would refuse `meta` as owner meta; None if fine."""
    if len(meta) + len(NODE_META_KEYS) > _PAIRS_LIMIT:
        return (
            f"at most {_PAIRS_LIMIT - len(NODE_META_KEYS)} pairs: Consul allows "
            f"{_PAIRS_LIMIT} and the node uses {len(NODE_META_KEYS)}"
        )
    for key, value in meta.items():
        problem = _pair_problem(key, value)
        if problem is not None:
            return f"meta key {key!r}: {problem}"
    return None


def _pair_problem(key: str, value: str) -> str | None:
    if not key:
        return "key cannot be blank"
    if not _KEY.match(key):
        return "key may only contain letters, digits, '_' and '-'"
    if len(key) > _KEY_LIMIT:
        return f"key is too long (limit: {_KEY_LIMIT} characters)"
    if key.startswith(_RESERVED_PREFIX):
        return f"key prefix {_RESERVED_PREFIX!r} is reserved for Consul"
    if key in NODE_META_KEYS:
        return "key is set by the node itself"
    if len(value) > META_VALUE_LIMIT:
        return f"value is too long (limit: {META_VALUE_LIMIT} characters)"
    return None
