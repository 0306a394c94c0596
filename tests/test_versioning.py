"""The template's version: CHANGELOG.md, git tags, and what a package records."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from answers_support import git
from copier._template import Template
from package_checks import assert_flagged
from packaging.version import InvalidVersion, Version
from template_config import copier_config, macros_environment

from scripts.rendering import REPO_ROOT

HEADING = re.compile(
    r"^## (?P<version>\S+) \((?P<when>unreleased|\d{4}-\d{2}-\d{2})\)$"
)


@dataclass(frozen=True)
class Section:
    version: str
    when: str  # a date, or "unreleased"
    body: str


def parse_changelog(text: str) -> tuple[list[Section], list[str]]:
    """The "## " sections in file order, and the headings that are malformed."""
    sections: list[Section] = []
    malformed: list[str] = []
    for block in re.split(r"^(?=## )", text, flags=re.MULTILINE)[1:]:
        heading, _, body = block.partition("\n")
        match = HEADING.match(heading)
        if match is None:
            malformed.append(f"heading {heading!r} is not '## <version> (<date>)'")
        else:
            sections.append(Section(match["version"], match["when"], body))
    return sections, malformed


def changelog_problems(text: str) -> list[str]:
    """What is wrong with a CHANGELOG's versions and sections."""
    sections, problems = parse_changelog(text)
    if not sections:
        return [*problems, "no version section"]
    try:
        versions = [Version(section.version) for section in sections]
    except InvalidVersion as error:
        return [*problems, f"not a PEP 440 version: {error}"]
    if versions != sorted(versions, reverse=True):
        problems.append("versions are not newest first")
    problems += [
        f"{s.version} is not written in PEP 440's normal form ({v})"
        for s, v in zip(sections, versions, strict=True)
        if s.version != str(v)
    ]
    problems += [
        f"{s.version} is unreleased but not the newest"
        for s in sections[1:]
        if s.when == "unreleased"
    ]
    problems += [
        f"{s.version}: add '- Migration: none.' or name the migration"
        for s in sections
        if not re.search(r"^- Migration: ", s.body, re.MULTILINE)
    ]
    return problems


def release_problems(
    text: str, migration_versions: list[str], tags: list[str]
) -> list[str]:
    """Migrations and tags the CHANGELOG does not account for."""
    sections, _ = parse_changelog(text)
    bodies = {s.version: s.body for s in sections}
    released = {s.version for s in sections if s.when != "unreleased"}
    problems = [
        f"migration {version} is not named in its CHANGELOG section"
        for version in migration_versions
        if "migrate.py" not in bodies.get(version, "")
    ]
    problems += [
        f"tag {tag} has no released CHANGELOG section"
        for tag in tags
        if tag.removeprefix("v") not in released
    ]
    return problems


def test_the_changelog_is_well_formed() -> None:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog_problems(text) == []


