"""The effect sample as a network caller meets it: the generated README's call.

The README of an effect package shows one `curl` of `POST /invoke` and its
answer; a node of the effect render, started as users start it, must answer
exactly that and write the record into its journal directory, and a journal
named like a path must write nothing anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.consul_agents import (
    health_url,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import (
    HttpResponse,
    free_port,
    http_request,
    stopped_at_exit,
    wait_for,
)
from scripts.rendering import RenderCache

START_TIMEOUT = 30.0
EXAMPLE = re.compile(
    r"curl -s -X POST http://127\.0\.0\.1:\d+(?P<path>/\S*) \\\n"
    r".*?-d '(?P<body>[^']+)'\n"
    r"# (?P<answer>[^\n]+)\n",
    re.DOTALL,
)


class EffectNode:
    """A running node of the effect render and its journal directory."""

    def __init__(self, port: int, journals: Path) -> None:
        self.port = port
        self.journals = journals

    def post(self, path: str, body: bytes) -> HttpResponse:
        response = http_request(
            f"http://127.0.0.1:{self.port}{path}",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=body,
        )
        assert response is not None, f"nobody answered POST {path}"
        return response


@pytest.fixture(scope="module")
def readme_example(renders: RenderCache) -> dict[str, Any]:
    readme = (renders.get("effect").root / "README.md").read_text(encoding="utf-8")
    match = EXAMPLE.search(readme)
    assert match, "the effect README shows no `curl` of POST /invoke"
    return match.groupdict()


@pytest.fixture(scope="module")
def effect_node(
    renders: RenderCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EffectNode]:
    package = renders.get("effect")
    workdir = tmp_path_factory.mktemp("effect-sample")
    journals = workdir / "journals"
    with stopped_at_exit(start_agent_double(package, workdir)) as agent_process:
        agent = wait_for_double(agent_process)
        port = free_port()
        env = node_env(
            package,
            consul_address=agent.address,
            node_port=port,
            extra={"JOURNAL_DIR": str(journals)},
        )
        with stopped_at_exit(start_node(package, env, workdir)) as node:

            def ready() -> bool:
                if not node.running():
                    raise AssertionError(f"the node exited\n{node.output_tail()}")
                response = http_request(health_url(package, port))
                return response is not None and response.status == 200

            wait_for(ready, timeout=START_TIMEOUT, what="the effect node ready")
            yield EffectNode(port, journals)


def test_readme_call_answers_as_the_readme_shows(
    readme_example: dict[str, Any], effect_node: EffectNode
) -> None:
    response = effect_node.post(readme_example["path"], readme_example["body"].encode())

    assert response.status == 200, response.body
    assert response.json() == json.loads(readme_example["answer"])
    request = json.loads(readme_example["body"])
    journal = effect_node.journals / f"{request['journal']}.jsonl"
    assert json.loads(journal.read_text(encoding="utf-8")) == request["record"]


@pytest.mark.parametrize("journal", ["../escaped", "/tmp/escaped", "a/escaped"])
def test_a_journal_named_like_a_path_writes_nothing(
    readme_example: dict[str, Any], effect_node: EffectNode, journal: str
) -> None:
    body = json.dumps({"journal": journal, "record": {"id": "1"}}).encode()
    before = sorted(effect_node.journals.parent.rglob("*"))

    response = effect_node.post(readme_example["path"], body)

    assert response.status == 422, response.body
    [field] = json.loads(response.body)["error"]["fields"]
    assert field["location"] == ["body", "journal"]
    assert sorted(effect_node.journals.parent.rglob("*")) == before
