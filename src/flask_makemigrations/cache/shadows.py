"""The snapshot sets of one project's shadow databases, wherever their kind of database keeps them.

A run restores the snapshot set of its deepest cached revision and applies only what came after
(``run.Run.build_to_head``); after a build it keeps a set at the head. A kind of database may keep
them in more than one store, tried in order (PostgreSQL: the server's templates, then the portable
dumps in the user's cache folder that a new server restores); a set restored from a later store is
kept in the earlier ones too (a new server's template, from its dump). A cache problem must never
change a result: anything doubtful is discarded and the run builds cold.
"""

import contextlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..errors import MakemigrationsError, on_disk
from ..shadow.backend import Backend, ShadowDatabase
from ..shadow.backends.postgresql import PostgreSQL
from ..shadow.backends.sqlite import SQLite
from .files import user_cache_dir
from .postgresql_dumps import DumpFiles, clear_dumps
from .postgresql_templates import TemplateSnapshots
from .snapshots import Snapshots
from .sqlite_files import FileSnapshots

#: Snapshots kept per project; a history that only grows needs the newest one.
KEEP = 3


def snapshot_stores(backend: Backend, project: str) -> list[Snapshots]:
    """Where ``backend``'s kind of database keeps project ``project``'s snapshots, the fastest to
    restore first: SQLite's files in the user's cache folder; PostgreSQL's template databases on the
    server, then its dumps in the user's cache folder; none for MySQL and MariaDB (every run builds
    its shadow database from the first revision)."""
    if isinstance(backend, SQLite):
        return [FileSnapshots.of_project(project, backend)]
    if isinstance(backend, PostgreSQL):
        return [TemplateSnapshots(backend, project), DumpFiles.of_project(project, backend)]
    return []


class ShadowCache:
    """The snapshot sets of one project, in each of the stores its kind of database keeps them in
    (``snapshots``), tried in order."""

    def __init__(self, stores: Sequence[Snapshots], keep: int = KEEP):
        self.stores = stores
        self.keep = keep
        self._saving: threading.Thread | None = None  # the later stores' save, under way
        self._restored_from: Snapshots | None = None  # the store of the set restored, if any
        self._failure: BaseException | None = None  # what ended it, other than the cache's own misses

    def restore(
        self,
        keys: dict[str, str],
        ordered_revisions: Iterable[str],
        shadows: Mapping[str | None, ShadowDatabase],
    ) -> str | None:
        """Restore the deepest snapshot set into ``shadows``; return its revision id, or None.

        ``ordered_revisions`` goes from the heads down, so the first hit is the deepest one, from the
        first store that has it. A set has a snapshot for each database env.py migrates (a bind it
        leaves alone has none), and each is checked to be at its revision: whatever is restored,
        every database is at the revision its own version table names, from which the upgrade goes on.
        """
        for revision in ordered_revisions:
            for store in self.stores:
                if self._restored(store, keys[revision], revision, shadows):
                    self._restored_from = store
                    return revision
        return None

    @property
    def restored_from_a_later_store(self) -> bool:
        """Whether the set restored came from a store after the first (a dump on a new server): the
        first store does not have it yet."""
        return self._restored_from is not None and self._restored_from is not self.stores[0]

    def _restored(
        self, store: Snapshots, key: str, revision: str, shadows: Mapping[str | None, ShadowDatabase]
    ) -> bool:
        """Whether ``store``'s set under ``key`` was restored into ``shadows``; one that fails is
        discarded."""
        try:
            present = [bind for bind in shadows if store.has(key, bind)]
        except (OSError, MakemigrationsError):  # a cache that cannot be read: this store has none
            return False
        if None not in present:
            return False
        # A restore that fails leaves its database as new: empty, or on a server not made yet (or
        # raises: it is gone).
        if all(store.restore(key, bind, shadows[bind], revision) for bind in present):
            with contextlib.suppress(OSError, MakemigrationsError):
                store.touch(key)  # recently used: kept by the size bound
            return True
        with contextlib.suppress(OSError, MakemigrationsError):
            store.discard(key)  # corrupt or unreadable: replace it later
        return False

    def save(self, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> None:
        """Snapshot every database under ``key`` in each store, the main one last, so a reader never
        finds a set without its binds (it looks for the main one first).

        The first store's set is saved now; the later stores' (PostgreSQL's dumps, which only read
        the databases) in a thread, while the run goes on reading them: ``settle`` waits for it, and
        must be called before anything changes or drops them. A cache that cannot be written (full
        disk, read-only home, a server that refuses, no client programs for a dump) only costs the
        next run time.
        """
        first, *later = self.stores
        self._save_quietly([first], key, shadows)
        if later:
            self._saving = threading.Thread(
                target=self._save_quietly, args=(later, key, shadows), daemon=True
            )
            self._saving.start()

    def finish(self) -> None:
        """Wait for what each store still does after a restore: before the run ends."""
        for store in self.stores:
            store.finish()

    def settle(self) -> None:
        """Wait for the save under way, if any; what ended it other than a miss is raised here."""
        if self._saving is not None:
            self._saving.join()
            self._saving = None
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _save_quietly(
        self, stores: Sequence[Snapshots], key: str, shadows: Mapping[str | None, ShadowDatabase]
    ) -> None:
        try:
            for store in stores:
                with contextlib.suppress(OSError, MakemigrationsError):
                    self._save(store, key, shadows)
        except BaseException as exc:  # a bug: raised by settle, in the run's own thread
            self._failure = exc

    def _save(self, store: Snapshots, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> None:
        if all(store.has(key, bind) for bind in shadows):
            store.touch(key)
            return
        for bind in sorted(shadows, key=lambda bind: bind is None):  # the main database last
            if not store.save(key, bind, shadows[bind]):
                return
        for stale in store.keys_by_recency()[self.keep :]:
            store.discard(stale)


def clear_cache(root: Path | None = None) -> int:
    """Remove every file of the cache folder: each project's snapshots (SQLite's files, PostgreSQL's
    dumps), revision headers, table shapes and reflection answers, and the models' schemas; return how
    many snapshot sets there were."""
    removed = 0
    folder = root or user_cache_dir()
    with on_disk("removing"):  # a read-only cache folder: the file that could not be removed
        for path in folder.glob("*/*.sqlite"):
            path.unlink(missing_ok=True)
            removed += "+" not in path.name
        removed += clear_dumps(folder)
        for path in folder.glob("*/*.json"):
            path.unlink(missing_ok=True)
    return removed
