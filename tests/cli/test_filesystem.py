"""The file system as it really is: junk in the migrations directory, full and read-only disks, odd
paths, leftovers of killed runs. Each fault is one ``Error:`` line and exit 2, and loses nothing.

The full and read-only disks are small tmpfs mounts (``tmpfs`` fixture): those tests need root.
All but the '%' path exercise only this package's own code (see noxfile.py).
"""

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ProjectCopy, Tmpfs, finish, probe_env, project_at, wait_for_report

from flask_makemigrations.shadow.naming import host_token


@pytest.mark.version_independent
def test_junk_in_the_migrations_directory_does_not_stop_a_run(project: ProjectCopy) -> None:
    """An editor's lock file (a dangling link), a named pipe, a backup: not part of the repository."""
    os.symlink("user@host.12345:1700000000", project.migrations / ".#env.py")
    os.mkfifo(project.migrations / "pipe")
    (project.migrations / "env.py~").write_text("this is not Python")
    (project.migrations / "__pycache__").mkdir()
    project.add_email_column()

    result = project.invoke("makemigrations", "-m", "add email", timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["  + column user.email"]


@pytest.mark.version_independent
def test_a_missing_alembic_ini_is_named_where_the_user_has_it(project: ProjectCopy) -> None:
    (project.migrations / "alembic.ini").unlink()

    error = project.refuses("makemigrations", "--check")

    assert error == (
        "Error: migrations/alembic.ini does not exist; every Flask-Migrate migrations directory has one "
        "('flask db init' writes it)"
    )


def test_a_project_path_with_a_percent_sign_works_as_under_flask_db(
    project: ProjectCopy, tmp_path: Path
) -> None:
    (tmp_path / "runs").mkdir()
    moved = project_at(shutil.copytree(project.root, tmp_path / "100% done" / "project"), tmp_path / "runs")
    moved.add_email_column()

    result = moved.invoke("makemigrations", "-m", "add email")

    assert result.returncode == 0, result.stderr
    assert [path.name for path in moved.new_revisions(project.revision_files())] == [
        result.stdout.splitlines()[0].rsplit("/", 1)[1]
    ]
    assert moved.leftovers() == []


def test_a_percent_sign_in_tmpdir_works(project: ProjectCopy, tmp_path: Path) -> None:
    """The staging copy lives in $TMPDIR; Alembic's options go through ConfigParser, where an unescaped
    '%' in its path would start an interpolation."""
    percent = tmp_path / "100% tmp"
    percent.mkdir()
    project.add_email_column()

    result = project.make_migrations("add email", env={"TMPDIR": str(percent)})
    verified = project.verify_history(env={"TMPDIR": str(percent)})

    assert result.path is not None and result.path.is_file()
    assert verified.revisions == 3
    assert list(percent.iterdir()) == []


@pytest.mark.version_independent
def test_a_full_temporary_file_system_is_one_error(project: ProjectCopy, tmpfs: Callable[..., Tmpfs]) -> None:
    """Room for Python's own check that TMPDIR is writable (a full one it silently passes over),
    not for the run's files."""
    disk = tmpfs(project.tmpdir)
    disk.fill(leave=4096)
    project.add_email_column()

    error = project.refuses("makemigrations", "-m", "add email")

    assert "No space left on device" in error and str(project.tmpdir) in error
    assert sorted(os.listdir(project.tmpdir)) == [".filler"]


@pytest.mark.version_independent
def test_a_read_only_versions_folder_is_refused_before_any_work(
    project: ProjectCopy, tmpfs: Callable[..., Tmpfs]
) -> None:
    tmpfs(project.versions).make_read_only()
    project.announce_loading()
    project.add_email_column()

    error = project.refuses("makemigrations", "-m", "add email")

    assert error == (
        "Error: cannot write a new revision to migrations/versions: it is on a read-only file system"
    )


@pytest.mark.version_independent
def test_a_full_versions_folder_leaves_no_half_written_file(
    project: ProjectCopy, tmpfs: Callable[..., Tmpfs]
) -> None:
    """The publish step fails as it copies: its temporary file goes too."""
    disk = tmpfs(project.versions, size="32k")
    before = project.revision_files()
    disk.fill()
    project.add_email_column()

    error = project.refuses("makemigrations", "-m", "add email")

    assert error.startswith("Error: writing migrations/versions/")
    assert error.endswith("_add_email.py failed: No space left on device; nothing was written")
    assert sorted(os.listdir(project.versions)) == sorted([".filler", *before])


@pytest.mark.version_independent
def test_a_database_path_in_a_read_only_folder_is_one_error(
    project: ProjectCopy, tmp_path: Path, tmpfs: Callable[..., Tmpfs]
) -> None:
    folder = tmp_path / "readonly"
    tmpfs(folder).make_read_only()

    error = project.refuses("makemigrations", "--check", "--database", str(folder / "shadow.sqlite"))

    assert error == f"Error: --database: creating {folder / 'shadow.sqlite'} failed: Read-only file system"


@pytest.mark.version_independent
def test_a_leftover_journal_beside_the_database_path_is_refused_and_kept(
    project: ProjectCopy, tmp_path: Path
) -> None:
    """SQLite would take a hot journal for the new file's own; the tool deletes only what it made."""
    database = tmp_path / "shadow.sqlite"
    for suffix in ("-journal", "-wal", "-shm"):
        leftover = tmp_path / f"shadow.sqlite{suffix}"
        leftover.write_bytes(b"someone else's")

        error = project.refuses("makemigrations", "--check", "--database", str(database))

        assert f"{leftover} already exists" in error
        assert leftover.read_bytes() == b"someone else's"
        assert not database.exists()
        leftover.unlink()


@pytest.mark.version_independent
def test_the_cache_task_shows_the_projects_folder(project: ProjectCopy) -> None:
    project.add_email_column()
    assert project.invoke("makemigrations", "--check").returncode == 1

    result = project.invoke("cache")

    assert result.returncode == 0, result.stderr
    root_line, project_line = result.stdout.splitlines()
    root = project.home / ".cache" / "flask-makemigrations"
    assert root_line == f"Cache: {root}"
    assert project_line.startswith(f"This project (migrations): {root}/")
    folder = project_line.split(": ", 1)[1].rsplit(" (", 1)[0]
    assert project_line.endswith("(1 snapshot(s))")
    assert len(list((root / os.path.basename(folder)).glob("*.sqlite"))) == 1


@pytest.mark.version_independent
def test_a_run_removes_what_a_killed_run_left_in_tmpdir(project: ProjectCopy, probe_dir: Path) -> None:
    """SIGKILL leaves the private folder (shadow database, staging copy) behind; the next run removes
    it, and nothing of a live run or of anything else."""
    unrelated = project.tmpdir / "flask-makemigrations-someone-else"
    unrelated.mkdir()
    alive = project.tmpdir / f"flask-makemigrations-{host_token()}-{os.getpid()}-abcdefgh"
    alive.mkdir()
    project.add_probe()
    killed = project.start("makemigrations", "--check", env=probe_env(probe_dir, "killed", hold=True))
    wait_for_report(probe_dir, "killed", killed)
    os.kill(killed.pid, signal.SIGKILL)
    finish(killed)
    leaked = set(os.listdir(project.tmpdir)) - {unrelated.name, alive.name}
    prefix = f"flask-makemigrations-{host_token()}-{killed.pid}-"
    assert leaked and all(name.startswith(prefix) for name in leaked)

    result = project.invoke("makemigrations", "--check")

    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(project.tmpdir)) == sorted([unrelated.name, alive.name])
    unrelated.rmdir()
    alive.rmdir()
