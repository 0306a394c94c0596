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
