"""Where a kind of shadow database keeps one project's snapshots: the interface the cache drives.

A snapshot is a shadow database at a revision, named by the revision's content key (``keys.py``) and
the bind it belongs to (None: the main database). A key's snapshots form one set: the main
database's, and one per bind that ``env.py`` migrates. SQLite keeps each as a file in the user's
cache folder (``sqlite_files.py``); PostgreSQL as a template database on the server
(``postgresql_templates.py``).
"""

import contextlib
import hashlib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from ..shadow.backend import ShadowDatabase


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

    def finish(self) -> None:  # noqa: B027 (most do all their work in the caller's thread)
        """Wait for what the store still does in a thread of its own after a restore (PostgreSQL's
        spare copy of a template); before the run ends."""


def bind_hash(bind: str, digits: int) -> str:
    """How a snapshot's name says which bind it is of: a hash of the bind's name (any string is one;
    its hash fits in a file or database name)."""
    return hashlib.sha256(bind.encode()).hexdigest()[:digits]


def bind_suffix(bind: str | None) -> str:
    return "" if bind is None else "+" + bind_hash(bind, 16)


class FolderSnapshots(Snapshots):
    """Snapshots kept as files in one project's folder of the user's cache folder:
    ``<key><suffix>`` for the main database and ``<key>+<bind's hash><suffix>`` for each bind; a
    file's time is its set's last use."""

    #: How the files of this kind of snapshot end.
    suffix: ClassVar[str] = ""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, key: str, bind: str | None) -> Path:
        return self.folder / f"{key}{bind_suffix(bind)}{self.suffix}"

    def has(self, key: str, bind: str | None) -> bool:
        return self._path(key, bind).is_file()

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
        for path in self.folder.glob(f"*{self.suffix}"):
            key = _key_of(path, self.suffix)
            with contextlib.suppress(OSError):  # removed by another run meanwhile
                when = 0.0 if "+" in path.name else path.stat().st_mtime
                used[key] = max(used.get(key, 0.0), when)
        return sorted(used, key=lambda key: used[key], reverse=True)

    def _set(self, key: str) -> list[Path]:
        paths = self.folder.glob(f"{key}*{self.suffix}")
        return [path for path in paths if _key_of(path, self.suffix) == key]


def _key_of(path: Path, suffix: str) -> str:
    return path.name.removesuffix(suffix).split("+")[0]
