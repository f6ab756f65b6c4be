"""The hooks of ``.pre-commit-hooks.yaml``, run by pre-commit itself in a git repository holding a copy
of the example project: with ``try-repo`` as a user would try them, and from a project's own
``.pre-commit-config.yaml`` with ``args``, as README shows.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.version_independent  # pre-commit runs this package's command line only

BIN = Path(sys.executable).parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def environment() -> dict:
    """The project's interpreter first on PATH, as in an activated virtual environment."""
    return {**GIT_IDENTITY, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def repository(project):
    """The example project as a git repository with everything committed."""
    env = project.environment(environment())
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the project"]):
        subprocess.run(["git", *command], cwd=project.root, env=env, check=True, capture_output=True)
    return project


def pre_commit(project, *args):
    return project.run([str(BIN / "pre-commit"), *args], env=environment(), timeout=300)


def stage(project) -> None:
    subprocess.run(["git", "add", "-A"], cwd=project.root, check=True, env=project.environment(environment()))


def test_try_repo_passes_when_models_and_migrations_agree_and_fails_on_a_model_edit(repository):
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


def test_a_projects_config_passes_options_to_both_hooks(repository):
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    repository.write(".pre-commit-config.yaml", CONFIG.format(repo=REPO, rev=rev.stdout.strip()))
    stage(repository)

    result = pre_commit(repository, "run", "--all-files")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Passed") == 2
    assert '"status": "no-changes"' in result.stdout and '"status": "verified"' in result.stdout
