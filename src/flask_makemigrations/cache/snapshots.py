"""Where a kind of shadow database keeps one project's snapshots: the interface the cache drives, and
the file store of SQLite's.

A snapshot is a shadow database at a revision, named by the revision's content key (``cache``) and
the bind it belongs to (None: the main database). A key's snapshots form one set: the main
database's, and one per bind that ``env.py`` migrates. SQLite keeps each as a file in the user's
cache folder; PostgreSQL as a template database on the server (``postgresql_templates.py``).
"""

import contextlib
import hashlib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from ..shadow.backend import ShadowDatabase

if TYPE_CHECKING:  # annotations only (the SQLite backend imports this module)
    from ..shadow.backends.sqlite import SQLite


class Snapshots(ABC):
    """One project's snapshot sets, by content key."""

    @abstractmethod
    def has(self, key: str, bind: str | None) -> bool: ...

    @abstractmethod
    def save(self, key: str, bind: str | None, shadow: ShadowDatabase) -> bool:
        """Snapshot ``shadow``, published whole or not at all; False if it could not be."""

    @abstractmethod
    def restore(self, key: str, bind: str | None, shadow: ShadowDatabase, revision: str) -> bool:
        """Make ``shadow`` the snapshot if it is sound and at ``revision``; False (``shadow`` empty, as
        it was) otherwise. Raises only if ``shadow`` could not be kept in being."""

    @abstractmethod
    def touch(self, key: str) -> None:
        """Mark the set as just used (the bound keeps the most recently used)."""

    @abstractmethod
    def discard(self, key: str) -> None:
        """Remove the whole set."""

    @abstractmethod
    def keys_by_recency(self) -> list[str]:
        """Every set's key, the most recently used first."""


def bind_hash(bind: str, digits: int) -> str:
    """How a snapshot's name says which bind it is of: a hash of the bind's name (any string is one;
    its hash fits in a file or database name)."""
    return hashlib.sha256(bind.encode()).hexdigest()[:digits]


def bind_suffix(bind: str | None) -> str:
    return "" if bind is None else "+" + bind_hash(bind, 16)


class FileSnapshots(Snapshots):
    """SQLite's: ``<key>.sqlite`` for the main database and ``<key>+<bind's hash>.sqlite`` for each
    bind, in one folder per project; written aside and renamed, so readers never see half a file."""

    def __init__(self, folder: Path, backend: "SQLite"):
        self.folder = folder
        self.backend = backend

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
