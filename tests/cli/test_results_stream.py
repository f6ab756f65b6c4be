"""stdout that cannot take the results: a full disk, a closed descriptor, a reader that went away.

A full or closed stdout is an error (one ``Error:`` line, exit 2, naming the revision a run wrote all
the same); a reader that closes the pipe early (``| head -1``) has what it wanted, so the run stays
quiet and exits as it would have. Real processes of every front end, with real descriptors.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import ProjectCopy, Run

pytestmark = pytest.mark.version_independent  # see noxfile.py

BIN = Path(sys.executable).parent
FRONT_ENDS = {
    "invoke": None,  # project.invoke_command
    "python -m": [sys.executable, "-m", "flask_makemigrations"],
    "flask": [str(BIN / "flask"), "makemigrations"],
}


def command(project: ProjectCopy, front: str, *args: str) -> list[str]:
    front_end = FRONT_ENDS[front]
    if front_end is None:
        return project.invoke_command("makemigrations", *args)
    return [*front_end, *args]


def run_with_stdout(project: ProjectCopy, front: str, stdout: int | IO[Any] | None, *args: str) -> Run:
    """Run a front end with ``stdout`` as its descriptor 1 (``None``: closed, as ``>&-`` leaves it)."""
    done = subprocess.run(
        command(project, front, *args),
        cwd=project.root,
        env=project.environment(),
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        # pass_fds cannot close a descriptor: close 1 in the child before it runs Python
        preexec_fn=(lambda: os.close(1)) if stdout is None else None,
    )
    return Run(done.returncode, "", done.stderr)


def last_line_alone(run: Run) -> str:
    """The closing ``Error:`` line, checking it is the only one and there is no traceback."""
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("Error:")] == lines[-1:], run.stderr
    return lines[-1]


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_full_stdout_is_one_error_naming_the_revision_written(project: ProjectCopy, front: str) -> None:
    project.add_email_column()
    before = project.revision_files()

    with open("/dev/full", "w") as full:
        result = run_with_stdout(project, front, full, "-m", "add email")

    (new,) = project.new_revisions(before)
    assert result.returncode == 2, result.stderr
    assert last_line_alone(result) == (
        "Error: writing the results to stdout failed: No space left on device; "
        f"migrations/versions/{new.name} was written all the same"
    )


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_closed_stdout_is_one_error(project: ProjectCopy, front: str) -> None:
    project.add_email_column()
    before = project.snapshot()

    result = run_with_stdout(project, front, None, "--check", "--format", "json")

    assert result.returncode == 2, result.stderr
    assert last_line_alone(result) == "Error: writing the results to stdout failed: stdout is closed"
    assert project.snapshot() == before


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_reader_that_went_away_leaves_the_run_quiet(project: ProjectCopy, front: str) -> None:
    """``| head -1`` after its line: here the reader is gone before the first write, so every write
    of the run meets a broken pipe, whatever the timing."""
    project.add_email_column()
    before = project.revision_files()
    reader, writer = os.pipe()
    os.close(reader)
    with os.fdopen(writer, "w") as pipe:
        result = run_with_stdout(project, front, pipe, "-m", "add email")

    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert len(project.new_revisions(before)) == 1
