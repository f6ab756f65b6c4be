"""A guard on every SQLAlchemy connection and every ``sqlite3.connect``: only the run's throwaway
databases may be reached (and, for the tool's own CREATE and DROP DATABASE, the server's database
that ``--database`` names).

Looking at the app's engines after loading is not enough: a factory may connect at import time and an
``env.py`` may build its own engine. ``do_connect`` runs before the driver opens anything, so a
foreign database is never read, written, or even created (SQLite creates missing files on connect).
Apps also open SQLite files with Python's own ``sqlite3`` module, past SQLAlchemy: its ``connect`` is
wrapped too, and lets through in-memory databases (they touch no file) and files in the folders the
tool owns (the run's temporary folders, the shadow cache), nothing else.
"""

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import event
from sqlalchemy.engine import URL, Dialect, Engine

from ..dialects import impl_for
from ..errors import ForeignDatabaseError, MigrationError
from ..shadow.backend import ShadowDatabase
from ..shadow.server import administering

if TYPE_CHECKING:  # annotations only: SQLAlchemy 2.0 names (1.4 is supported too), typeshed's
    from _typeshed import StrOrBytesPath
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

    from ..shadow.backend import Backend

_Connect = TypeVar("_Connect", bound=Callable[..., sqlite3.Connection])


def reaches(
    shadow: ShadowDatabase, dialect: Dialect, cargs: Sequence[Any], cparams: Mapping[str, Any]
) -> bool:
    """Whether a connection with these driver arguments reaches ``shadow``, in its backend's terms."""
    return _reaches_url(shadow.backend, shadow.url, dialect, cargs, cparams)


def _reaches_url(
    backend: "Backend", url: URL, dialect: Dialect, cargs: Sequence[Any], cparams: Mapping[str, Any]
) -> bool:
    """Whether a connection with these driver arguments reaches the database ``url`` names."""
    if dialect.name != backend.name:
        return False
    known = impl_for(backend.name)  # which arguments name the database, in its drivers' spellings
    return known.identity(cargs, cparams) == known.identity(*dialect.create_connect_args(url))


class ConnectionGuard:
    """Refuses every connection whose target is none of the throwaway databases the run made (the
    shadow database of each of the app's databases, and those verification builds the models in)."""

    def __init__(self, hint: str, owned_folders: Iterable[Path] = ()):
        self.hint = hint
        self.refused: list[str] = []
        self.shadows: list[ShadowDatabase] = []
        self.owned_folders = [_real(folder) for folder in owned_folders]

    @contextmanager
    def allowing(self, shadow: ShadowDatabase) -> Iterator[None]:
        """Let connections reach a throwaway database the run made, and ``sqlite3`` open its folder."""
        folder = _real(shadow.workdir)
        self.shadows.append(shadow)
        self.owned_folders.append(folder)
        try:
            yield
        finally:
            self.shadows.remove(shadow)
            self.owned_folders.remove(folder)

    def do_connect(
        self,
        dialect: Dialect,
        connection_record: "ConnectionPoolEntry",
        cargs: Sequence[Any],
        cparams: dict[str, Any],
    ) -> "DBAPIConnection":
        admin = administering.get()
        # The database a --database URL names, while the tool itself runs a statement there.
        if admin is not None and _reaches_url(admin, admin.url, dialect, cargs, cparams):
            return dialect.connect(*cargs, **cparams)  # the tool's own CREATE or DROP DATABASE
        target = next((shadow for shadow in self.shadows if reaches(shadow, dialect, cargs, cparams)), None)
        if target is None:
            shown = impl_for(dialect.name).describe(dialect.name, cargs, cparams)
            self.refused.append(shown)
            raise ForeignDatabaseError(
                f"refused a connection to {shown}: only the run's shadow databases may be used; {self.hint}"
            )
        _refuse_a_hidden_password(target, dialect, cparams)
        target.make()  # a server's is made when first reached (``server.Deferred``)
        connection = dialect.connect(*cargs, **cparams)
        target.backend.prepare_connection(connection)
        return connection

    def allows_sqlite_file(self, path: Path) -> bool:
        """A SQLite file the tool owns: a shadow database, or one in the run's or the cache's folders."""
        databases = [s.url.database for s in self.shadows if impl_for(s.backend.name).databases_are_files]
        if path in {_real(database) for database in databases if database}:
            return True
        return any(folder == path or folder in path.parents for folder in self.owned_folders)

    def guarded_sqlite_connect(self, connect: _Connect) -> _Connect:
        """``sqlite3.connect`` that refuses, before SQLite opens (or creates) it, a file not ours."""

        def guarded(database: "StrOrBytesPath", *args: Any, **kwargs: Any) -> sqlite3.Connection:
            path = _sqlite_file(database, kwargs.get("uri", len(args) > 6 and args[6]))
            if path is not None and not self.allows_sqlite_file(path):
                shown = f"sqlite3.connect({str(path)!r})"
                self.refused.append(shown)
                raise ForeignDatabaseError(
                    f"refused {shown}: only the run's shadow databases may be used; {self.hint}"
                )
            return connect(database, *args, **kwargs)

        # A transparent wrapper (connect's arguments, connect's result), so it has connect's type:
        # typeshed's overloads of sqlite3.connect, which it replaces.
        return cast(_Connect, guarded)


