# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's tag filter: an instance matches when it carries every wanted tag, in any case."""

from collections.abc import Iterable


def carries_tags(tags: Iterable[str], wanted: Iterable[str]) -> bool:
    """True when `tags` hold each of `wanted`, compared case-insensitively."""
    have = {tag.lower() for tag in tags}
    return all(tag.lower() in have for tag in wanted)
