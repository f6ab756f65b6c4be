"""SQLite's snapshots for the cache: files in the user's cache folder, one folder per project.

Each is SQLite's own online backup of the shadow database (``SQLite.save_snapshot``), restored only
if it passes SQLite's ``quick_check`` and sits at the revision its key says.
"""

import os
from pathlib import Path

from ..shadow.backend import ShadowDatabase
from ..shadow.backends.sqlite import SQLite
from .files import user_cache_dir
from .snapshots import FolderSnapshots


class FileSnapshots(FolderSnapshots):
    """SQLite's: ``<key>.sqlite`` for the main database and ``<key>+<bind's hash>.sqlite`` for each
    bind, in one folder per project; written aside and renamed, so readers never see half a file."""

    suffix = ".sqlite"

    def __init__(self, folder: Path, backend: SQLite):
        super().__init__(folder)
        self.backend = backend

    @classmethod
    def of_project(cls, project: str, backend: SQLite) -> "FileSnapshots":
        """Project ``project``'s files, in its folder of the user's cache folder."""
        return cls(user_cache_dir() / project, backend)

    def save(self, key: str, bind: str | None, shadow: ShadowDatabase) -> bool:
        path = self._path(key, bind)
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            if not self.backend.save_snapshot(shadow, temporary):
                return False
            os.replace(temporary, path)
            return True
        finally:
            temporary.unlink(missing_ok=True)

    def restore(self, key: str, bind: str | None, shadow: ShadowDatabase, revision: str) -> bool:
        return self.backend.restore_snapshot(shadow, self._path(key, bind), revision)