#: How ``str(url)`` writes a password from SQLAlchemy 2.0 on (``render_as_string``'s default).
HIDDEN_PASSWORD = "***"


def _refuse_a_hidden_password(shadow: ShadowDatabase, dialect: Dialect, cparams: Mapping[str, Any]) -> None:
    """Refuse a connection to ``shadow`` that carries the password as ``str(url)`` hides it.

    Flask-Migrate 2.x's ``env.py`` makes its own engine from ``str(db.engine.url)``: on SQLAlchemy 2
    the server would refuse the password (``flask db upgrade`` fails the same way on any database
    behind one), and its words, "password authentication failed", would blame the URL the user gave.
    """
    _, own = dialect.create_connect_args(shadow.url)
    if any(value == HIDDEN_PASSWORD != own.get(name) for name, value in cparams.items()):
        raise MigrationError(
            f"a connection to the shadow database came with the password hidden as {HIDDEN_PASSWORD!r}: an "
            "engine made from str(url), which SQLAlchemy 2 writes without the password (Flask-Migrate "
            "2.x's env.py makes one so, and flask db upgrade fails the same way behind a password); "
            "write url.render_as_string(hide_password=False) there, as Flask-Migrate 4's env.py does"
        )


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def _sqlite_file(database: "StrOrBytesPath", uri: bool) -> Path | None:
    """The file a ``sqlite3.connect`` argument opens, or None for an in-memory database."""
    name = os.fsdecode(database) if isinstance(database, bytes | os.PathLike) else str(database)
    if uri and name.startswith("file:"):
        parts = urlsplit(name)
        if "memory" in parse_qs(parts.query).get("mode", []) or parts.path in ("", ":memory:"):
            return None
        name = unquote(parts.path)  # SQLite decodes a URI's %HH escapes (a space, a non-ASCII letter)
    if name in ("", ":memory:"):
        return None
    return _real(name)


@contextmanager
def only_shadow_connections(hint: str, owned_folders: Iterable[Path] = ()) -> Iterator[ConnectionGuard]:
    """Install the guard on every engine, existing or future, and on ``sqlite3.connect`` (both names
    of it: SQLAlchemy calls ``sqlite3.dbapi2.connect``), for the duration of the block. Nothing is
    allowed until a throwaway database is (``ConnectionGuard.allowing``)."""
    guard = ConnectionGuard(hint, owned_folders)
    original = sqlite3.dbapi2.connect
    event.listen(Engine, "do_connect", guard.do_connect)
    sqlite3.connect = sqlite3.dbapi2.connect = guard.guarded_sqlite_connect(original)
    try:
        yield guard
    finally:
        sqlite3.connect = sqlite3.dbapi2.connect = original
        event.remove(Engine, "do_connect", guard.do_connect)
