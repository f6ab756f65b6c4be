"""SQLite: a new file (in the run's private folder, or at a path of the user's that must not exist
yet), or an in-memory database that every connection in the process shares. Snapshots for the cache
are SQLite's own online backups.
"""

import os
import re
import sqlite3
import uuid
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from ...compat import FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS
from ...errors import UsageError, disk_error
from ..backend import Backend, ShadowDatabase

#: The files SQLite keeps beside a database; a leftover one would be taken for the new file's own.
SIDE_FILES = ("-journal", "-wal", "-shm")


class SQLite(Backend):
    name = "sqlite"

    @abstractmethod
    def connect(self, shadow: ShadowDatabase) -> sqlite3.Connection:
        """A raw connection to the shadow database, for the backup API."""

    def app_url(self, url: URL) -> str:
        """The path as is, not percent-escaped (SQLAlchemy 2.1 escapes the ``:`` of an in-memory
        ``file:`` name): old ``env.py`` templates put the URL into Alembic's config unescaped, where
        ``%`` starts an interpolation."""
        query = "&".join(f"{key}={value}" for key, value in url.query.items())
        return f"sqlite:///{url.database}" + (f"?{query}" if query else "")

    def empty(self, shadow: ShadowDatabase) -> None:
        """SQLite's backup of a new, empty database over it."""
        target = self.connect(shadow)
        try:
            empty = sqlite3.connect(":memory:")
            try:
                empty.backup(target)
            finally:
                empty.close()
        finally:
            target.close()

    def save_snapshot(self, shadow: ShadowDatabase, path: Path) -> bool:
        """Copy the shadow database into a new file at ``path`` (SQLite's backup); False if it could not."""
        try:
            source = self.connect(shadow)
            try:
                target = sqlite3.connect(path)
                try:
                    source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
        except sqlite3.Error:
            return False
        return True

    def restore_snapshot(self, shadow: ShadowDatabase, path: Path, revision: str) -> bool:
        """Replace the shadow database's content with the snapshot at ``path`` if it is sound and at
        ``revision``; False (nothing changed) otherwise."""
        try:
            snapshot = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                if snapshot.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    return False
                if _versions(snapshot) != [revision]:
                    return False
                target = self.connect(shadow)
                try:
                    snapshot.backup(target)
                finally:
                    target.close()
                return True
            finally:
                snapshot.close()
        except sqlite3.Error:
            return False


@dataclass(frozen=True)
class SQLiteFile(SQLite):
    """A new file: at ``path`` if the user gave one, else in the run's private folder."""

    path: Path | None = None

    def second(self) -> Backend:
        return SQLiteFile()  # never at a user's path

    def for_binds(self, binds: Sequence[str]) -> dict[str, Backend]:
        """Beside the user's file: ``shadow.sqlite`` -> ``shadow.audit.sqlite`` for bind ``audit``."""
        if self.path is None:
            return super().for_binds(binds)
        found: dict[str, Backend] = {}
        names: dict[str, str] = {self.path.name.lower(): "the main database"}
        for bind in binds:
            name = bind_file_name(self.path, bind)
            if name.lower() in names:  # case too: some file systems ignore it
                raise UsageError(
                    f"--database {self.path}: bind {bind!r} and {names[name.lower()]} would share {name}"
                )
            names[name.lower()] = f"bind {bind!r}"
            found[bind] = SQLiteFile(self.path.with_name(name))
        return found

    @contextmanager
    def throwaway(self, workdir: Path, first: bool) -> Iterator[ShadowDatabase]:
        path = self.path or workdir / "shadow.sqlite"
        if self.path is not None:
            _check_free(self.path)
        try:
            # O_EXCL claims the path atomically: an existing file is never opened, let alone removed.
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise UsageError(
                f"--database {path} already exists; choose a new path "
                "(the tool deletes only files it creates)"
            ) from None
        except OSError as exc:
            raise disk_error("--database: creating", exc) from None
        try:
            yield ShadowDatabase(URL.create("sqlite", database=str(path)), workdir, self)
        finally:
            for suffix in ("", *SIDE_FILES):  # none existed before: each is this run's
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def prepare_connection(self, dbapi_connection: Any) -> None:
        """A shadow database is rebuilt from scratch every run, so it needs no durability."""
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA journal_mode = MEMORY")
        cursor.close()

    def connect(self, shadow: ShadowDatabase) -> sqlite3.Connection:
        return sqlite3.connect(str(shadow.url.database))


def bind_file_name(path: Path, bind: str) -> str:
    """The name of a bind's file beside ``path``: the bind's name (what is not a letter, a digit,
    ``-`` or ``_`` becomes ``_``) between the name and its suffix."""
    return f"{path.stem}.{re.sub(r'[^A-Za-z0-9_-]', '_', bind)}{path.suffix}"


def _check_free(path: Path) -> None:
    """A user's path must be new, and so must the side files SQLite would take for its own."""
    if not path.parent.is_dir():
        raise UsageError(f"--database {path}: folder {path.parent} does not exist")
    leftover = next(
        (Path(f"{path}{suffix}") for suffix in SIDE_FILES if os.path.lexists(f"{path}{suffix}")), None
    )
    if leftover is not None:
        raise UsageError(
            f"--database {path}: {leftover} already exists, and SQLite would take it for the new "
            "database's own; choose another path (the tool deletes only files it creates)"
        )


@dataclass(frozen=True)
class SQLiteMemory(SQLite):
    """An in-memory database, shared by every connection in this process."""

    @contextmanager
    def throwaway(self, workdir: Path, first: bool) -> Iterator[ShadowDatabase]:
        # A named shared-cache memory database is visible to every connection in this process, so an
        # env.py that builds its own engine from the URL still sees it. The name is an absolute path
        # so Flask-SQLAlchemy does not rewrite it relative to the instance folder; mode=memory keeps
        # it off the file system. The database lives as long as one connection holds it: ours.
        if not FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS:
            raise UsageError(
                "--database :memory: needs Flask-SQLAlchemy 3.0 or later (2.x would make the in-memory "
                "database a file in the app's folder): give a file path, or leave --database out"
            )
        name = f"file:/flask-makemigrations-{uuid.uuid4().hex}"
        keeper = sqlite3.connect(f"{name}?mode=memory&cache=shared", uri=True)
        try:
            url = make_url(f"sqlite:///{name}?mode=memory&cache=shared&uri=true")
            yield ShadowDatabase(url, workdir, self)
        finally:
            keeper.close()

    def connect(self, shadow: ShadowDatabase) -> sqlite3.Connection:
        return sqlite3.connect(f"{shadow.url.database}?mode=memory&cache=shared", uri=True)


def _versions(snapshot: sqlite3.Connection) -> list[str] | None:
    """The revisions a snapshot's version table holds, or None without one.

    Found by its shape, one ``version_num`` column, not by name: a project may name it
    (``Migrate(app, db, version_table="...")``, or env.py's ``context.configure``).
    """
    for (table,) in snapshot.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        quoted = '"' + table.replace('"', '""') + '"'
        columns = [row[1] for row in snapshot.execute(f"PRAGMA table_info({quoted})")]
        if columns == ["version_num"]:
            return [row[0] for row in snapshot.execute(f"SELECT version_num FROM {quoted}")]
    return None
