# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Which healthy instance a lookup gets: round robin, random or weighted."""

import random

from ..settings.enum_balancing import EnumBalancing
from .model_instance_endpoint import ModelInstanceEndpoint


def choose_endpoint(
    found: tuple[ModelInstanceEndpoint, ...], strategy: EnumBalancing, turn: int
) -> ModelInstanceEndpoint:
    """One of `found` (never empty): by `turn`, at random, or by weight."""
    if strategy is EnumBalancing.ROUND_ROBIN:
        return found[turn % len(found)]
    if strategy is EnumBalancing.WEIGHTED:
        return random.choices(found, weights=[e.weight for e in found])[0]
    return random.choice(found)


def attempt_order(
    found: tuple[ModelInstanceEndpoint, ...], strategy: EnumBalancing, turn: int
) -> tuple[ModelInstanceEndpoint, ...]:
    """Every one of `found` once, in the order a call tries them: the first is
    what `choose_endpoint` would pick, the rest are where it fails over to."""
    if strategy is EnumBalancing.ROUND_ROBIN:
        start = turn % len(found)
        return found[start:] + found[:start]
    if strategy is EnumBalancing.WEIGHTED:
        # Weighted sampling without replacement (Efraimidis-Spirakis): each
        # instance's key is u ** (1 / weight), the largest keys first.
        return tuple(
            sorted(found, key=lambda e: random.random() ** (1 / e.weight), reverse=True)
        )
    return tuple(random.sample(found, len(found)))
