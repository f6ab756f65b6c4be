"""git, run in a folder of the project: the one way this package asks git anything (a squash asks
which of the files it folds git keeps; ``--against`` reads a branch's revision files). Each caller
says in its own words what a git that did not answer means for it."""

import subprocess
from pathlib import Path


class GitError(Exception):
    """git did not answer."""


class GitNotInstalled(GitError):
    """There is no ``git`` on PATH."""


class GitTimedOut(GitError):
    """git took longer than it was given."""


class GitFailed(GitError):
    """git refused: ``said`` is its own words, on one line (or its exit status)."""

    def __init__(self, said: str):
        super().__init__(said)
        self.said = said


def git(folder: Path, *args: str, given: bytes = b"", timeout: float = 60) -> bytes:
    """git's output for ``args`` run in ``folder``, with ``given`` on its standard input."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, input=given, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise GitNotInstalled() from None
    except subprocess.TimeoutExpired:
        raise GitTimedOut() from None
    except OSError as exc:  # the folder cannot be entered, say
        raise GitFailed(str(exc)) from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode(errors="replace").split())
        raise GitFailed(said or f"exit status {done.returncode}")
    return done.stdout
