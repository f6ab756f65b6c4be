"""SQLite's snapshots for the cache: files in the user's cache folder, one folder per project.

Each is SQLite's own online backup of the shadow database (``SQLite.save_snapshot``), restored only
if it passes SQLite's ``quick_check`` and sits at the revision its key says.
"""

import contextlib
import os
from pathlib import Path

from ..shadow.backend import ShadowDatabase
from ..shadow.backends.sqlite import SQLite
from .files import user_cache_dir
from .snapshots import Snapshots, bind_suffix


class FileSnapshots(Snapshots):
    """SQLite's: ``<key>.sqlite`` for the main database and ``<key>+<bind's hash>.sqlite`` for each
    bind, in one folder per project; written aside and renamed, so readers never see half a file."""

    def __init__(self, folder: Path, backend: SQLite):
        self.folder = folder
        self.backend = backend

    @classmethod
    def of_project(cls, project: str, backend: SQLite) -> "FileSnapshots":
        """Project ``project``'s files, in its folder of the user's cache folder."""
        return cls(user_cache_dir() / project, backend)

    def _path(self, key: str, bind: str | None) -> Path:
        return self.folder / f"{key}{bind_suffix(bind)}.sqlite"

    def has(self, key: str, bind: str | None) -> bool:
        return self._path(key, bind).is_file()

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

    def touch(self, key: str) -> None:
        for path in self._set(key):
            with contextlib.suppress(FileNotFoundError):  # removed by another run meanwhile
                os.utime(path)

    def discard(self, key: str) -> None:
        for path in self._set(key):
            path.unlink(missing_ok=True)

    def keys_by_recency(self) -> list[str]:
        """By the main file's time; a bind's without one (a run killed in between) is the oldest."""
        used: dict[str, float] = {}
        for path in self.folder.glob("*.sqlite"):
            key = path.stem.split("+")[0]
            with contextlib.suppress(OSError):  # removed by another run meanwhile
                when = 0.0 if "+" in path.name else path.stat().st_mtime
                used[key] = max(used.get(key, 0.0), when)
        return sorted(used, key=lambda key: used[key], reverse=True)

    def _set(self, key: str) -> list[Path]:
        return [path for path in self.folder.glob(f"{key}*.sqlite") if path.stem.split("+")[0] == key]
