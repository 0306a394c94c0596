# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's rules for following X-Consul-Index in a blocking-query loop.

From Consul's blocking-query documentation: reset the index to 0 when it goes
backwards; never block on 0 (a Consul bug that turns clients into busy
loops); rate-limit answers that churn. Answers that come back early without
the index advancing are counted, so the loop can brake until it advances.
"""

from dataclasses import dataclass


@dataclass
class BlockingQueryIndex:
    """The index to send next, and how many early answers did not advance it."""

    index: int = 0
    idle_answers: int = 0

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
        if (new_index > sent > 0) or not early:
            self.idle_answers = 0
        elif new_index == 0 or sent > 0:
            self.idle_answers += 1
        return self.idle_answers
