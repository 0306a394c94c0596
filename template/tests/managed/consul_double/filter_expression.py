# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""`?filter=`: the subset of go-bexpr the double evaluates on JSON answers."""

from __future__ import annotations

import json
import re
from collections.abc import (
    Callable,
    Iterator,
)
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from tests.managed.consul_double.http_plumbing import HttpError

#
# Supported: Selector == / != value, Selector is [not] empty, value [not] in
# Selector, Selector [not] contains value, Selector [not] matches "regex",
# and / or / not, parentheses. Values: "quoted", `raw`, or bare words/numbers.
# A selector walks the JSON keys ("Service.Meta.domain"); through a list it
# matches when any element does ("Checks.Status == critical").

_FILTER_TOKEN: Final = re.compile(
    r'\s*(?:(?P<op>==|!=|\(|\))|"(?P<dq>(?:[^"\\]|\\.)*)"|`(?P<bq>[^`]*)`'
    r'|(?P<word>[^\s()"`=!]+))'
)

Predicate = Callable[[Any], bool]


class _FilterError(Exception):
    """An expression outside the supported subset, or malformed."""


@dataclass(frozen=True)
class _Token:
    text: str
    literal: bool  # quoted: never a keyword


def _filter_tokens(expression: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(expression.rstrip()):
        match = _FILTER_TOKEN.match(expression, pos)
        if match is None:
            raise _FilterError(f"unexpected input at offset {pos}")
        pos = match.end()
        quoted = match.group("dq")
        if quoted is not None:
            tokens.append(_Token(json.loads(f'"{quoted}"'), True))
        elif match.group("bq") is not None:
            tokens.append(_Token(match.group("bq"), True))
        else:
            tokens.append(_Token(match.group("op") or match.group("word"), False))
    return tokens


def _select(value: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [value]
    if isinstance(value, list):
        return [found for item in value for found in _select(item, parts)]
    if isinstance(value, dict) and parts[0] in value:
        return _select(value[parts[0]], parts[1:])
    return []


def _coerce(literal: str, like: Any) -> Any:
    """bexpr converts the literal to the selected field's type."""
    if isinstance(like, bool):
        return literal.lower() == "true"
    for kind in (int, float):
        if isinstance(like, kind):
            try:
                return kind(literal)
            except ValueError:
                return None
    return literal


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _holds(container: Any, literal: str) -> bool:
    if isinstance(container, str | list | dict):
        return literal in container
    return False


class _FilterParser:
    """Recursive descent over the tokens; builds a predicate on a JSON value."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise _FilterError(f"unexpected {self.tokens[self.pos].text!r}")
        return predicate

    def _peek(self, offset: int = 0) -> str | None:
        at = self.pos + offset
        if at >= len(self.tokens) or self.tokens[at].literal:
            return None
        return self.tokens[at].text

    def _take(self) -> _Token:
        if self.pos >= len(self.tokens):
            raise _FilterError("unexpected end of expression")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _expect(self, word: str) -> None:
        token = self._take()
        if token.literal or token.text != word:
            raise _FilterError(f"expected {word!r}, got {token.text!r}")

    def _or(self) -> Predicate:
        return self._joined("or", self._and, any)

    def _and(self) -> Predicate:
        return self._joined("and", self._unary, all)

    def _joined(
        self,
        word: str,
        operand: Callable[[], Predicate],
        combine: Callable[[Iterator[bool]], bool],
    ) -> Predicate:
        """``operand (word operand)*``, the operands' results combined."""
        parts = [operand()]
        while self._peek() == word:
            self.pos += 1
            parts.append(operand())
        return lambda v: combine(p(v) for p in parts)

    def _unary(self) -> Predicate:
        if self._peek() == "not":
            self.pos += 1
            inner = self._unary()
            return lambda v: not inner(v)
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            self._expect(")")
            return inner
        return self._match()

    def _match(self) -> Predicate:
        if self._peek(1) == "in" or (self._peek(1) == "not" and self._peek(2) == "in"):
            return self._membership()
        parts = self._take().text.split(".")
        negate = False
        operator = self._take().text
        if operator == "is":
            negate = self._peek() == "not"
            self.pos += 1 if negate else 0
            self._expect("empty")
            return _negated(
                negate, lambda v: all(_is_empty(x) for x in _select(v, parts))
            )
        if operator == "not":
            negate, operator = True, self._take().text
        literal = self._take().text
        return _negated(negate, _comparison(parts, operator, literal))

    def _membership(self) -> Predicate:
        literal = self._take().text
        negate = self._peek() == "not"
        self.pos += 2 if negate else 1
        parts = self._take().text.split(".")
        return _negated(
            negate, lambda v: any(_holds(x, literal) for x in _select(v, parts))
        )


def _negated(negate: bool, predicate: Predicate) -> Predicate:
    return (lambda v: not predicate(v)) if negate else predicate


def _comparison(parts: list[str], operator: str, literal: str) -> Predicate:
    def equal(v: Any) -> bool:
        return any(x == _coerce(literal, x) for x in _select(v, parts))

    if operator == "==":
        return equal
    if operator == "!=":
        return lambda v: not equal(v)
    if operator == "contains":
        return lambda v: any(_holds(x, literal) for x in _select(v, parts))
    if operator == "matches":
        try:
            pattern = re.compile(literal)
        except re.error as exc:
            raise _FilterError(f"invalid regular expression: {exc}") from None
        return lambda v: any(
            isinstance(x, str) and pattern.search(x) for x in _select(v, parts)
        )
    raise _FilterError(f"unsupported operator {operator!r}")


def _compile_filter(expression: str) -> Predicate:
    tokens = _filter_tokens(expression)
    if not tokens:
        return lambda v: True
    return _FilterParser(tokens).parse()


def request_filter(request: web.Request) -> Predicate:
    try:
        return _compile_filter(request.query.get("filter", ""))
    except _FilterError as exc:
        raise HttpError(
            400, f"Failed to create boolean expression evaluator: {exc}"
        ) from None
