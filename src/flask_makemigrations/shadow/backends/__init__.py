"""The shadow database backends, and the one list of them.

``--database`` is parsed here, once: nothing given is a SQLite file in the run's private temporary
folder, ``:memory:`` an in-memory SQLite database, a URL (``postgresql://...``, ``mysql://...``,
``mariadb://...``) a new database on that server, anything else the path of a new SQLite file. A
URL's password never appears in an error.
"""

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ...errors import UsageError
from ..backend import Backend
from ..server import ServerBackend
from .mysql import MariaDB, MySQL
from .postgresql import PostgreSQL
from .sqlite import SQLite, SQLiteFile, SQLiteMemory

#: Every server a ``--database`` URL may name, by SQLAlchemy's backend name.
SERVERS: dict[str, type[ServerBackend]] = {backend.name: backend for backend in (PostgreSQL, MySQL, MariaDB)}

MEMORY = ":memory:"


def parse_database(given: str | None) -> Backend:
    """The backend ``--database`` asks for (``None``: the option was not given)."""
    if given is None:
        return SQLiteFile()
    if given == MEMORY:
        return SQLiteMemory()
    if "://" in given:
        url = _url(given)
        backend = url.get_backend_name()
        if backend == SQLite.name:
            raise UsageError("--database: for SQLite give a file path or :memory:, not a URL")
        if backend not in SERVERS:
            raise UsageError(
                f"--database: {backend} servers are not supported yet (supported: {', '.join(SERVERS)})"
            )
        return SERVERS[backend](url)
    return SQLiteFile(Path(given).absolute())


def _url(given: str) -> URL:
    try:
        return make_url(given)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        shown = given.split("@")[-1]  # whatever precedes '@' may hold a password
        raise UsageError(f"--database: not a database URL (...@{shown})") from None
