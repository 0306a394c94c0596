"""copier.yml and includes/macros.jinja, read the way copier reads them."""

from __future__ import annotations

from typing import Any

import jinja2.sandbox
import yaml

from scripts.rendering import REPO_ROOT


class _CopierYamlLoader(yaml.SafeLoader):
    """A safe loader that reads `!include` tags as nothing: no test needs that data."""


_CopierYamlLoader.add_constructor("!include", lambda loader, node: None)


def copier_config() -> dict[str, Any]:
    text = (REPO_ROOT / "copier.yml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.load(text, Loader=_CopierYamlLoader)
    return loaded


def macros_environment() -> jinja2.sandbox.SandboxedEnvironment:
    """A Jinja environment like copier's: sandboxed, its filters, loader at the root."""
    return jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(REPO_ROOT),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )
