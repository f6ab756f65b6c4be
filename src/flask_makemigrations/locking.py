"""Serialize runs on one migrations directory.

Two writers that both read the history and then both add a revision would create two heads; holding
an exclusive lock from reading the history to publishing the file makes the second build on the
first. Read-only runs share the lock. The lock file lives in the temporary directory, never in the
project.
"""

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; runs are not serialized there.
    fcntl = None


@contextmanager
def migrations_lock(directory: Path, exclusive: bool) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"flask-makemigrations-{key}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
