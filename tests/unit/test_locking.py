"""The lock that makes writers on one migrations directory take turns (in-process unit tests)."""

import os
import tempfile
from pathlib import Path

import pytest

from flask_makemigrations.run.locking import migrations_lock

pytestmark = pytest.mark.version_independent  # see noxfile.py

fcntl = pytest.importorskip("fcntl", reason="advisory locks are POSIX-only")


def try_lock(directory: Path, mode: int) -> bool:
    """Whether another open file description could take the lock on ``directory`` right now."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_writer_excludes_everyone_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with migrations_lock(tmp_path, exclusive=True):
        assert not try_lock(tmp_path, fcntl.LOCK_SH)
    assert try_lock(tmp_path, fcntl.LOCK_EX)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_readers_share(tmp_path: Path) -> None:
    with migrations_lock(tmp_path, exclusive=False):
        assert try_lock(tmp_path, fcntl.LOCK_SH)
        assert not try_lock(tmp_path, fcntl.LOCK_EX)


def test_missing_directory_is_left_to_the_caller(tmp_path: Path) -> None:
    with migrations_lock(tmp_path / "missing", exclusive=True):
        pass


def test_falls_back_to_a_lock_file_where_directories_cannot_be_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFS emulates flock with byte-range locks, which a read-only directory cannot take."""
    real_flock = fcntl.flock
    taken: list[int] = []

    def flock(target: object, mode: int) -> None:
        if isinstance(target, int):
            raise OSError(9, "Bad file descriptor")
        taken.append(mode)
        real_flock(target, mode)

    monkeypatch.setattr(fcntl, "flock", flock)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with migrations_lock(tmp_path, exclusive=True):
        assert [p.suffix for p in tmp_path.glob("flask-makemigrations-*")] == [".lock"]
    assert taken[0] == fcntl.LOCK_EX
