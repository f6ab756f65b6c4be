"""Real git repositories for the tests of ``--against``: a project copy committed on ``main``, and
branches made from it, as a team's repository has them."""

import subprocess

from conftest import ProjectCopy

#: Who commits: git refuses to commit without a name, and the runs' HOME has no configuration.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(project: ProjectCopy, *args: str, check: bool = True) -> str:
    """Run git in the project (failing the test if git fails, unless not ``check``: a merge that
    conflicts); its output, stripped."""
    done = subprocess.run(
        ["git", *args],
        cwd=project.root,
        env=project.environment(GIT_IDENTITY),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout.strip()


def commit_all(project: ProjectCopy, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def init_repository(project: ProjectCopy) -> None:
    """The project as a git repository whose branch ``main`` holds everything, checked out."""
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "the project")


def on_branch(project: ProjectCopy, branch: str, start: str = "main") -> None:
    """Check out a new branch made from ``start``."""
    git(project, "checkout", "-q", "-b", branch, start)


def checkout(project: ProjectCopy, branch: str) -> None:
    git(project, "checkout", "-q", branch)


#: Revisions to hand-write, each with its parent (a tuple: a merge's parents); their bodies change nothing.
Revisions = dict[str, str | tuple[str, ...]]


def blank_revisions_on_both(project: ProjectCopy, on_main: Revisions, on_feature: Revisions) -> None:
    """``main`` and a branch ``feature`` made from it each add revisions that change nothing (so the
    models still match), committed; ``feature`` is checked out."""
    init_repository(project)
    git(project, "branch", "feature")
    for revision, parent in on_main.items():
        project.add_revision(revision, parent)
    commit_all(project, "main's revisions")
    checkout(project, "feature")
    for revision, parent in on_feature.items():
        project.add_revision(revision, parent)
    commit_all(project, "feature's revisions")
