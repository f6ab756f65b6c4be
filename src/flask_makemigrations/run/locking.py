"""Serialize runs on one migrations directory.

Two writers that both read the history and then both add a revision would create two heads; holding
an exclusive lock from reading the history to publishing the file makes the second build on the
first. Read-only runs share the lock. The lock is taken on the migrations directory itself, so every
run on it takes turns whatever its TMPDIR, and no lock file is left anywhere. Where a file system
cannot lock a directory (NFS), a lock file in the temporary directory stands in.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; runs are not serialized there.
    fcntl = None  # type: ignore[assignment]


@contextmanager
def migrations_lock(directory: Path, exclusive: bool) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # no such directory: nothing to protect, and the caller refuses it next
        yield
        return
    try:
        try:
            fcntl.flock(fd, mode)
        except OSError:
            with _lock_file(directory, mode):
                yield
        else:
            yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _lock_file(directory: Path, mode: int) -> Iterator[None]:
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"flask-makemigrations-{key}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, mode)
        yield
