"""Content-addressed snapshots of the shadow databases at each head that was built, where their kind
of database keeps them (``snapshots``: SQLite's files, PostgreSQL's template databases).

Most runs start from the history the previous run saw. A revision's key hashes its file's bytes with
its parents' and dependencies' keys (so editing, adding or removing any file below it changes it), salted
with ``env.py``, ``script.py.mako``, ``alembic.ini``, what ``Migrate(...)`` gives env.py, the dialect
and the SQLAlchemy/Alembic versions. A run restores the
snapshot of its deepest cached revision and applies only what came after. A cache problem must never
change a result: anything doubtful is discarded and the run builds cold.
"""

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import alembic
import sqlalchemy
from alembic.script import Script, ScriptDirectory

from ..errors import MakemigrationsError, on_disk
from ..revisions.driver import History, Progress
from ..shadow.backend import ShadowDatabase
from .files import project_id, user_cache_dir
from .snapshots import Snapshots

#: Snapshots kept per project; a history that only grows needs the newest one.
KEEP = 3


def revision_keys(
    script: ScriptDirectory,
    migrations_dir: Path,
    dialect: str,
    binds: Sequence[str] = (),
    settings: str = "",
) -> dict[str, str]:
    """Map every revision id to its content key (parents before children, so keys can chain);
    ``settings``: what the project gives env.py (``ProjectAdapter.env_settings``), canonical."""
    salt = hashlib.sha256()
    for name in ("env.py", "script.py.mako", "alembic.ini"):
        path = migrations_dir / name
        salt.update(path.read_bytes() if path.is_file() else b"-")
    salt.update(f"{dialect}|{sqlalchemy.__version__}|{alembic.__version__}|{settings}".encode())
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


def _canonical(value: object) -> str:
    """``value`` as text that only changes when it does: mappings and sets sorted, functions and
    classes by their qualified name, other objects by their ``repr`` without memory addresses."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(sorted(f"{_canonical(k)}:{_canonical(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(map(_canonical, value))) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(_canonical, value)) + "]"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", f"{type(value).__qualname__}:{value!r}")


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


@dataclass(frozen=True)
class Built:
    """How a run's shadow database reached head, for its one-line summary."""

    applied: int  # revisions this run applied
    restored: str | None = None  # the cached revision it started from, if any


def upgrade_with_cache(
    history: History,
    shadows: Mapping[str | None, ShadowDatabase],
    enabled: bool = True,
    progress: Progress | None = None,
    release: Callable[[], None] = lambda: None,
) -> Built:
    """Upgrade the shadow databases (the main one, and one per bind) to head, starting from the
    deepest cached snapshot set if any.

    Only backends that keep snapshots are cached (SQLite's files, PostgreSQL's template databases).
    ``release`` closes the app's pooled connections, before a server database is replaced or copied.
    """
    backend = shadows[None].backend
    store = backend.snapshots(project_id(history.staging.project_dir)) if enabled else None
    if store is None:
        return Built(history.upgrade(progress=progress))
    cache = ShadowCache(store)
    binds = [bind for bind in shadows if bind is not None]
    settings = _canonical(history.adapter.env_settings())
    keys = revision_keys(history.script, history.staging.staged_dir, backend.name, binds, settings)
    heads_first = [revision.revision for revision in history.script.walk_revisions()]
    release()
    restored = cache.restore(keys, heads_first, shadows)
    applied = history.upgrade(progress=progress)
    head = history.single_head()
    if head is not None and head != restored:
        release()
        cache.save(keys[head], {bind: shadows[bind] for bind in history.migrated if bind in shadows})
    return Built(applied, restored)
