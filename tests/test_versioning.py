"""The template's version: CHANGELOG.md, git tags, and what a package records."""

from __future__ import annotations

import re
import subprocess

import jinja2
import pytest
from packaging.version import Version
from template_config import copier_config

from scripts.rendering import REPO_ROOT

HEADING = re.compile(
    r"^## (?P<version>\S+) \((?P<when>unreleased|\d{4}-\d{2}-\d{2})\)$"
)


def changelog_sections() -> list[tuple[str, str, str]]:
    """(version, date or "unreleased", body) per "## " section, in file order."""
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections: list[tuple[str, str, str]] = []
    for block in re.split(r"^(?=## )", text, flags=re.MULTILINE)[1:]:
        heading, _, body = block.partition("\n")
        match = HEADING.match(heading)
        assert match, f"CHANGELOG heading {heading!r} is not '## <version> (<date>)'"
        sections.append((match["version"], match["when"], body))
    return sections


def test_changelog_versions_are_pep440_and_newest_first() -> None:
    versions = [Version(version) for version, _, _ in changelog_sections()]
    assert versions, "CHANGELOG.md has no version section"
    assert versions == sorted(versions, reverse=True)
    assert [str(v) for v in versions] == [v for v, _, _ in changelog_sections()]


def test_only_the_newest_section_may_be_unreleased() -> None:
    dates = [when for _, when, _ in changelog_sections()]
    assert "unreleased" not in dates[1:]


def test_each_section_says_whether_a_migration_runs() -> None:
    for version, _, body in changelog_sections():
        assert re.search(r"^- Migration: ", body, re.MULTILINE), (
            f"CHANGELOG {version}: add '- Migration: none.' or name the migration"
        )


def test_every_migration_version_has_a_changelog_section_naming_it() -> None:
    config = copier_config()
    bodies = {version: body for version, _, body in changelog_sections()}
    for migration in config["_migrations"]:
        body = bodies.get(str(migration["version"]), "")
        assert "migrate.py" in body, f"CHANGELOG {migration['version']}: name it"


def test_every_version_tag_has_a_released_section() -> None:
    tags = subprocess.run(
        ["git", "tag", "--list"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.split()
    released = {
        version for version, when, _ in changelog_sections() if when != "unreleased"
    }
    assert {tag.removeprefix("v") for tag in tags} <= released


@pytest.fixture(scope="module")
def template_version() -> jinja2.Template:
    # The filters copier gives templates (regex_search, regex_replace, ...).
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPO_ROOT),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )
    return environment.from_string(
        "{% from 'includes/macros.jinja' import template_version %}"
        "{{ template_version(commit) }}"
    )


@pytest.mark.parametrize(
    ("commit", "expected"),
    [
        ("0.2.0", "0.2.0"),
        ("v0.2.0", "0.2.0"),
        ("1.0.0rc1", "1.0.0rc1"),
        ("0.2.0-3-gabc1234", "0.2.0.post3.dev0+abc1234"),
        ("v1.2.3-12-g0123456789ab", "1.2.3.post12.dev0+0123456789ab"),
        ("0597968", "0.0.0+g0597968"),
        ("abc1234", "0.0.0+gabc1234"),
        (None, "0.0.0"),
        ("", "0.0.0"),
    ],
)
def test_template_version_macro_gives_pep440(
    template_version: jinja2.Template, commit: str | None, expected: str
) -> None:
    rendered = template_version.render(commit=commit)
    assert rendered == expected
    assert str(Version(rendered)) == expected
