"""The Prometheus job in a rendered docs/operations.md finds and scrapes the node.

The YAML block is parsed out of the render's page and its relabel rules are
applied, as Prometheus applies them, to the labels Consul service discovery
would give the node's registration (ModelInstanceRegistration.for_node): the
scrape must reach the advertised address at the registered metrics path, and
every meta key and tag the job names must be one the node really registers.
Each check returns problems and runs once on a broken sample, so a check that
cannot fail is caught.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import yaml
from package_checks import assert_flagged

from scripts.rendering import RenderedPackage, import_in_this_process

META_LABEL = "__meta_consul_service_metadata_"
SERVICE_ID = "node-1234"


def scrape_job(operations_md: str) -> dict[str, Any]:
    """The one ```yaml block of the page that configures `consul_sd_configs`."""
    blocks = re.findall(r"```yaml\n(.*?)```", operations_md, flags=re.DOTALL)
    jobs = [
        job
        for block in blocks
        for job in (yaml.safe_load(block) or {}).get("scrape_configs", [])
        if "consul_sd_configs" in job
    ]
    assert len(jobs) == 1, f"expected one consul_sd_configs job, found {len(jobs)}"
    return dict(jobs[0])


def discovered_labels(registration: Any) -> dict[str, str]:
    """The target labels consul_sd_configs gives one registered instance."""
    labels = {
        "__address__": f"10.9.9.9:{registration.port}",  # the agent's node address
        "__metrics_path__": "/metrics",
        "__meta_consul_service": registration.service_name,
        "__meta_consul_service_id": registration.service_id,
        "__meta_consul_service_address": registration.address,
        "__meta_consul_service_port": str(registration.port),
        "__meta_consul_tags": "," + ",".join(registration.tags) + ",",
    }
    labels.update({META_LABEL + key: value for key, value in registration.meta.items()})
    return labels


def relabelled(
    rules: Sequence[Mapping[str, Any]], labels: Mapping[str, str]
) -> dict[str, str] | None:
    """Prometheus' `replace` and `keep` actions (the job's); None: dropped."""
    result = dict(labels)
    for rule in rules:
        action = rule.get("action", "replace")
        joined = str(rule.get("separator", ";")).join(
            result.get(name, "") for name in rule.get("source_labels", [])
        )
        match = re.fullmatch(str(rule.get("regex", "(.*)")), joined)
        if action == "keep":
            if match is None:
                return None
        elif action == "replace":
            if match is not None:
                replacement = str(rule.get("replacement", "$1"))
                template = re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", replacement)
                result[rule["target_label"]] = match.expand(template)
        else:
            raise AssertionError(f"action {action!r} is not modelled here")
    return result


def job_problems(
    job: Mapping[str, Any], registration: Any, metrics_path: str
) -> list[str]:
    problems = []
    [sd] = job["consul_sd_configs"]
    if "onex" not in sd.get("tags", []):
        problems.append("consul_sd_configs does not select the tag onex")
    for tag in sd.get("tags", []):
        if tag not in registration.tags:
            problems.append(f"tag {tag!r} is not one the node registers")
    if not sd.get("server"):
        problems.append("consul_sd_configs names no server")
    auth = sd.get("authorization", {})
    if "token" not in sd and not set(auth) & {"credentials", "credentials_file"}:
        problems.append("no Consul token (token, or authorization credentials)")
    rules = job.get("relabel_configs", [])
    for rule in rules:
        for source in rule.get("source_labels", []):
            key = source.removeprefix(META_LABEL)
            if source.startswith(META_LABEL) and key not in registration.meta:
                problems.append(f"meta key {key!r} is not one the node registers")
    target = relabelled(rules, discovered_labels(registration))
    if target is None:
        return [*problems, "the node's target is dropped"]
    wanted = {
        "__address__": f"{registration.address}:{registration.port}",
        "__metrics_path__": metrics_path,
        "service": registration.service_name,
        "node_type": registration.meta["node_type"],
    }
    for label, value in wanted.items():
        if target.get(label) != value:
            problems.append(f"{label} is {target.get(label)!r}, not {value!r}")
    return problems


@pytest.fixture(scope="module")
def registration(package_under_test: RenderedPackage) -> Any:
    """What the render registers, with a metrics path moved off the default."""
    import_in_this_process(package_under_test)
    name = package_under_test.package_name
    registration_module = importlib.import_module(
        f"{name}.managed.registration.model_instance_registration"
    )
    contract = importlib.import_module(f"{name}.managed.settings.node_contract")
    [node_dir] = [
        path.name
        for path in (package_under_test.root / "src" / name / "nodes").iterdir()
        if (path / "node.py").is_file()
    ]
    node_module = importlib.import_module(f"{name}.nodes.{node_dir}.node")
    managed = importlib.import_module(f"{name}.managed.lifecycle.mixin_managed_node")
    [node_class] = [
        value
        for value in vars(node_module).values()
        if isinstance(value, type)
        and issubclass(value, managed.MixinManagedNode)
        and value is not managed.MixinManagedNode
    ]
    settings = contract.settings_for(
        node_class,
        {
            "ONEX_NODE_ADVERTISE_ADDRESS": "10.1.2.3",
            "ONEX_NODE_METRICS_PATH": "/internal/metrics",
        },
    )
    return registration_module.ModelInstanceRegistration.for_node(settings, SERVICE_ID)


def test_the_documented_job_scrapes_what_the_node_registers(
    package_under_test: RenderedPackage, registration: Any
) -> None:
    page = (package_under_test.root / "docs" / "operations.md").read_text("utf-8")

    job = scrape_job(page)

    assert job_problems(job, registration, "/internal/metrics") == []


def test_the_job_checks_can_fail(registration: Any) -> None:
    wrong_path = {
        "source_labels": [META_LABEL + "prometheus_path"],
        "target_label": "__metrics_path__",
    }
    keep_none = {
        "source_labels": ["__meta_consul_tags"],
        "regex": ".*,nope,.*",
        "action": "keep",
    }
    broken = {
        "consul_sd_configs": [{"tags": ["onex-nodes"]}],
        "relabel_configs": [wrong_path, keep_none],
    }

    problems = job_problems(broken, registration, "/internal/metrics")

    assert_flagged(
        problems,
        "does not select the tag onex",
        "tag 'onex-nodes' is not one the node registers",
        "names no server",
        "no Consul token",
        "meta key 'prometheus_path' is not one the node registers",
        "the node's target is dropped",
    )
    kept = {**broken, "relabel_configs": [wrong_path]}
    assert_flagged(
        job_problems(kept, registration, "/internal/metrics"),
        "__address__ is '10.9.9.9:",
        "__metrics_path__ is '',",
        "service is None",
    )