def test_every_migration_and_tag_has_its_changelog_section() -> None:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    migrations = [str(m["version"]) for m in copier_config()["_migrations"]]
    tags = subprocess.run(
        ["git", "tag", "--list"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert release_problems(text, migrations, tags) == []


BROKEN_CHANGELOG = """# Changelog

## 0.2.0 (unreleased)

- Migration: none.

## 0.3.0 (unreleased)

- Nothing said about migrations.

## v1 (soon)

## 0.1 (2026-01-02)

- Migration: none.
"""


def test_changelog_checks_flag_a_broken_changelog() -> None:
    # The real CHANGELOG has one section, no tag and no migration yet: prove
    # every rule can fail on a sample that breaks each one.
    assert_flagged(
        changelog_problems(BROKEN_CHANGELOG),
        "heading '## v1 (soon)'",
        "versions are not newest first",
        "0.3.0 is unreleased but not the newest",
        "0.3.0: add '- Migration: none.'",
    )
    assert changelog_problems("# Changelog\n") == ["no version section"]
    assert changelog_problems("## 1.0.0-beta (unreleased)\n- Migration: none.\n") == [
        "1.0.0-beta is not written in PEP 440's normal form (1.0.0b0)"
    ]
    assert changelog_problems("## x.y (unreleased)\n")[0].startswith("not a PEP 440")


def test_release_checks_flag_unaccounted_migrations_and_tags() -> None:
    problems = release_problems(BROKEN_CHANGELOG, ["0.2.0", "0.9.0"], ["v0.1", "0.2.0"])
    assert problems == [
        "migration 0.2.0 is not named in its CHANGELOG section",
        "migration 0.9.0 is not named in its CHANGELOG section",
        "tag 0.2.0 has no released CHANGELOG section",
    ]


@pytest.fixture(scope="module")
def template_version() -> jinja2.Template:
    return macros_environment().from_string(
        "{% from 'includes/macros.jinja' import template_version %}"
        "{{ template_version(commit) }}"
    )


def tagged_repo(root: Path, tag: str | None, commits_after: int) -> Path:
    """A git repository: one commit, ``tag`` on it (if any), then more commits."""
    root.mkdir()
    git(root, "init", "--quiet")
    git(root, "commit", "--quiet", "--allow-empty", "--message", "first")
    if tag is not None:
        git(root, "tag", tag)
    for number in range(commits_after):
        git(root, "commit", "--quiet", "--allow-empty", "--message", f"{number}")
    return root


def copiers_view(repo: Path) -> tuple[str, str]:
    """(`_commit`, version) as copier 9.19.1 computes them for a template."""
    template = Template(url=str(repo), ref="HEAD")
    try:
        assert template.commit is not None and template.version is not None
        return template.commit, str(template.version)
    finally:
        template._cleanup()


@pytest.mark.parametrize(
    ("tag", "commits_after"),
    [
        ("0.2.0", 0),
        ("0.2.0", 3),
        ("v0.2.0", 2),
        ("1.0.0rc1", 0),
        ("1.0.0rc1", 2),
        ("1.0.0.post1", 2),
        ("1.0.0.dev2", 2),
        ("1!2.0", 1),
    ],
)
def test_template_version_is_what_copier_calls_the_commit(
    template_version: jinja2.Template, tmp_path: Path, tag: str, commits_after: int
) -> None:
    commit, copiers_version = copiers_view(
        tagged_repo(tmp_path / "template", tag, commits_after)
    )
    assert template_version.render(commit=commit) == copiers_version


def test_untagged_template_version_names_the_same_commit(
    template_version: jinja2.Template, tmp_path: Path
) -> None:
    # No tag at all: copier counts every commit (dunamai's fallback), which
    # `git describe` does not say; the package records the same commit.
    repo = tagged_repo(tmp_path / "template", None, 2)
    commit, copiers_version = copiers_view(repo)
    label = str(Version(f"0.0.0+{commit}")).partition("+")[2]
    assert copiers_version == f"0.0.0.post3.dev0+{label}"
    assert template_version.render(commit=commit) == f"0.0.0+{label}"


@pytest.mark.parametrize(
    ("commit", "expected"),
    [
        # packaging (copier's Version) writes a numeric local label as a number.
        ("0.2.0-3-g0123456", "0.2.0.post3.dev0+0123456"),
        ("0597968", "0.0.0+0597968"),
        ("1.02.0-1-gabc1234", "1.02.0.post1.dev0+abc1234"),
        ("1.0.0-alpha.1-2-gabc1234", "1.0.0a1.post2.dev0+abc1234"),
        ("not-a-version", "0.0.0"),
        (None, "0.0.0"),
        ("", "0.0.0"),
    ],
)
def test_template_version_is_normalized_like_copiers(
    template_version: jinja2.Template, commit: str | None, expected: str
) -> None:
    assert template_version.render(commit=commit) == str(Version(expected))
