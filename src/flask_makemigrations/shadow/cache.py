"""Content-addressed snapshots of the shadow database at each head that was built (for backends that
can snapshot: SQLite's).

Most runs start from the history the previous run saw. A revision's key hashes its file's bytes with
its parents' and dependencies' keys (so editing, adding or removing any file below it changes it), salted
with ``env.py``, ``script.py.mako``, the dialect and the SQLAlchemy/Alembic versions. A run restores the
snapshot of its deepest cached revision and applies only what came after. A cache problem must never
change a result: anything doubtful is discarded and the run builds cold.
"""

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import alembic
import sqlalchemy
from alembic.script import Script, ScriptDirectory

from ..revisions.driver import History, Progress
from .backend import ShadowDatabase

#: Snapshots kept per project; a history that only grows needs the newest one.
KEEP = 3


def user_cache_dir() -> Path:
    """The platform's per-user cache folder (what platformdirs computes, without the dependency)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flask-makemigrations"


def revision_keys(
    script: ScriptDirectory, migrations_dir: Path, dialect: str, binds: Sequence[str] = ()
) -> dict[str, str]:
    """Map every revision id to its content key (parents before children, so keys can chain)."""
    salt = hashlib.sha256()
    for name in ("env.py", "script.py.mako"):
        path = migrations_dir / name
        salt.update(path.read_bytes() if path.is_file() else b"-")
    salt.update(f"{dialect}|{sqlalchemy.__version__}|{alembic.__version__}".encode())
    if binds:  # a snapshot set holds a file per database (the salt of an app without binds is as it was)
        salt.update(json.dumps(sorted(binds)).encode())

    keys: dict[str, str] = {}
    for revision in reversed(list(script.walk_revisions())):
        digest = hashlib.sha256(salt.digest())
        digest.update(Path(revision.path).read_bytes())
        for parent in _ancestors_named_by(script, revision):
            digest.update(keys[parent].encode())
        keys[revision.revision] = digest.hexdigest()
    return keys


def _ancestors_named_by(script: ScriptDirectory, revision: Script) -> list[str]:
    """Its parents (several for a merge) and its ``depends_on`` revisions, as sorted ids."""
    named = set(_as_tuple(revision.down_revision))
    for dependency in _as_tuple(revision.dependencies):
        named.update(r.revision for r in script.get_revisions(dependency))
    return sorted(named)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class ShadowCache:
    """Snapshots for one project, in one folder of the user's cache directory."""

    def __init__(self, folder: Path, keep: int = KEEP):
        self.folder = folder
        self.keep = keep

    @classmethod
    def for_project(cls, migrations_dir: Path, root: Path | None = None) -> "ShadowCache":
        project = hashlib.sha256(str(migrations_dir.resolve()).encode()).hexdigest()[:16]
        return cls((root or user_cache_dir()) / project)

    def _paths(self, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> dict[str | None, Path]:
        """A snapshot set's files: ``<key>.sqlite`` for the main database, ``<key>+<bind's hash>.sqlite``
        for each bind (any string is a bind's name; its hash is a file name)."""
        return {bind: self.folder / f"{key}{_bind_suffix(bind)}.sqlite" for bind in shadows}

    def restore(
        self,
        keys: dict[str, str],
        ordered_revisions: Iterable[str],
        shadows: Mapping[str | None, ShadowDatabase],
    ) -> str | None:
        """Restore the deepest snapshot set into ``shadows``; return its revision id, or None.

        ``ordered_revisions`` goes from the heads down, so the first hit is the deepest one. A set
        has a file for each database env.py migrates (a bind it leaves alone has none), and each is
        checked to be at its revision: whatever is restored, every database is at the revision its
        own version table names, from which the upgrade goes on.
        """
        for revision in ordered_revisions:
            paths = {
                bind: path for bind, path in self._paths(keys[revision], shadows).items() if path.is_file()
            }
            if None not in paths:
                continue
            if all(
                shadows[bind].backend.restore_snapshot(shadows[bind], path, revision)
                for bind, path in paths.items()
            ):
                for path in paths.values():
                    os.utime(path)  # recently used: kept by the size bound
                return revision
            for path in paths.values():
                path.unlink(missing_ok=True)  # corrupt or unreadable: replace it later
        return None

    def store(self, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> None:
        """Snapshot every database under ``key``: each written aside, then renamed, the main one last,
        so readers never see half a file, nor a set without its binds (they look for the main one).

        A cache that cannot be written (full disk, read-only home) only costs the next run time.
        """
        with contextlib.suppress(OSError):
            self._store(key, shadows)

    def _store(self, key: str, shadows: Mapping[str | None, ShadowDatabase]) -> None:
        paths = self._paths(key, shadows)
        if all(path.is_file() for path in paths.values()):
            for path in paths.values():
                os.utime(path)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for bind in sorted(shadows, key=lambda bind: bind is None):  # the main database last
            path = paths[bind]
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                if not shadows[bind].backend.save_snapshot(shadows[bind], temporary):
                    return
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        self._bound()

    def _bound(self) -> None:
        """Keep the newest ``keep`` sets (by their main database's file), and the files of no others."""
        mains = [path for path in self.folder.glob("*.sqlite") if "+" not in path.name]
        mains.sort(key=lambda path: path.stat().st_mtime, reverse=True)
        kept = {path.stem for path in mains[: self.keep]}
        for path in self.folder.glob("*.sqlite"):
            if path.stem.split("+")[0] not in kept:
                path.unlink(missing_ok=True)

    def snapshot_sets(self) -> int:
        """How many snapshot sets the folder holds (one file each, and one more per bind)."""
        return len([path for path in self.folder.glob("*.sqlite") if "+" not in path.name])


def _bind_suffix(bind: str | None) -> str:
    return "" if bind is None else "+" + hashlib.sha256(bind.encode()).hexdigest()[:16]


def clear_cache(root: Path | None = None) -> int:
    """Remove every snapshot of every project; return how many sets there were."""
    removed = 0
    for path in (root or user_cache_dir()).glob("*/*.sqlite"):
        path.unlink(missing_ok=True)
        removed += "+" not in path.name
    return removed


@dataclass(frozen=True)
class Built:
    """How a run's shadow database reached head, for its one-line summary."""

    applied: int  # revisions this run applied
    restored: str | None = None  # the cached revision it started from, if any


def upgrade_with_cache(
    history: History,
    shadows: Mapping[str | None, ShadowDatabase],
    enabled: bool = True,
    root: Path | None = None,
    progress: Progress | None = None,
) -> Built:
    """Upgrade the shadow databases (the main one, and one per bind) to head, starting from the
    deepest cached snapshot set if any.

    Only backends that can snapshot are cached (SQLite's, with its backup API).
    """
    backend = shadows[None].backend
    if not enabled or not backend.has_snapshots:
        return Built(history.upgrade(progress=progress))
    migrations = history.staging.staged_dir
    cache = ShadowCache.for_project(history.staging.project_dir, root)
    binds = [bind for bind in shadows if bind is not None]
    keys = revision_keys(history.script, migrations, backend.name, binds)
    heads_first = [revision.revision for revision in history.script.walk_revisions()]
    restored = cache.restore(keys, heads_first, shadows)
    applied = history.upgrade(progress=progress)
    head = history.single_head()
    if head is not None and head != restored:
        cache.store(keys[head], {bind: shadows[bind] for bind in history.migrated if bind in shadows})
    return Built(applied, restored)
