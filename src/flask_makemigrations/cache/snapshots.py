"""Where a kind of shadow database keeps one project's snapshots: the interface the cache drives.

A snapshot is a shadow database at a revision, named by the revision's content key (``keys.py``) and
the bind it belongs to (None: the main database). A key's snapshots form one set: the main
database's, and one per bind that ``env.py`` migrates. SQLite keeps each as a file in the user's
cache folder (``sqlite_files.py``); PostgreSQL as a template database on the server
(``postgresql_templates.py``).
"""

import hashlib
from abc import ABC, abstractmethod

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


def bind_hash(bind: str, digits: int) -> str:
    """How a snapshot's name says which bind it is of: a hash of the bind's name (any string is one;
    its hash fits in a file or database name)."""
    return hashlib.sha256(bind.encode()).hexdigest()[:digits]


def bind_suffix(bind: str | None) -> str:
    return "" if bind is None else "+" + bind_hash(bind, 16)
