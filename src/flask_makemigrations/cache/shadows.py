"""The snapshot sets of one project's shadow databases, wherever their kind of database keeps them.

A run restores the snapshot set of its deepest cached revision and applies only what came after
(``run.Run.build_to_head``); after a build it keeps a set at the head. A cache problem must never
change a result: anything doubtful is discarded and the run builds cold.
"""

import contextlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import MakemigrationsError, on_disk
from ..shadow.backend import Backend, ShadowDatabase
from ..shadow.backends.postgresql import PostgreSQL
from ..shadow.backends.sqlite import SQLite
from .files import user_cache_dir
from .postgresql_templates import TemplateSnapshots
from .snapshots import Snapshots
from .sqlite_files import FileSnapshots

#: Snapshots kept per project; a history that only grows needs the newest one.
KEEP = 3


def snapshot_store(backend: Backend, project: str) -> Snapshots | None:
    """Where ``backend``'s kind of database keeps project ``project``'s snapshots: SQLite's files in
    the user's cache folder, PostgreSQL's template databases on the server; None: it keeps none
    (MySQL and MariaDB: every run builds its shadow database from the first revision)."""
    if isinstance(backend, SQLite):
        return FileSnapshots.of_project(project, backend)
    if isinstance(backend, PostgreSQL):
        return TemplateSnapshots(backend, project)
    return None


class ShadowCache:
    """The snapshot sets of one project, wherever its kind of database keeps them (``snapshots``)."""

    def __init__(self, store: Snapshots, keep: int = KEEP):
        self.store = store
        self.keep = keep

    def restore(
        self,
        keys: dict[str, str],
        ordered_revisions: Iterable[str],
        shadows: Mapping[str | None, ShadowDatabase],
    ) -> str | None:
        """Restore the deepest snapshot set into ``shadows``; return its revision id, or None.

        ``ordered_revisions`` goes from the heads down, so the first hit is the deepest one. A set
        has a snapshot for each database env.py migrates (a bind it leaves alone has none), and each
        is checked to be at its revision: whatever is restored, every database is at the revision its
        own version table names, from which the upgrade goes on.
        """
        for revision in ordered_revisions:
            key = keys[revision]
            try:
                present = [bind for bind in shadows if self.store.has(key, bind)]
            except (OSError, MakemigrationsError):  # a cache that cannot be read: build cold
                return None
            if None not in present:
                continue
            # A restore that fails leaves its database empty, as it was (or raises: it is gone).
            if all(self.store.restore(key, bind, shadows[bind], revision) for bind in present):
                with contextlib.suppress(OSError, MakemigrationsError):
                    self.store.touch(key)  # recently used: kept by the size bound
                return revision
            with contextlib.suppress(OSError, MakemigrationsError):
                self.store.discard(key)  # corrupt or unreadable: replace it later
        return None

    def save(self, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> None:
        """Snapshot every database under ``key``, the main one last, so a reader never finds a set
        without its binds (it looks for the main one first).

        A cache that cannot be written (full disk, read-only home, a server that refuses) only costs
        the next run time.
        """
        with contextlib.suppress(OSError, MakemigrationsError):
            self._save(key, shadows)

    def _save(self, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> None:
        if all(self.store.has(key, bind) for bind in shadows):
            self.store.touch(key)
            return
        for bind in sorted(shadows, key=lambda bind: bind is None):  # the main database last
            if not self.store.save(key, bind, shadows[bind]):
                return
        for stale in self.store.keys_by_recency()[self.keep :]:
            self.store.discard(stale)


def clear_cache(root: Path | None = None) -> int:
    """Remove every file of the cache folder: each project's snapshots, revision headers, table
    shapes and reflection answers, and the models' schemas; return how many snapshot sets there were."""
    removed = 0
    folder = root or user_cache_dir()
    with on_disk("removing"):  # a read-only cache folder: the file that could not be removed
        for path in folder.glob("*/*.sqlite"):
            path.unlink(missing_ok=True)
            removed += "+" not in path.name
        for path in folder.glob("*/*.json"):
            path.unlink(missing_ok=True)
    return removed
