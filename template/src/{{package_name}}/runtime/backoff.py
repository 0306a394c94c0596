# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Capped exponential backoff with jitter, so restarted fleets do not retry in step."""

import random


def backoff_delay(attempt: int, initial_s: float, cap_s: float) -> float:
    """Seconds to wait before retry number `attempt` (1-based).

    Half of the capped exponential step is fixed and half random ("equal
    jitter"): never a hot loop, never a herd.
    """
    step = min(cap_s, initial_s * 2.0 ** max(attempt - 1, 0))
    return step / 2 + random.uniform(0, step / 2)
