# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Capped exponential backoff with jitter, so restarted fleets do not retry in step."""

import math
import random


def backoff_delay(attempt: int, initial_s: float, cap_s: float) -> float:
    """Seconds to wait before retry number `attempt` (1-based), at most `cap_s`.

    Half of the capped exponential step is fixed and half random ("equal
    jitter"): never a hot loop, never a herd. The power of two is only
    computed below the cap: `2.0 ** attempt` overflows after 1,024 failures,
    which an agent down for a few hours reaches.
    """
    doublings = attempt - 1 if attempt > 1 else 0
    if initial_s >= cap_s or doublings >= math.log2(cap_s / initial_s):
        step = cap_s
    else:
        step = initial_s * 2.0**doublings
    half = step / 2
    return half + random.random() * half
