"""The answer sets the template is tested (and demonstrated) with.

Each set is given to copier with ``defaults=True``, so anything not listed
comes from ``copier.yml``. Keys are test ids: keep them short and stable.
"""

from __future__ import annotations

from collections.abc import Mapping

NODE_TYPES = ("effect", "compute", "reducer", "orchestrator")

# Every node type with nothing else changed: the defaults must work for all.
# service_name is the one question without a default.
_DEFAULTS_PER_NODE_TYPE: dict[str, Mapping[str, object]] = {
    node_type: {"service_name": "postgres-crud", "node_type": node_type}
    for node_type in NODE_TYPES
}

# Every answer moved off its default, plus free text that is awkward to quote
# in TOML, YAML and Python (colon, apostrophe, hash, percent, non-ASCII; the
# validators reject double quotes and backslashes).
CUSTOM: Mapping[str, object] = {
    "service_name": "inventory-sync",
    "node_type": "compute",
    "port": 18080,
    "domain": "billing",
    "package_name": "inventory_sync_node",
    "node_version": "2.3.4",
    "health_path": "/healthz",
    "check_interval": "15s",
    "check_timeout": "3s",
    "deregister_critical_after": "90s",
    # A YAML list as text, as `copier copy --data extra_tags=...` gives it.
    "extra_tags": '["blue", "canary"]',
    "description": "Keeps inventory in sync: it's 100% async, #1 for 'stock'",
    "author": "Zoë O'Brien",
}

# A DNS label may start with a digit, a Python identifier may not: the
# derived package and class names must still be valid.
DIGIT_FIRST: Mapping[str, object] = {
    "service_name": "3d-printer-queue",
    "node_type": "orchestrator",
}

# The longest service name a DNS label allows: generated lines must still be
# stable under ruff format. Also the node that reports its own health (ttl).
LONGEST_NAME_TTL: Mapping[str, object] = {
    "service_name": "warehouse-inventory-reconciliation-and-settlement-pipeline-node",
    "node_type": "reducer",
    "check_mode": "ttl",
}

ANSWER_SETS: dict[str, Mapping[str, object]] = {
    **_DEFAULTS_PER_NODE_TYPE,
    "custom": CUSTOM,
    "digit-first": DIGIT_FIRST,
    "longest-name-ttl": LONGEST_NAME_TTL,
}

# What `make demo` renders: a compute node other nodes call (two instances run)
# and an orchestrator whose handler, written by the demo, calls it.
DEMO_CALLEE: Mapping[str, object] = {
    "service_name": "stats-demo",
    "node_type": "compute",
    "domain": "demo",
    "extra_tags": '["demo"]',
}
DEMO_CALLER: Mapping[str, object] = {
    "service_name": "invoice-demo",
    "node_type": "orchestrator",
    "domain": "demo",
    "extra_tags": '["demo"]',
}
