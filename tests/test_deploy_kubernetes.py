"""Kubernetes manifests of every render (deploy/kubernetes/, two variants).

Per render: every manifest validates strictly against the official schemas
of one pinned Kubernetes version (kubernetes-validate, in this process), then
what the schemas cannot see, compared with what the render itself says: the
registration its `service-definition` command prints (tags, meta, check),
its settings (health path, check interval and timeout, drain and
deregistration bounds, read by the node's own code) and its Dockerfile's
USER. Each semantic check is a function returning problems, run once on a
deliberately broken sample so that a check that cannot fail is caught.

There is no cluster here: the manifests are validated, not applied.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from package_checks import assert_flagged
from test_deployment_files import (
    DOCKERFILE,
    HEADER,
    TEMPLATE_WORKFLOW,
    load_yaml,
    parse_dockerfile,
    stages,
    workflow_runs,
)

from scripts.rendering import RenderedPackage

# The schemas the manifests are held to: a recent release kubernetes-validate
# ships (it has up to 1.37); nothing in the manifests needs a newer one.
KUBERNETES_VERSION = "1.33"
KUBERNETES_DIR = "deploy/kubernetes"
# Each variant is a directory `kubectl apply -f` takes: its files and kinds.
VARIANTS: Mapping[str, Mapping[str, str]] = {
    "consul-k8s": {
        "deployment.yaml": "Deployment",
        "service.yaml": "Service",
        "service-account.yaml": "ServiceAccount",
    },
    "self-registration": {
        "deployment.yaml": "Deployment",
        "service.yaml": "Service",
    },
}
ANNOTATION = "consul.hashicorp.com/"
# A Service's name: RFC 1035 label (Kubernetes refuses a digit first).
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Variables that must come from a Secret, never a value in a manifest.
SECRET_VARIABLES = ("CONSUL_HTTP_TOKEN", "CONSUL_HTTP_AUTH")
# The name consul-k8s's tls-init puts in every server certificate.
SERVER_TLS_NAME = re.compile(r"^server\.[a-z0-9-]+\.[a-z0-9.-]+$")
# What an ACL token (a UUID) looks like, wherever it would be pasted.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The smallest margin the grace period must leave after preStop, the
# deregistration and the drain.
MIN_GRACE_MARGIN_S = 1

Manifests = Mapping[str, Mapping[str, Any]]  # "variant/file" -> document


# --- what the render says ---------------------------------------------------------


@dataclass(frozen=True)
class NodeFacts:
    """What a render's own code and Dockerfile say the manifests must carry."""

    service_name: str
    port: int
    tags: list[str]
    meta: dict[str, str]
    check_mode: str
    health_path: str
    interval_s: float
    timeout_s: float
    drain_timeout_s: float
    deregister_timeout_s: float
    uid: int
    gid: int
    # The node's settings under each variant's pod environment, or the
    # ConfigurationError that would stop it: {"error": ...}.
    pods: Mapping[str, Mapping[str, Any]]


# Run by the render's python: its settings as the node loads them, from the
# contract alone and from each pod environment (argv[3], JSON).
_SETTINGS_SCRIPT = """
import importlib, json, os, sys
from {package}.managed.errors import ConfigurationError
from {package}.managed.settings.node_contract import settings_for
node = importlib.import_module("{package}.nodes." + sys.argv[1] + ".node")
node_class = getattr(node, sys.argv[2])

def settings(environ):
    s = settings_for(node_class, environ)
    return {{
        "check_mode": s.check.mode.value,
        "health_path": s.health_path,
        "interval_s": s.check.interval_s,
        "timeout_s": s.check.timeout_s,
        "drain_timeout_s": s.drain_timeout,
        "deregister_timeout_s": s.consul.deregister_timeout,
        "registration": s.consul.registration.value,
        "consul": s.consul.scheme + "://" + s.consul.http_addr,
        "tls_server_name": s.consul.tls_server_name,
        "advertise_address": s.advertise_address,
    }}

def verdict(environ):
    try:
        return settings({{**os.environ, **environ}})
    except ConfigurationError as error:
        return {{"error": str(error)}}

pods = json.loads(sys.argv[3])
print(json.dumps({{
    "node": settings(os.environ),
    "pods": {{variant: verdict(environ) for variant, environ in pods.items()}},
}}))
"""
# What the downward API and the Secrets give a pod here.
POD_IP, HOST_IP, TEST_TOKEN = "10.1.0.5", "192.168.0.9", "test-token"
_FACTS: dict[Path, NodeFacts] = {}


