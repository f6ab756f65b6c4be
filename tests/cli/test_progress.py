"""What a long build shows: a progress line on a terminal, the one-line summary everywhere else."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ProjectCopy, synthetic_project

pytestmark = pytest.mark.version_independent  # see noxfile.py

REVISIONS = 24  # above the shortest history that gets a progress line (terminal.MIN_STEPS)
ERASE = "\r\x1b[K"


@pytest.fixture
def long_project(tmp_path: Path) -> Iterator[ProjectCopy]:
    copy = synthetic_project(tmp_path, REVISIONS)
    yield copy
    assert copy.leftovers() == [], "a run left its shadow database behind"


def test_a_long_build_on_a_terminal_draws_a_progress_line_then_erases_it(long_project: ProjectCopy) -> None:
    run = long_project.invoke_on_terminal("makemigrations", "--check", "--no-verify")

    assert run.returncode == 1, run.stderr
    assert f"\rApplying revisions: 0/{REVISIONS}" in run.stderr
    summary = f"Shadow database at head: {REVISIONS} revision(s) applied"
    assert f"\rApplying revisions: {REVISIONS}/{REVISIONS}{ERASE}{summary}\r\n" in run.stderr
    assert "Running upgrade" not in run.stderr


def test_verify_on_a_terminal_draws_its_progress_line(long_project: ProjectCopy) -> None:
    long_project.edit("app/models.py", "    db.Column('pending', db.Integer),\n", "")

    run = long_project.invoke_on_terminal("verify")

    assert run.returncode == 0, run.stderr
    assert f"\rVerifying revisions: {REVISIONS}/{REVISIONS}{ERASE}" in run.stderr
    assert run.stdout.startswith(f"Verified {REVISIONS} revision(s)")


def test_without_a_terminal_there_is_only_the_summary_line(long_project: ProjectCopy) -> None:
    run = long_project.invoke("makemigrations", "--check", "--no-verify")

    assert run.returncode == 1, run.stderr
    assert "\r" not in run.stderr
    assert run.stderr.startswith(f"Shadow database at head: {REVISIONS} revision(s) applied\n")


def test_verbose_shows_each_revision_instead_of_a_progress_line(long_project: ProjectCopy) -> None:
    run = long_project.invoke_on_terminal("makemigrations", "--check", "--no-verify", "--verbose")

    assert run.returncode == 1, run.stderr
    assert "Applying revisions" not in run.stderr
    assert run.stderr.count("Running upgrade") == REVISIONS


def test_a_short_build_on_a_terminal_shows_no_progress_line(project: ProjectCopy) -> None:
    run = project.invoke_on_terminal("makemigrations", "--check", "--no-verify")

    assert run.returncode == 0, run.stderr
    assert run.stderr == "Shadow database at head: 2 revision(s) applied\r\n"
