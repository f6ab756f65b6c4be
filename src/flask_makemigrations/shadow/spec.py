"""What ``--database`` asks for, parsed once: where every other module learns which kind of shadow
database a run makes.

Nothing given: a SQLite file in the run's private temporary folder. ``:memory:``: an in-memory SQLite
database. A URL (``postgresql://...``): a new database on that server. Anything else: the path of a
new SQLite file. A URL's password never appears in an error.
"""

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import UsageError

MEMORY = ":memory:"


class Kind(Enum):
    TEMPORARY_FILE = "temporary file"
    FILE = "file"
    MEMORY = "memory"
    SERVER = "server"


@dataclass(frozen=True)
class DatabaseSpec:
    kind: Kind
    path: Path | None = None  # FILE: where the user wants it
    url: URL | None = None  # SERVER: the server, and the database to connect to for CREATE/DROP

    @classmethod
    def parse(cls, given: str | None) -> "DatabaseSpec":
        if given is None:
            return cls(Kind.TEMPORARY_FILE)
        if given == MEMORY:
            return cls(Kind.MEMORY)
        if "://" in given:
            return cls(Kind.SERVER, url=_server_url(given))
        return cls(Kind.FILE, path=Path(given).absolute())

    def second(self) -> "DatabaseSpec":
        """Where a second throwaway database goes (verification builds one from the models): beside
        this one, never at a user's path. A server gets another database, memory stays in memory, a
        file path becomes a temporary file."""
        return self if self.kind in (Kind.SERVER, Kind.MEMORY) else DatabaseSpec(Kind.TEMPORARY_FILE)


def _server_url(given: str) -> URL:
    try:
        url = make_url(given)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        shown = given.split("@")[-1]  # whatever precedes '@' may hold a password
        raise UsageError(f"--database: not a database URL (...@{shown})") from None
    if url.get_backend_name() == "sqlite":
        raise UsageError("--database: for SQLite give a file path or :memory:, not a URL")
    return url
