"""The hooks of ``.pre-commit-hooks.yaml``, run by pre-commit itself in a git repository holding a copy
of the example project: with ``try-repo`` as a user would try them, and from a project's own
``.pre-commit-config.yaml`` with ``args``, as README shows.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import HEAD, REPO, ProjectCopy, Run
from git_branches import GIT_IDENTITY, git

pytestmark = pytest.mark.version_independent  # pre-commit runs this package's command line only

BIN = Path(sys.executable).parent


def environment() -> dict[str, str]:
    """The project's interpreter first on PATH, as in an activated virtual environment."""
    return {**GIT_IDENTITY, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def repository(project: ProjectCopy) -> ProjectCopy:
    """The example project as a git repository with everything committed."""
    env = project.environment(environment())
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the project"]):
        subprocess.run(["git", *command], cwd=project.root, env=env, check=True, capture_output=True)
    return project


def pre_commit(project: ProjectCopy, *args: str) -> Run:
    return project.run([str(BIN / "pre-commit"), *args], env=environment(), timeout=300)


def stage(project: ProjectCopy) -> None:
    subprocess.run(["git", "add", "-A"], cwd=project.root, check=True, env=project.environment(environment()))


def test_try_repo_passes_when_models_and_migrations_agree_and_fails_on_a_model_edit(
    repository: ProjectCopy,
) -> None:
    agreed = pre_commit(repository, "try-repo", str(REPO), "makemigrations-check", "--all-files")
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "Passed" in agreed.stdout

    repository.add_email_column()
    stage(repository)
    pending = pre_commit(repository, "try-repo", str(REPO), "makemigrations-check")

    assert pending.returncode == 1, pending.stdout + pending.stderr
    assert "Failed" in pending.stdout and "+ column user.email" in pending.stdout
    verified = pre_commit(repository, "try-repo", str(REPO), "makemigrations-verify", "--all-files")
    assert verified.returncode == 1 and "the models have changes no revision covers" in verified.stdout


CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: makemigrations-check
        args: [--app, "app:create_app", --format, json]
        verbose: true
      - id: makemigrations-verify
        args: [--app, "app:create_app", --format, json]
        verbose: true
"""


def test_a_projects_config_passes_options_to_both_hooks(repository: ProjectCopy) -> None:
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    repository.write(".pre-commit-config.yaml", CONFIG.format(repo=REPO, rev=rev.stdout.strip()))
    stage(repository)

    result = pre_commit(repository, "run", "--all-files")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Passed") == 2
    assert '"status": "no-changes"' in result.stdout and '"status": "verified"' in result.stdout


def commit(project: ProjectCopy, message: str) -> None:
    stage(project)
    env = project.environment(environment())
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=project.root, env=env, check=True)


def delete_the_head_revision(project: ProjectCopy) -> None:
    (project.versions / f"{HEAD}_add_post_table.py").unlink()


def edit_alembic_ini(project: ProjectCopy) -> None:
    project.edit("migrations/alembic.ini", "[alembic]", "# a comment\n[alembic]")


def edit_script_template(project: ProjectCopy) -> None:
    project.edit("migrations/script.py.mako", '"""${message}', '"""${message}\n')


@pytest.mark.parametrize("change", [delete_the_head_revision, edit_alembic_ini, edit_script_template])
def test_the_hooks_run_for_a_commit_that_changes_no_python_file(
    repository: ProjectCopy, change: Callable[[ProjectCopy], None]
) -> None:
    """pre-commit never gives a hook the files a commit deletes, and filters the others by type: the
    hooks must run all the same, since such a commit can change the answer. Here the models' pending
    column was committed earlier (say with --no-verify); the next commit only makes ``change``."""
    repository.add_email_column()
    commit(repository, "a model change, committed without the hooks")
    change(repository)
    stage(repository)
    staged = subprocess.run(
        ["git", "diff", "--staged", "--name-only", "--diff-filter=ACMR", "--", "*.py"],
        cwd=repository.root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert staged.stdout == ""  # no Python file that pre-commit would pass to a filter

    checked = pre_commit(repository, "try-repo", str(REPO), "makemigrations-check")
    verified = pre_commit(repository, "try-repo", str(REPO), "makemigrations-verify")

    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "Failed" in checked.stdout and "+ column user.email" in checked.stdout
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "Failed" in verified.stdout and "no files to check" not in verified.stdout


def test_the_against_hook_fails_when_merging_origin_main_would_leave_two_heads(
    repository: ProjectCopy,
) -> None:
    """``makemigrations-check-against`` reads origin/main as the last fetch left it: here main got a
    revision after this branch parted from it, and this branch adds its own on the same parent."""
    repository.add_revision("0003_main", HEAD)
    commit(repository, "main's revision")
    git(repository, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repository, "checkout", "-q", "-b", "feature", "HEAD~1")
    agreed = pre_commit(repository, "try-repo", str(REPO), "makemigrations-check-against", "--all-files")
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr

    repository.add_revision("0003_feature", HEAD)
    stage(repository)
    diverged = pre_commit(repository, "try-repo", str(REPO), "makemigrations-check-against")

    assert diverged.returncode == 1, diverged.stdout + diverged.stderr
    assert "Failed" in diverged.stdout
    assert "merging origin/main would leave the history with 2 heads: 0003_feature" in diverged.stdout
    assert "0003_main (migrations/versions/0003_main.py) on origin/main" in diverged.stdout
