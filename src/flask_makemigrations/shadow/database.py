"""Shadow database lifecycle: create a throwaway database, hand out its URL, always remove it.

Every run gets its own private temporary directory (``workdir``); the default SQLite shadow file and
the staging copy of the migrations live there, so nothing appears inside the project tree and two
concurrent runs can never share or remove each other's files. Its name says which process made it, so
each run first removes the folders that runs killed with SIGKILL left behind.
"""

import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ..errors import UsageError, disk_error, on_disk
from .naming import remove_leaked_workdirs, workdir_prefix
from .server import server_database
from .spec import DatabaseSpec, Kind


@dataclass
class ShadowDatabase:
    """A database that exists only for one run."""

    url: URL
    workdir: Path
    description: str
    #: Called on every new DBAPI connection to the shadow database (SQLite speed pragmas).
    prepare_connection: Callable[[object], None] = field(default=lambda dbapi_connection: None)
    #: A raw connection to a SQLite shadow database, for the shadow cache's backup API; None on servers.
    open_sqlite: Callable[[], sqlite3.Connection] | None = None
    #: What the user should know about the server it is on (shadow databases killed runs left there).
    advice: list = field(default_factory=list)

    @property
    def url_string(self) -> str:
        """The URL as an app must receive it: with its password, unlike ``str(url)``.

        A SQLite path is given as is, not percent-escaped (SQLAlchemy 2.1 escapes the ``:`` of an
        in-memory ``file:`` name): old ``env.py`` templates put the URL into Alembic's config
        unescaped, where ``%`` starts an interpolation.
        """
        if self.url.get_backend_name() == "sqlite":
            query = "&".join(f"{key}={value}" for key, value in self.url.query.items())
            return f"sqlite:///{self.url.database}" + (f"?{query}" if query else "")
        return self.url.render_as_string(hide_password=False)


@contextmanager
def shadow_database(spec: DatabaseSpec, first: bool = True) -> Iterator[ShadowDatabase]:
    """Create the shadow database ``spec`` asks for (``--database``) and remove it on exit.

    A SQLite file in a fresh private temporary directory, an in-memory SQLite database shared by
    every connection in this process, a new database on a server, or a SQLite file at a path that
    must not exist yet. ``first`` is False for a run's further databases: the leftovers of killed
    runs are removed, and those on a server named, once.
    """
    with on_disk("creating a private temporary folder (in $TMPDIR, else /tmp)"):
        root = Path(tempfile.gettempdir())  # the first of them that can be written to
        if first:  # once a run is enough
            remove_leaked_workdirs(root)
        workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix(), dir=root))
    try:
        if spec.kind is Kind.SERVER and spec.url is not None:
            leaked: list | None = [] if first else None
            with server_database(spec.url, leaked) as url:
                description = f"{url.get_backend_name()} database {url.database}"
                yield ShadowDatabase(url, workdir, description, advice=leaked or [])
        elif spec.kind is Kind.MEMORY:
            with _memory_sqlite(workdir) as shadow:
                yield shadow
        else:
            chosen = spec.kind is Kind.FILE and spec.path is not None
            path = spec.path if chosen and spec.path is not None else workdir / "shadow.sqlite"
            with _file_sqlite(path, workdir, chosen) as shadow:
                yield shadow
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _throwaway_pragmas(dbapi_connection) -> None:
    """A shadow database is rebuilt from scratch every run, so it needs no durability."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA journal_mode = MEMORY")
    cursor.close()


#: The files SQLite keeps beside a database; a leftover one would be taken for the new file's own.
SIDE_FILES = ("-journal", "-wal", "-shm")


@contextmanager
def _file_sqlite(path: Path, workdir: Path, chosen_by_user: bool) -> Iterator[ShadowDatabase]:
    if chosen_by_user and not path.parent.is_dir():
        raise UsageError(f"--database {path}: folder {path.parent} does not exist")
    leftover = next(
        (Path(f"{path}{suffix}") for suffix in SIDE_FILES if os.path.lexists(f"{path}{suffix}")), None
    )
    if leftover is not None:
        raise UsageError(
            f"--database {path}: {leftover} already exists, and SQLite would take it for the new "
            "database's own; choose another path (the tool deletes only files it creates)"
        )
    try:
        # O_EXCL claims the path atomically: an existing file is never opened, let alone removed.
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise UsageError(
            f"--database {path} already exists; choose a new path (the tool deletes only files it creates)"
        ) from None
    except OSError as exc:
        raise disk_error("--database: creating", exc) from None
    try:
        yield ShadowDatabase(
            url=URL.create("sqlite", database=str(path)),
            workdir=workdir,
            description=f"SQLite file {path}" if chosen_by_user else "temporary SQLite file",
            prepare_connection=_throwaway_pragmas,
            open_sqlite=lambda: sqlite3.connect(path),
        )
    finally:
        for suffix in ("", *SIDE_FILES):  # none existed before: each is this run's
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _memory_sqlite(workdir: Path) -> Iterator[ShadowDatabase]:
    # A named shared-cache memory database is visible to every connection in this process, so an
    # env.py that builds its own engine from the URL still sees it. The name is an absolute path so
    # Flask-SQLAlchemy does not rewrite it relative to the instance folder; mode=memory keeps it off
    # the file system. The database lives as long as one connection holds it: ours.
    name = f"file:/flask-makemigrations-{uuid.uuid4().hex}"
    uri = f"{name}?mode=memory&cache=shared"
    keeper = sqlite3.connect(uri, uri=True)
    try:
        yield ShadowDatabase(
            url=make_url(f"sqlite:///{name}?mode=memory&cache=shared&uri=true"),
            workdir=workdir,
            description="in-memory SQLite database",
            open_sqlite=lambda: sqlite3.connect(uri, uri=True),
        )
    finally:
        keeper.close()
