# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's rules for a blocking-query loop: following X-Consul-Index or a ContentHash.

From Consul's blocking-query documentation: reset the index to 0 when it goes
backwards; never block on 0 (a Consul bug that turns clients into busy
loops); rate-limit answers that churn. Answers that come back early without
the index (or hash) changing are counted, so the loop can brake until it
does. The discovery watches follow indexes, the registration watch a hash;
both pace themselves with `pause_after`.
"""

from dataclasses import dataclass

from .backoff import backoff_delay

# Consul's advice for blocking loops: never hammer the agent, even when every
# answer comes back at once.
MIN_INTERVAL_S = 0.05


def answered_early(elapsed_s: float, wait_s: float) -> bool:
    """True when an answer came back well before the query's wait ran out."""
    return elapsed_s < wait_s / 2


def pause_after(idle_answers: int, retry: tuple[float, float]) -> float:
    """The pause before the next query: the minimum interval, or a growing
    brake (the retry backoff) while answers come back early with nothing new."""
    if idle_answers == 0:
        return MIN_INTERVAL_S
    return max(MIN_INTERVAL_S, backoff_delay(idle_answers, *retry))


@dataclass
class EarlyAnswers:
    """How many early answers in a row brought nothing new."""

    idle_answers: int = 0

    def _count(self, *, moved: bool, fresh: bool, early: bool) -> int:
        """Reset when the answer moved on or waited; a fresh read (nothing to
        compare to) neither moves nor idles."""
        if moved or not early:
            self.idle_answers = 0
        elif not fresh:
            self.idle_answers += 1
        return self.idle_answers


@dataclass
class BlockingQueryIndex(EarlyAnswers):
    """The index to send next, and how many early answers did not advance it."""

    index: int = 0

    def follow(self, new_index: int, early: bool) -> int:
        """Take Consul's answer index (0: missing or unusable); `early` is True
        when the answer came back well before the query's wait ran out.

        Returns the early answers in a row that did not advance the index: 0
        again once it advances past one sent, or an answer waited (a blocking
        query that timed out). The first answer to a query sent with 0 (a
        fresh read) neither advances nor idles: it has nothing to compare to.
        """
        sent = self.index
        # Backwards: read everything again. 0 stays 0, so nothing blocks on it.
        self.index = 0 if new_index < sent else new_index
        return self._count(
            moved=new_index > sent > 0,
            fresh=sent == 0 and new_index > 0,
            early=early,
        )


@dataclass
class BlockingQueryHash(EarlyAnswers):
    """The ContentHash to send next (hash blocking on local agent state, e.g.
    GET /v1/agent/service/<id>), and how many early answers kept it."""

    content_hash: str = ""

    def follow(self, new_hash: str, early: bool) -> int:
        """Take the answer's hash; the early answers in a row that kept it.
        A query sent without a hash (a fresh read) answers at once."""
        sent, self.content_hash = self.content_hash, new_hash
        return self._count(
            moved=bool(sent) and new_hash != sent, fresh=not sent, early=early
        )
