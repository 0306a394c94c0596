"""copier.yml as data, for tests that check what it declares."""

from __future__ import annotations

from typing import Any

import yaml

from scripts.rendering import REPO_ROOT


class _CopierYamlLoader(yaml.SafeLoader):
    """A safe loader that reads `!include` tags as nothing: no test needs that data."""


_CopierYamlLoader.add_constructor("!include", lambda loader, node: None)


def copier_config() -> dict[str, Any]:
    text = (REPO_ROOT / "copier.yml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.load(text, Loader=_CopierYamlLoader)
    return loaded