def clean_environment(**overrides: str) -> dict[str, str | None]:
    """No ONEX_NODE_*/CONSUL_* of the outer environment, then `overrides`."""
    cleared: dict[str, str | None] = {
        key: None for key in os.environ if key.startswith(("ONEX_NODE_", "CONSUL_"))
    }
    return {**cleared, **overrides}


def run_json(package: RenderedPackage, args: Sequence[str]) -> Any:
    result = package.run(
        [package.python, *args],
        env=clean_environment(ONEX_NODE_ADVERTISE_ADDRESS=POD_IP),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def dockerfile_user(text: str) -> tuple[int, int]:
    """The final stage's USER uid:gid (numeric, as the Dockerfile sets it)."""
    users = [i.args for i in stages(parse_dockerfile(text))[-1] if i.keyword == "USER"]
    uid, _, gid = users[-1].partition(":")
    return int(uid), int(gid or uid)


def pod_environment(deployment: Mapping[str, Any], scratch: Path) -> dict[str, str]:
    """The node container's environment as the kubelet would give it here.

    Downward API fields and Secrets get stand-ins, `$(VAR)` expands to the
    variables defined before it (Kubernetes' rule), and a path under a volume
    mount (the CA certificate) points to a file under `scratch`.
    """
    fields = {"status.podIP": POD_IP, "status.hostIP": HOST_IP}
    container = node_container(deployment)
    mounts = [str(m["mountPath"]) for m in container.get("volumeMounts") or []]
    environ: dict[str, str] = {}
    for variable in container.get("env") or []:
        source = variable.get("valueFrom") or {}
        if "fieldRef" in source:
            value = fields[source["fieldRef"]["fieldPath"]]
        elif "secretKeyRef" in source:
            value = TEST_TOKEN
        else:
            value = re.sub(
                r"\$\((\w+)\)",
                lambda m: environ.get(m[1], m[0]),
                str(variable.get("value", "")),
            )
        if any(value.startswith(mount + "/") for mount in mounts):
            stand_in = scratch / value.lstrip("/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.write_text("stand-in\n", encoding="utf-8")
            value = str(stand_in)
        environ[str(variable["name"])] = value
    return environ


def node_facts(package: RenderedPackage, scratch: Path) -> NodeFacts:
    """The render's registration (`service-definition`) and settings, once."""
    if package.root not in _FACTS:
        manifests = load_manifests(package.root)
        pods = {
            variant: pod_environment(manifests[f"{variant}/deployment.yaml"], scratch)
            for variant in VARIANTS
            if f"{variant}/deployment.yaml" in manifests
        }
        (node_py,) = (package.root / "src" / package.package_name).glob(
            "nodes/*/node.py"
        )
        script = _SETTINGS_SCRIPT.format(package=package.package_name)
        class_name = str(package.answers["node_class_name"])
        with ThreadPoolExecutor(2) as pool:
            definition = pool.submit(
                run_json, package, ["-m", package.package_name, "service-definition"]
            )
            settings = pool.submit(
                run_json,
                package,
                ["-c", script, node_py.parent.name, class_name, json.dumps(pods)],
            )
        service = definition.result()["Service"]
        node = settings.result()
        dockerfile = (package.root / DOCKERFILE).read_text(encoding="utf-8")
        uid, gid = dockerfile_user(dockerfile)
        _FACTS[package.root] = NodeFacts(
            service_name=service["Name"],
            port=service["Port"],
            tags=service["Tags"],
            meta=service["Meta"],
            check_mode=node["node"]["check_mode"],
            health_path=node["node"]["health_path"],
            interval_s=node["node"]["interval_s"],
            timeout_s=node["node"]["timeout_s"],
            drain_timeout_s=node["node"]["drain_timeout_s"],
            deregister_timeout_s=node["node"]["deregister_timeout_s"],
            uid=uid,
            gid=gid,
            pods=node["pods"],
        )
    return _FACTS[package.root]


def load_manifests(root: Path) -> dict[str, Any]:
    """Every YAML document under deploy/kubernetes/, keyed "variant/file"
    ("variant/file#2" and on for a file's further documents)."""
    manifests: dict[str, Any] = {}
    for path in sorted((root / KUBERNETES_DIR).rglob("*")):
        if path.is_file():
            key = path.relative_to(root / KUBERNETES_DIR).as_posix()
            text = path.read_text(encoding="utf-8")
            for number, document in enumerate(yaml.safe_load_all(text), start=1):
                manifests[key if number == 1 else f"{key}#{number}"] = document
    return manifests


def manifest_texts(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root / KUBERNETES_DIR).as_posix(): path.read_text(
            encoding="utf-8"
        )
        for path in sorted((root / KUBERNETES_DIR).rglob("*"))
        if path.is_file()
    }


# --- the checks -------------------------------------------------------------------


def schema_problems(manifests: Manifests) -> list[str]:
    """Strict validation against the official schemas of KUBERNETES_VERSION."""
    problems = []
    for key, document in manifests.items():
        try:
            kubernetes_validate.validate(
                dict(document), KUBERNETES_VERSION, strict=True
            )
        except kubernetes_validate.ValidationError as error:
            where = "/".join(str(part) for part in error.path)
            problems.append(f"{key}: {where}: {error.message}")
        except (kubernetes_validate.SchemaNotFoundError, KeyError, TypeError) as error:
            problems.append(f"{key}: no schema to validate against ({error!r})")
    return problems


def layout_problems(texts: Mapping[str, str], manifests: Manifests) -> list[str]:
    """The files of each variant, their kinds, and the template's header."""
    wanted = {
        f"{v}/{name}": kind
        for v, files in VARIANTS.items()
        for name, kind in files.items()
    }
    problems = [f"{key}: missing" for key in wanted if key not in manifests]
    problems += [
        f"{key}: not a file of any variant" for key in manifests if key not in wanted
    ]
    for key, kind in wanted.items():
        document = manifests.get(key)
        if isinstance(document, Mapping) and document.get("kind") != kind:
            problems.append(f"{key}: kind {document.get('kind')!r}, not {kind}")
    for key, text in texts.items():
        if tuple(text.splitlines()[:2]) != HEADER:
            problems.append(f"{key}: does not start with the template's header")
    return problems


def pod_spec(deployment: Mapping[str, Any]) -> Mapping[str, Any]:
    spec: Mapping[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def node_container(deployment: Mapping[str, Any]) -> Mapping[str, Any]:
    container: Mapping[str, Any] = pod_spec(deployment)["containers"][0]
    return container


def environment(container: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(e["name"]): e for e in container.get("env") or []}


def service_problems(
    deployment: Mapping[str, Any], service: Mapping[str, Any], facts: NodeFacts
) -> list[str]:
    """Image, the named port `http` = the node's, a Service selecting the pods."""
    problems = []
    container = node_container(deployment)
    image = f"{facts.service_name}:{facts.meta['node_version']}"
    if container.get("image") != image:
        problems.append(f"image {container.get('image')!r} is not {image!r}")
    ports = [
        (p.get("name"), p.get("containerPort")) for p in container.get("ports") or []
    ]
    if ports != [("http", facts.port)]:
        problems.append(f"container ports {ports} are not [('http', {facts.port})]")
    name = str(service["metadata"]["name"])
    if not DNS_1035_LABEL.match(name):
        problems.append(f"Service name {name!r} is not a DNS-1035 label")
    pod_labels = deployment["spec"]["template"]["metadata"].get("labels") or {}
    selector = service["spec"].get("selector") or {}
    if not selector or any(pod_labels.get(k) != v for k, v in selector.items()):
        problems.append(f"the Service's selector {selector} does not select the pods")
    matched = deployment["spec"]["selector"].get("matchLabels") or {}
    if any(pod_labels.get(k) != v for k, v in matched.items()):
        problems.append("the Deployment's selector does not match its pod labels")
    if pod_labels.get("app.kubernetes.io/name") != facts.service_name:
        problems.append("the pods' app.kubernetes.io/name is not the service name")
    targets = [(p.get("port"), p.get("targetPort")) for p in service["spec"]["ports"]]
    if targets != [(facts.port, "http")]:
        problems.append(f"Service ports {targets} are not [({facts.port}, 'http')]")
    return problems


def probe_problems(deployment: Mapping[str, Any], facts: NodeFacts) -> list[str]:
    """The readiness probe is the Consul check: path, port, period, timeout."""
    container = node_container(deployment)
    probe = container.get("readinessProbe") or {}
    http_get = probe.get("httpGet") or {}
    problems = []
    if http_get.get("path") != facts.health_path:
        problems.append(
            f"readiness path {http_get.get('path')!r} is not {facts.health_path!r}"
        )
    if http_get.get("port") not in ("http", facts.port):
        problems.append(f"readiness port {http_get.get('port')!r} is not the node's")
    for field, seconds in (
        ("periodSeconds", facts.interval_s),
        ("timeoutSeconds", facts.timeout_s),
    ):
        wanted = max(1, math.ceil(seconds))
        if probe.get(field) != wanted:
            problems.append(f"readiness {field} {probe.get(field)!r} is not {wanted}")
    if probe.get("failureThreshold") != 1:
        problems.append(
            "readiness failureThreshold is not 1 (one failed check is critical)"
        )
    if "livenessProbe" in container:
        problems.append("a liveness probe: the node answers 503 while it drains")
    return problems


def shutdown_problems(deployment: Mapping[str, Any], facts: NodeFacts) -> list[str]:
    """preStop sleep, then deregister and drain, all within the grace period."""
    container = node_container(deployment)
    command = ((container.get("lifecycle") or {}).get("preStop") or {}).get(
        "exec", {}
    ).get("command") or []
    if len(command) != 2 or command[0] != "sleep" or not str(command[1]).isdigit():
        return [f"preStop is not an exec `sleep <seconds>`: {command}"]
    pre_stop = int(command[1])
    problems = []
    if pre_stop < 1:
        problems.append("preStop sleeps 0 s: endpoints still route to a stopping pod")
    grace = pod_spec(deployment).get("terminationGracePeriodSeconds", 30)
    needed = (
        pre_stop
        + facts.deregister_timeout_s
        + facts.drain_timeout_s
        + MIN_GRACE_MARGIN_S
    )
    if grace < needed:
        problems.append(
            f"terminationGracePeriodSeconds {grace} < preStop {pre_stop}"
            f" + deregistration {facts.deregister_timeout_s:g}"
            f" + drain {facts.drain_timeout_s:g}"
            f" + margin {MIN_GRACE_MARGIN_S}"
        )
    return problems


def security_problems(deployment: Mapping[str, Any], facts: NodeFacts) -> list[str]:
    """The Dockerfile's USER, non-root, nothing to escalate, a read-only root."""
    context = node_container(deployment).get("securityContext") or {}
    pod_context = pod_spec(deployment).get("securityContext") or {}
    wanted: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": facts.uid,
        "runAsGroup": facts.gid,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
    }
    problems = [
        f"securityContext.{key} is {context.get(key)!r}, not {value!r}"
        for key, value in wanted.items()
        if context.get(key, pod_context.get(key)) != value
    ]
    if (context.get("capabilities") or {}).get("drop") != ["ALL"]:
        problems.append("capabilities are not dropped (drop: [ALL])")
    seccomp = context.get("seccompProfile") or pod_context.get("seccompProfile") or {}
    if seccomp.get("type") != "RuntimeDefault":
        problems.append("no RuntimeDefault seccomp profile")
    mounts = {
        m.get("mountPath") for m in node_container(deployment).get("volumeMounts") or []
    }
    if "/tmp" not in mounts:
        problems.append("no writable /tmp under a read-only root")
    return problems


def annotation_problems(deployment: Mapping[str, Any], facts: NodeFacts) -> list[str]:
    """consul-k8s's annotations carry the node's registration, node_id aside."""
    annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    wanted = {
        f"{ANNOTATION}connect-inject": "true",
        f"{ANNOTATION}connect-service": facts.service_name,
        f"{ANNOTATION}connect-service-port": "http",
        f"{ANNOTATION}transparent-proxy": "false",
        f"{ANNOTATION}service-tags": ",".join(facts.tags),
        **{f"{ANNOTATION}service-meta-{k}": v for k, v in facts.meta.items()},
    }
    problems = [
        f"annotation {key} is {annotations.get(key)!r}, not {value!r}"
        for key, value in wanted.items()
        if annotations.get(key) != value
    ]
    problems += [
        f"annotation {key} is not the node's registration"
        for key in annotations
        if key.startswith(f"{ANNOTATION}service-meta-") and key not in wanted
    ]
    account = pod_spec(deployment).get("serviceAccountName")
    if account != facts.service_name:
        problems.append(f"serviceAccountName {account!r} is not {facts.service_name!r}")
    return problems


def field_ref(variable: Mapping[str, Any] | None) -> str | None:
    if variable is None:
        return None
    path: str | None = ((variable.get("valueFrom") or {}).get("fieldRef") or {}).get(
        "fieldPath"
    )
    return path


def environment_problems(deployment: Mapping[str, Any], variant: str) -> list[str]:
    """The downward API and the Secret behind the node's environment."""
    env = environment(node_container(deployment))
    problems = []
    if field_ref(env.get("ONEX_NODE_ADVERTISE_ADDRESS")) != "status.podIP":
        problems.append(
            "ONEX_NODE_ADVERTISE_ADDRESS is not the pod's IP (status.podIP)"
        )
    token = (env.get("CONSUL_HTTP_TOKEN") or {}).get("valueFrom") or {}
    if "secretKeyRef" not in token:
        problems.append("CONSUL_HTTP_TOKEN does not come from a Secret (secretKeyRef)")
    if variant == "self-registration":
        if field_ref(env.get("HOST_IP")) != "status.hostIP":
            problems.append("HOST_IP is not the node's host (status.hostIP)")
        names = list(env)
        if "HOST_IP" in names and names.index("HOST_IP") > names.index(
            "CONSUL_HTTP_ADDR"
        ):
            problems.append(
                "HOST_IP comes after CONSUL_HTTP_ADDR: $(HOST_IP) stays literal"
            )
    return problems


def settings_problems(facts: NodeFacts, variant: str) -> list[str]:
    """What the node's own settings loader makes of the variant's pod environment."""
    pod = facts.pods.get(variant) or {"error": "no pod environment"}
    if "error" in pod:
        return [f"the node would not start: {pod['error']}"]
    problems = []
    if pod["advertise_address"] != POD_IP:
        problems.append(
            f"the node advertises {pod['advertise_address']}, not the pod IP"
        )
    if variant == "consul-k8s":
        if pod["registration"] != "external":
            problems.append(
                f"consul-k8s registers the pod, but the node is {pod['registration']}"
            )
        if not pod["consul"].startswith("https://"):
            problems.append(f"Consul at {pod['consul']}: not the servers over TLS")
        # consul-k8s's server certificate: server.<datacenter>.<domain>, and
        # wildcards under consul-server.<namespace>.svc, not that name itself.
        if not SERVER_TLS_NAME.match(str(pod.get("tls_server_name"))):
            problems.append(
                f"TLS server name {pod.get('tls_server_name')!r} is not the one"
                " in the servers' certificate (server.<datacenter>.<domain>)"
            )
        return problems
    if pod["registration"] != "self":
        problems.append(f"the node registers {pod['registration']}, not self")
    if pod["consul"] != f"http://{HOST_IP}:8500":
        problems.append(f"Consul at {pod['consul']}, not the host's agent")
    if pod["check_mode"] != facts.check_mode:
        problems.append(
            f"check mode {pod['check_mode']}, not the answered {facts.check_mode}"
        )
    return problems


def secret_problems(texts: Mapping[str, str], manifests: Manifests) -> list[str]:
    """No secret value in any manifest: tokens come from Secrets only."""
    problems = [
        f"{key}: a kind Secret (its data would live in the repository)"
        for key, document in manifests.items()
        if isinstance(document, Mapping) and document.get("kind") == "Secret"
    ]
    for key, document in manifests.items():
        if not isinstance(document, Mapping) or document.get("kind") != "Deployment":
            continue
        env = environment(node_container(document))
        problems += [
            f"{key}: {name} has a literal value"
            for name in SECRET_VARIABLES
            if name in env and "value" in env[name]
        ]
    problems += [
        f"{key}: holds what looks like a token"
        for key, text in texts.items()
        if UUID.search(text)
    ]
    return problems


def render_problems(package: RenderedPackage, scratch: Path) -> list[str]:
    """Every check above, on one render."""
    facts = node_facts(package, scratch)
    manifests = load_manifests(package.root)
    texts = manifest_texts(package.root)
    problems = layout_problems(texts, manifests) + secret_problems(texts, manifests)
    for variant in VARIANTS:
        deployment = manifests.get(f"{variant}/deployment.yaml")
        service = manifests.get(f"{variant}/service.yaml")
        if deployment is None or service is None:
            continue  # layout_problems names it
        found = service_problems(deployment, service, facts)
        found += probe_problems(deployment, facts)
        found += shutdown_problems(deployment, facts)
        found += security_problems(deployment, facts)
        found += environment_problems(deployment, variant)
        found += settings_problems(facts, variant)
        if variant == "consul-k8s":
            found += annotation_problems(deployment, facts)
            account = manifests.get(f"{variant}/service-account.yaml") or {}
            if (account.get("metadata") or {}).get("name") != facts.service_name:
                found.append("the ServiceAccount is not named as the Consul service")
        problems += [f"{variant}: {problem}" for problem in found]
    return problems


# --- per render -------------------------------------------------------------------


def test_kubernetes_manifests_match_the_official_schemas(
    package: RenderedPackage,
) -> None:
    manifests = load_manifests(package.root)
    assert sorted(manifests) == sorted(
        f"{variant}/{name}" for variant, files in VARIANTS.items() for name in files
    )
    assert schema_problems(manifests) == []


def test_kubernetes_manifests_carry_the_node_registration(
    package: RenderedPackage, tmp_path: Path
) -> None:
    assert render_problems(package, tmp_path) == []


def test_template_workflow_runs_these_checks_per_answer_set() -> None:
    jobs = load_yaml(TEMPLATE_WORKFLOW)["jobs"]
    per_case = [
        workflow_runs(job)
        for job in jobs.values()
        if "case" in ((job.get("strategy") or {}).get("matrix") or {})
    ]
    assert per_case and all("tests/test_deploy_kubernetes.py" in r for r in per_case)


# --- the checks can fail ----------------------------------------------------------

FACTS = NodeFacts(
    service_name="demo-node",
    port=8080,
    tags=["onex", "compute", "default"],
    meta={"node_type": "compute", "node_version": "1.0.0", "idempotent": "true"},
    check_mode="ttl",
    health_path="/health",
    interval_s=10.0,
    timeout_s=2.5,
    drain_timeout_s=5.0,
    deregister_timeout_s=3.0,
    uid=10001,
    gid=10001,
    pods={},
)

BAD_DEPLOYMENT = yaml.safe_load(
    textwrap.dedent(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: demo-node}
        spec:
          selector: {matchLabels: {app.kubernetes.io/name: other}}
          template:
            metadata:
              labels: {app.kubernetes.io/name: demo}
              annotations:
                consul.hashicorp.com/connect-inject: "true"
                consul.hashicorp.com/service-tags: "onex,compute"
                consul.hashicorp.com/service-meta-node_type: "compute"
                consul.hashicorp.com/service-meta-node_id: "fixed"
            spec:
              terminationGracePeriodSeconds: 10
              containers:
                - name: node
                  image: demo-node:latest
                  ports: [{name: web, containerPort: 9090}]
                  env:
                    - {name: CONSUL_HTTP_TOKEN, value: "hunter2"}
                    - {name: CONSUL_HTTP_ADDR, value: "$(HOST_IP):8500"}
                    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    - {name: ONEX_NODE_CONSUL_REGISTRATION, value: "external"}
                  readinessProbe:
                    httpGet: {path: /healthz, port: 9090}
                    periodSeconds: 5
                    timeoutSeconds: 2
                  livenessProbe:
                    httpGet: {path: /health, port: http}
                  lifecycle:
                    preStop: {exec: {command: ["sleep", "5"]}}
                  securityContext:
                    runAsUser: 0
                    readOnlyRootFilesystem: false
        """
    )
)
BAD_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "3d-demo"},
    "spec": {"selector": {"app": "demo"}, "ports": [{"port": 80, "targetPort": 9090}]},
}


def test_schema_check_flags_invalid_manifests() -> None:
    bad_port = {**BAD_SERVICE, "spec": {"ports": [{"port": "eighty"}], "clusterIPs": 1}}
    typo = {**BAD_SERVICE, "spec": {"selectr": {"app": "demo"}}}
    problems = schema_problems(
        {
            "a/service.yaml": bad_port,
            "a/typo.yaml": typo,  # strict: an unknown field is an error
            "a/unknown.yaml": {"apiVersion": "v9", "kind": "Nothing"},
        }
    )
    assert_flagged(
        problems,
        "a/service.yaml",
        "a/typo.yaml: spec: Additional",
        "a/unknown.yaml: no schema",
    )
    assert (
        schema_problems({"a/service.yaml": {**BAD_SERVICE, "metadata": {"name": "x"}}})
        == []
    )


def test_layout_check_flags_missing_files_and_headers() -> None:
    texts = {"consul-k8s/deployment.yaml": "apiVersion: apps/v1\n"}
    manifests = {
        "consul-k8s/deployment.yaml": {"kind": "Service"},
        "extra/job.yaml": {"kind": "Job"},
    }
    assert_flagged(
        layout_problems(texts, manifests),
        "consul-k8s/service-account.yaml: missing",
        "self-registration/deployment.yaml: missing",
        "extra/job.yaml: not a file",
        "kind 'Service', not Deployment",
        "consul-k8s/deployment.yaml: does not start with the template's header",
    )


def test_service_check_flags_a_bad_deployment() -> None:
    assert_flagged(
        service_problems(BAD_DEPLOYMENT, BAD_SERVICE, FACTS),
        "image 'demo-node:latest'",
        "container ports [('web', 9090)]",
        "'3d-demo' is not a DNS-1035 label",
        "does not select the pods",
        "Deployment's selector",
        "app.kubernetes.io/name is not the service name",
        "Service ports [(80, 9090)]",
    )


def test_probe_check_flags_a_bad_deployment() -> None:
    assert_flagged(
        probe_problems(BAD_DEPLOYMENT, FACTS),
        "readiness path '/healthz'",
        "readiness port 9090",
        "periodSeconds 5 is not 10",
        "timeoutSeconds 2 is not 3",  # 2.5 s rounded up
        "failureThreshold",
        "a liveness probe",
    )


def test_shutdown_check_flags_a_short_grace_period() -> None:
    assert_flagged(
        shutdown_problems(BAD_DEPLOYMENT, FACTS),
        "terminationGracePeriodSeconds 10 < preStop 5 + deregistration 3 + drain 5",
    )
    no_sleep = yaml.safe_load(yaml.safe_dump(BAD_DEPLOYMENT))
    container = no_sleep["spec"]["template"]["spec"]["containers"][0]
    container["lifecycle"] = {"preStop": {"sleep": {"seconds": 5}}}
    assert_flagged(shutdown_problems(no_sleep, FACTS), "not an exec `sleep <seconds>`")
    container["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "0"]}}}
    assert_flagged(shutdown_problems(no_sleep, FACTS), "preStop sleeps 0 s")


def test_security_check_flags_a_root_container() -> None:
    assert_flagged(
        security_problems(BAD_DEPLOYMENT, FACTS),
        "runAsNonRoot is None",
        "runAsUser is 0, not 10001",
        "runAsGroup is None, not 10001",
        "allowPrivilegeEscalation",
        "readOnlyRootFilesystem is False",
        "capabilities are not dropped",
        "seccomp",
        "no writable /tmp",
    )


def test_dockerfile_user_is_the_final_stages() -> None:
    text = "FROM a AS b\nUSER 1:2\nFROM c\nUSER 10001:10002\n"
    assert dockerfile_user(text) == (10001, 10002)
    assert dockerfile_user("FROM c\nUSER 42\n") == (42, 42)


def test_annotation_check_flags_missing_and_foreign_annotations() -> None:
    assert_flagged(
        annotation_problems(BAD_DEPLOYMENT, FACTS),
        "connect-service is None, not 'demo-node'",
        "connect-service-port is None",
        "transparent-proxy is None, not 'false'",
        "service-tags is 'onex,compute', not 'onex,compute,default'",
        "service-meta-node_version is None, not '1.0.0'",
        "service-meta-idempotent is None",
        "service-meta-node_id is not the node's registration",
        "serviceAccountName None",
    )


def test_environment_check_flags_bad_wiring() -> None:
    assert_flagged(
        environment_problems(BAD_DEPLOYMENT, "consul-k8s"),
        "ONEX_NODE_ADVERTISE_ADDRESS is not the pod's IP",
        "CONSUL_HTTP_TOKEN does not come from a Secret",
    )
    assert_flagged(
        environment_problems(BAD_DEPLOYMENT, "self-registration"),
        "HOST_IP is not the node's host",
        "HOST_IP comes after CONSUL_HTTP_ADDR",
    )


def test_pod_environment_follows_the_kubelet(tmp_path: Path) -> None:
    environ = pod_environment(BAD_DEPLOYMENT, tmp_path)
    assert environ["CONSUL_HTTP_ADDR"] == "$(HOST_IP):8500"  # defined after it
    assert environ["HOST_IP"] == POD_IP
    good = yaml.safe_load(yaml.safe_dump(BAD_DEPLOYMENT))
    container = good["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [
        {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "CONSUL_HTTP_ADDR", "value": "$(HOST_IP):8500"},
        {"name": "CONSUL_CACERT", "value": "/consul/ca/tls.crt"},
    ]
    container["volumeMounts"] = [{"name": "ca", "mountPath": "/consul/ca"}]
    environ = pod_environment(good, tmp_path)
    assert environ["CONSUL_HTTP_ADDR"] == f"{HOST_IP}:8500"
    assert Path(environ["CONSUL_CACERT"]).is_file()
    assert Path(environ["CONSUL_CACERT"]).is_relative_to(tmp_path)


def test_settings_check_flags_what_the_node_makes_of_a_pod() -> None:
    ran = {
        "registration": "self",
        "consul": "http://127.0.0.1:8500",
        "check_mode": "http",
        "advertise_address": "127.0.0.1",
    }
    facts = replace(
        FACTS,
        pods={
            "consul-k8s": ran,
            "self-registration": {"error": "ONEX_NODE_CHECK_MODE: ttl refused"},
        },
    )
    assert_flagged(
        settings_problems(facts, "consul-k8s"),
        "the node advertises 127.0.0.1, not the pod IP",
        "consul-k8s registers the pod, but the node is self",
        "not the servers over TLS",
        "TLS server name None",
    )
    assert_flagged(
        settings_problems(facts, "self-registration"),
        "the node would not start: ONEX_NODE_CHECK_MODE: ttl refused",
    )
    facts = replace(
        facts, pods={"self-registration": {**ran, "registration": "external"}}
    )
    assert_flagged(
        settings_problems(facts, "self-registration"),
        "registers external, not self",
        "not the host's agent",
        "check mode http, not the answered ttl",
    )


def test_secret_check_flags_literal_tokens() -> None:
    texts = {"a/deployment.yaml": "token: 6f1c2a5e-8d3b-4c7a-9e0f-1a2b3c4d5e6f\n"}
    manifests = {
        "a/deployment.yaml": BAD_DEPLOYMENT,
        "a/secret.yaml": {"kind": "Secret", "stringData": {"token": "x"}},
    }
    assert_flagged(
        secret_problems(texts, manifests),
        "a/secret.yaml: a kind Secret",
        "CONSUL_HTTP_TOKEN has a literal value",
        "holds what looks like a token",
    )
