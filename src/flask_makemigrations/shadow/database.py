"""Shadow database lifecycle: a private temporary folder for the run, and the backend's throwaway
database in or beside it, both always removed.

Every run gets its own private temporary directory (``workdir``); the default SQLite shadow file and
the staging copy of the migrations live there, so nothing appears inside the project tree and two
concurrent runs can never share or remove each other's files. Its name says which process made it, so
each run first removes the folders that runs killed with SIGKILL left behind.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import on_disk
from .backend import Backend, ShadowDatabase
from .naming import remove_leaked_workdirs, workdir_prefix


@contextmanager
def shadow_database(backend: Backend, first: bool = True) -> Iterator[ShadowDatabase]:
    """Make the database ``backend`` stands for (``--database``) and remove it on exit. ``first`` is
    False for a run's further databases: the leftovers of killed runs are removed, and those on a
    server named, once."""
    with on_disk("creating a private temporary folder (in $TMPDIR, else /tmp)"):
        root = Path(tempfile.gettempdir())  # the first of them that can be written to
        if first:  # once a run is enough
            remove_leaked_workdirs(root)
        workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix(), dir=root))
    try:
        with backend.throwaway(workdir, first) as shadow:
            yield shadow
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
