"""What every kind of shadow database provides: the interface each backend in ``backends/``
implements, and the database one of them made for a run.

A backend is what ``--database`` asked for, parsed once (``backends.parse_database``): it makes and
always removes the throwaway database, renders the URL an app receives, says which database a
driver's connect arguments reach (for the connection guard), normalizes what its reflection reports
(for verification's schema comparison), and makes what the cache keeps of it where it can (SQLite's
backups). Adding a backend means one module in ``backends/`` and one entry in its list; one whose
databases the cache keeps snapshots of adds their store in ``cache/``.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import MetaData
from sqlalchemy.engine import URL, Connection

from ..errors import Advice


@dataclass
class ShadowDatabase:
    """A database that exists only for one run, made by ``backend``."""

    url: URL
    workdir: Path  # the run's private temporary folder
    backend: "Backend"
    #: What the user should know about where it is (shadow databases killed runs left on a server).
    advice: list[Advice] = field(default_factory=list)

    @property
    def url_string(self) -> str:
        """The URL as an app must receive it (with its password, unlike ``str(url)``)."""
        return self.backend.app_url(self.url)


class Backend(ABC):
    """One kind of shadow database. Class-level methods serve the guard and the schema comparison,
    which meet connections of any dialect; an instance is one ``--database`` request."""

    #: SQLAlchemy's backend name (``URL.get_backend_name()``, ``Dialect.name``).
    name: ClassVar[str] = ""
    #: The connect arguments that say *which* database a connection reaches (as opposed to how), in
    #: every driver's spelling: psycopg's ``dbname``, pg8000's ``database`` and ``unix_sock``,
    #: mysqlclient's ``db``, PyMySQL's and the MariaDB connector's ``database``, ``unix_socket``.
    identifying_params: ClassVar[tuple[str, ...]] = (
        "host",
        "port",
        "dbname",
        "db",
        "database",
        "unix_socket",
        "unix_sock",
    )
    #: Of those, the ones that name the database, in the order drivers prefer them.
    database_params: ClassVar[tuple[str, ...]] = ("dbname", "db", "database")
    #: Whether verification builds the models' database in a thread while it migrates and reflects the
    #: shadow database: a server's work is mostly waiting for its answers, which a thread overlaps;
    #: SQLite's is this process's own, which a thread would only share.
    builds_alongside: ClassVar[bool] = False

    @abstractmethod
    def throwaway(self, workdir: Path, first: bool) -> AbstractContextManager[ShadowDatabase]:
        """Make the database, yield it, and remove it whatever ends the block. ``first`` is False for a
        run's further databases, which need not report what killed runs left behind."""

    def second(self) -> "Backend":
        """Where a second throwaway database goes (verification builds one from the models): beside
        this one, never at a user's path."""
        return self

    def for_binds(self, binds: Sequence[str]) -> "dict[str, Backend]":
        """Where each bind's shadow database goes: by default, one more like this one (each throwaway
        database has a name, or a folder, of its own)."""
        return {bind: self for bind in binds}

    def app_url(self, url: URL) -> str:
        return url.render_as_string(hide_password=False)

    def check_isolated(self, metadata: MetaData) -> None:  # noqa: B027 (most have nothing to refuse)
        """Refuse models that this kind of database could only build outside the shadow database."""

    def prepare_connection(self, dbapi_connection: Any) -> None:  # noqa: B027 (most need nothing)
        """Called on every new DBAPI connection to the shadow database (SQLite's speed pragmas)."""

    @classmethod
    def identity(
        cls, cargs: Sequence[Any], cparams: Mapping[str, Any]
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """What makes two connections reach the same database: the positional connect arguments and
        the identifying keyword ones (``identifying_params``: by default every driver's spelling, which a
        backend narrows to its own drivers')."""
        identifying = tuple((k, str(cparams[k])) for k in cls.identifying_params if k in cparams)
        return tuple(str(a) for a in cargs), identifying

    @classmethod
    def describe(cls, dialect_name: str, cargs: Sequence[Any], cparams: Mapping[str, Any]) -> str:
        """A URL for an error message, built from a driver's arguments, never with a password."""
        database = next((cparams[k] for k in cls.database_params if cparams.get(k)), None)
        return URL.create(
            dialect_name,
            username=cparams.get("user") or cparams.get("username"),  # the MariaDB connector's
            host=cparams.get("host"),
            port=cparams.get("port"),
            database=database,
        ).render_as_string(hide_password=True)

    @classmethod
    def normalized_default(cls, text: str) -> str:
        """A reflected server default as it compares: ``'x'``, ``('x')`` and ``x`` are the same."""
        value = text.strip()
        previous = None
        while value != previous:
            previous = value
            value = unwrap_parentheses(cls.without_cast(value))
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1].replace("''", "'")
        return value

    @classmethod
    def without_cast(cls, default: str) -> str:
        """A server default without the type cast this database writes after a literal, if any."""
        return default

    @classmethod
    def normalized_sql(cls, text: str) -> str:
        """Reflected SQL (a CHECK, an index expression) without the layout and the enclosing
        parentheses that databases add."""
        return unwrap_parentheses(" ".join(text.split()))

    @abstractmethod
    def empty(self, shadow: ShadowDatabase) -> None:
        """Make ``shadow`` as empty as it was made (squash builds a second history in it); the app's
        connections to it must be closed first."""

    @classmethod
    def table_fingerprints(cls, connection: Connection) -> dict[str, str] | None:
        """A digest per table of everything that reflecting it reads, where this kind of database can
        tell in one query: a table whose digest did not change reflects the same. None: it cannot
        (every table is reflected each time)."""
        return None


def unwrap_parentheses(text: str) -> str:
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
