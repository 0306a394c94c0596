# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What a Consul answer must look like before the node believes it.

A 200 is Consul's only if it carries what Consul sends: an empty body for
writes, `application/json` in UTF-8 with the documented shape for reads.
Anything else (a proxy's page, a wrong address, a truncated answer) raises
ConsulAnswerError naming the endpoint and what was wrong, which the loops
treat as transient. The shapes list only the fields the node uses, and a
health answer (20,000 instances are 15 MB) is decoded one entry at a time,
so Consul's whole JSON (node meta, checks) never sits in memory at once.
"""

import json
import re
from collections.abc import Iterator
from typing import Any, NotRequired, TypedDict

from pydantic import TypeAdapter, ValidationError

from ..errors import ConsulAnswerError
from .consul_agent_connection import ConsulAnswer

_INDEX = re.compile(r"[0-9]{1,19}")
# A few field errors say what is wrong; a wrong-shaped 20,000-entry list
# would otherwise make a message as long as the answer.
_ERRORS_SHOWN = 3


class AgentInstanceFields(TypedDict):
    """A service instance as Consul describes it: the fields the node reads."""

    ID: str
    Service: str
    Address: str
    Port: int
    Tags: NotRequired[list[str] | None]
    Meta: NotRequired[dict[str, str] | None]


class WatchedInstanceFields(AgentInstanceFields):
    """GET /v1/agent/service/<id>: the instance and the hash to block on."""

    ContentHash: str


class ConsulWeights(TypedDict):
    Passing: int


class HealthInstanceFields(AgentInstanceFields):
    Weights: NotRequired[ConsulWeights | None]


class HealthNodeFields(TypedDict):
    Address: str


class HealthEntryFields(TypedDict):
    Node: HealthNodeFields
    Service: HealthInstanceFields


class AgentCheckFields(TypedDict):
    Name: str
    Status: str
    ServiceID: str
    Output: NotRequired[str]


# One entry of GET /v1/health/service/<name>; GET /v1/agent/service/<id>
# (with its ContentHash when it is watched),
# /v1/agent/checks, /v1/catalog/services.
HEALTH_ENTRY: TypeAdapter[HealthEntryFields] = TypeAdapter(HealthEntryFields)
AGENT_SERVICE: TypeAdapter[AgentInstanceFields] = TypeAdapter(AgentInstanceFields)
WATCHED_SERVICE: TypeAdapter[WatchedInstanceFields] = TypeAdapter(WatchedInstanceFields)
AGENT_CHECKS: TypeAdapter[dict[str, AgentCheckFields]] = TypeAdapter(
    dict[str, AgentCheckFields]
)
CATALOG_SERVICES: TypeAdapter[dict[str, list[str] | None]] = TypeAdapter(
    dict[str, list[str] | None]
)


def expect_empty(answer: ConsulAnswer) -> None:
    """Consul's writes (register, deregister, TTL updates) answer 200 with
    nothing: a body means someone else answered."""
    if answer.body.strip():
        raise ConsulAnswerError(
            answer.operation,
            answer.endpoint,
            f"status 200 with a {len(answer.body)}-byte body where Consul "
            f"sends none (content type {answer.content_type or 'none'!r})",
        )


def expect_json[T](answer: ConsulAnswer, shape: TypeAdapter[T]) -> T:
    """The body as `shape`, if it is Consul's JSON: content type, UTF-8, shape."""
    try:
        return shape.validate_json(_json_text(answer), strict=True)
    except ValidationError as error:
        raise _not_consul(answer, _shape_problem(error)) from None


def health_entries(answer: ConsulAnswer) -> Iterator[HealthEntryFields]:
    """The entries of a /v1/health/service answer, checked one at a time.

    json.loads would build Python objects for the whole answer (about five
    times its size) before the first one is checked; decoding entry by entry
    keeps only the fields the node uses of each.
    """
    text = _json_text(answer)
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise _not_consul(answer, "the body: not a JSON list")
    position = _skip_space(text, position + 1)
    number = 0
    while not text.startswith("]", position):
        if number > 0:
            if not text.startswith(",", position):
                raise _not_consul(
                    answer, f"the body: bad JSON after entry {number - 1}"
                )
            position = _skip_space(text, position + 1)
        try:
            entry, position = decoder.raw_decode(text, position)
            yield HEALTH_ENTRY.validate_python(entry, strict=True)
        except json.JSONDecodeError as error:
            raise _not_consul(answer, f"the body: bad JSON ({error})") from None
        except ValidationError as error:
            raise _not_consul(answer, _shape_problem(error, number)) from None
        position = _skip_space(text, position)
        number += 1
    if _skip_space(text, position + 1) != len(text):
        raise _not_consul(answer, "the body: data after the JSON list")


def _json_text(answer: ConsulAnswer) -> str:
    media_type = answer.content_type.partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise _not_consul(
            answer, f"content type {answer.content_type or 'none'!r}, not JSON"
        )
    try:
        return answer.body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_consul(
            answer,
            f"the body is not UTF-8 (byte 0x{answer.body[error.start]:02x} "
            f"at offset {error.start})",
        ) from None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def blocking_index(answer: ConsulAnswer) -> int:
    """X-Consul-Index as a positive integer; 0 when missing, 0 or not a number.

    Consul's blocking-query rules: 0 is never a valid index (a Consul bug
    that causes busy loops), so the caller must not block on it.
    """
    raw = (answer.index or "").strip()
    return int(raw) if _INDEX.fullmatch(raw) else 0


def _shape_problem(error: ValidationError, entry: int | None = None) -> str:
    """Where and what, never the offending value (it may be anything)."""
    prefix = () if entry is None else (entry,)
    problems = [
        f"{'.'.join(map(str, (*prefix, *detail['loc']))) or 'the body'}: "
        f"{detail['msg']}"
        for detail in error.errors(include_url=False, include_input=False)
    ]
    shown = "; ".join(problems[:_ERRORS_SHOWN])
    more = len(problems) - _ERRORS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def _not_consul(answer: ConsulAnswer, problem: str) -> ConsulAnswerError:
    return ConsulAnswerError(answer.operation, answer.endpoint, problem)


def as_record(service: AgentInstanceFields) -> dict[str, Any]:
    """A ProtocolServiceDiscovery record of an agent service."""
    return {
        "id": service["ID"],
        "name": service["Service"],
        "address": service["Address"],
        "port": service["Port"],
        "tags": list(service.get("Tags") or []),
        "metadata": dict(service.get("Meta") or {}),
    }
