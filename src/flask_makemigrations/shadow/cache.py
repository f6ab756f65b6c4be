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
import os
import sys
from collections.abc import Iterable, Sequence
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


def revision_keys(script: ScriptDirectory, migrations_dir: Path, dialect: str) -> dict[str, str]:
    """Map every revision id to its content key (parents before children, so keys can chain)."""
    salt = hashlib.sha256()
    for name in ("env.py", "script.py.mako"):
        path = migrations_dir / name
        salt.update(path.read_bytes() if path.is_file() else b"-")
    salt.update(f"{dialect}|{sqlalchemy.__version__}|{alembic.__version__}".encode())

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

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.sqlite"

    def restore(
        self, keys: dict[str, str], ordered_revisions: Iterable[str], shadow: ShadowDatabase
    ) -> str | None:
        """Restore the deepest usable snapshot into ``shadow``; return its revision id, or None.

        ``ordered_revisions`` goes from the heads down, so the first hit is the deepest one.
        """
        for revision in ordered_revisions:
            path = self._path(keys[revision])
            if not path.is_file():
                continue
            if shadow.backend.restore_snapshot(shadow, path, revision):
                os.utime(path)  # recently used: kept by the size bound
                return revision
            path.unlink(missing_ok=True)  # corrupt or unreadable: replace it later
        return None

    def store(self, key: str, shadow: ShadowDatabase) -> None:
        """Snapshot ``shadow`` under ``key``: written aside, then renamed, so readers never see half.

        A cache that cannot be written (full disk, read-only home) only costs the next run time.
        """
        with contextlib.suppress(OSError):
            self._store(key, shadow)

    def _store(self, key: str, shadow: ShadowDatabase) -> None:
        path = self._path(key)
        if path.is_file():
            os.utime(path)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            if shadow.backend.save_snapshot(shadow, temporary):
                os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        self._bound()

    def _bound(self) -> None:
        snapshots = sorted(self.folder.glob("*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in snapshots[self.keep :]:
            stale.unlink(missing_ok=True)


def clear_cache(root: Path | None = None) -> int:
    """Remove every snapshot of every project; return how many there were."""
    removed = 0
    for path in (root or user_cache_dir()).glob("*/*.sqlite"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


@dataclass(frozen=True)
class Built:
    """How a run's shadow database reached head, for its one-line summary."""

    applied: int  # revisions this run applied
    restored: str | None = None  # the cached revision it started from, if any


def upgrade_with_cache(
    history: History,
    shadow: ShadowDatabase,
    enabled: bool = True,
    root: Path | None = None,
    progress: Progress | None = None,
) -> Built:
    """Upgrade the shadow database to head, starting from the deepest cached snapshot if any.

    Only backends that can snapshot are cached (SQLite's, with its backup API).
    """
    if not enabled or not shadow.backend.has_snapshots:
        return Built(history.upgrade(progress=progress))
    migrations = history.staging.staged_dir
    cache = ShadowCache.for_project(history.staging.project_dir, root)
    keys = revision_keys(history.script, migrations, shadow.backend.name)
    heads_first = [revision.revision for revision in history.script.walk_revisions()]
    restored = cache.restore(keys, heads_first, shadow)
    applied = history.upgrade(progress=progress)
    head = history.single_head()
    if head is not None and head != restored:
        cache.store(keys[head], shadow)
    return Built(applied, restored)
