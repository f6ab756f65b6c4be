"""A shadow database on a database server: what every server backend provides, and the lifecycle they
share -- create the database, hand out its URL, always drop it -- and ``prune``.

The database named in the ``--database`` URL is only ever connected to, to issue CREATE DATABASE and
DROP DATABASE (outside any transaction), and what the cache does with its own template databases
(``cache/postgresql_templates.py``); nothing is created, altered or dropped inside it. Server
failures become one-line errors that say what to do, and no message ever carries the password.
"""

import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Concatenate, TypeVar
from urllib.parse import quote, quote_plus

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from ..errors import Advice, MakemigrationsError, NextStep, ShadowDatabaseError, UsageError, attach_advice
from ..run.signals import uninterrupted
from .backend import Backend, ShadowDatabase
from .naming import ShadowName, is_leaked

_T = TypeVar("_T")

# The pip package that provides each SQLAlchemy driver, for "install X" messages.
DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "pg8000": "pg8000",
    "psycopg2cffi": "psycopg2cffi",
    "mysqldb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysqlconnector": "mysql-connector-python",
    "mariadbconnector": "mariadb",
}


#: The server backend whose administrative statement (CREATE, DROP, ALTER DATABASE, listing them) this
#: thread is running, so that the connection guard lets the tool's own connection to the database the
#: ``--database`` URL names through: that one database, and only meanwhile (the app's threads never
#: have it set).
administering: "ContextVar[ServerBackend | None]" = ContextVar("administering", default=None)

#: Seconds the administrative connection waits for a server that does not answer (unless the URL says).
CONNECT_TIMEOUT = 10


class Failure(Enum):
    """What went wrong while reaching the server, as far as a user can act on it."""

    UNREACHABLE = "unreachable"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_OWNER = "not owner"  # may not drop a database another role owns: no privilege grants that
    NO_DATABASE = "no database"
    #: The database the URL names, refused to a user the server does not tell whether it exists (MySQL).
    DATABASE_DENIED = "database denied"


@dataclass(frozen=True)
class ServerBackend(Backend):
    """A new database on the server a URL names: the statements and error vocabulary of one kind of
    server are the subclass's; making, dropping and pruning are shared."""

    url: URL  # the server, and the database to connect to for CREATE/DROP

    #: How messages name the server.
    title: ClassVar[str] = "server"
    #: A database that exists on every such server, to suggest when the URL names a missing one.
    maintenance_database: ClassVar[str] = ""
    builds_alongside: ClassVar[bool] = True

    @contextmanager
    def throwaway(self, workdir: Path, first: bool) -> Iterator[ShadowDatabase]:
        leaked: list[Advice] | None = [] if first else None
        with server_database(self, leaked) as deferred:
            url = deferred.server.url.set(database=deferred.name)
            yield ShadowDatabase(url, workdir, self, advice=leaked or [], deferred=deferred)

    def empty(self, shadow: ShadowDatabase) -> None:
        """Dropped, to be made again under its name (so the guard and ``prune`` know it as before) when
        next needed."""
        if shadow.deferred is not None:
            shadow.deferred.drop()

    @abstractmethod
    def how_to_allow(self, user: str) -> str:
        """What gives ``user`` the right to create (and drop) the shadow databases, and only that."""

    def admin_connect_args(self) -> dict[str, Any]:
        """Driver arguments for the administrative connection (a bounded connect, for one)."""
        return {}

    def create_database(self, connection: Connection, name: str, template: str | None = None) -> None:
        """An empty database ``name``, or a copy of the database ``template`` (PostgreSQL's)."""
        copied = "" if template is None else f" TEMPLATE {quoted(connection, template)}"
        connection.execute(text(f"CREATE DATABASE {quoted(connection, name)}{copied}"))

    @abstractmethod
    def end_other_sessions(self, connection: Connection, name: str) -> None:
        """End every other session on database ``name``, so it can be dropped."""

    def drop_database(self, connection: Connection, name: str) -> None:
        # PostgreSQL's DROP DATABASE waits a few seconds for terminated sessions to end.
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted(connection, name)}"))

    @abstractmethod
    def list_databases(self, connection: Connection) -> list[str]: ...

    def owned_by_others(self, connection: Connection) -> dict[str, str]:
        """``{database: the role that owns it}`` for each database the connected user may not drop
        because another role owns it; none on a server whose databases have no owner."""
        return {}

    @abstractmethod
    def failure(self, exc: DBAPIError) -> Failure | None:
        """What ``exc`` means for the user, or ``None`` when it is none of the known failures."""


@dataclass
class Server:
    """An administrative connection to a server, through the database the user named."""

    url: URL
    backend: ServerBackend
    engine: Engine

    @property
    def shown(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @property
    def user(self) -> str:
        return self.url.username or "the user"

    def run(self, doing: str, statement: Callable[Concatenate[Connection, ...], _T], *args: Any) -> _T:
        """Run one of the backend's statements in its own AUTOCOMMIT connection; errors become one line."""
        token = administering.set(self.backend)
        try:
            with self.engine.connect() as connection:
                return statement(connection, *args)
        except DBAPIError as exc:
            raise ShadowDatabaseError(self._explain(doing, exc)) from None
        finally:
            administering.reset(token)

    def drop(self, name: str) -> None:
        """End other sessions on ``name`` (ours were closed, an env.py's may not be), then drop it."""
        self.run(f"ending the sessions on {name}", self.backend.end_other_sessions, name)
        self.run(f"dropping the shadow database {name}", self.backend.drop_database, name)

    def scrub(self, message: str) -> str:
        """``message`` without the password, however a driver or library quoted it: SQLAlchemy
        before 2.1 writes a URL's password with ``%`` unquoted (an ``env.py`` error can quote it so)."""
        password = self.url.password
        if password:
            plain = str(password)
            for form in {plain, quote(plain, safe=""), quote_plus(plain), _as_sqlalchemy_writes(plain)}:
                message = message.replace(form, "***")
        return message

    def _explain(self, doing: str, exc: DBAPIError) -> str:
        kind = self.backend.failure(exc)
        reason = self.scrub(_first_line(str(exc.orig or exc)))
        title = self.backend.title
        if kind is Failure.UNREACHABLE:
            return f"cannot reach the {title} server at {self.shown}: {reason}"
        if kind is Failure.AUTHENTICATION:
            return f"authentication failed for {self.shown}: check the user name and password ({reason})"
        if kind is Failure.PERMISSION:
            allow = self.backend.how_to_allow(self.user)
            return f"{self.user} may not create databases on {self.shown}: {allow}"
        if kind is Failure.NOT_OWNER:
            owner_only = f"{self.user} does not own it ({reason}); drop it as its owner"
            return f"{doing} on {self.shown} failed: {owner_only}"
        if kind is Failure.NO_DATABASE:
            example = self.backend.maintenance_database
            return (
                f"{self.shown}: the database {self.url.database} does not exist; the URL must name an "
                f"existing database to connect to (it is not changed), e.g. {example}"
            )
        if kind is Failure.DATABASE_DENIED:
            return (
                f"{self.shown}: {self.user} may not open the database {self.url.database}: it does not "
                f"exist, or {self.user} has no privilege on it (the server does not say which); the URL "
                "must name an existing database to connect to that the user may open (it is not "
                f"changed), e.g. {self.backend.maintenance_database}"
            )
        return f"{doing} on {self.shown} failed: {reason}"


def _as_sqlalchemy_writes(password: str) -> str:
    """``password`` as this SQLAlchemy writes it in a URL (``render_as_string``)."""
    rendered = URL.create("x", username="u", password=password).render_as_string(hide_password=False)
    return rendered.removeprefix("x://u:").removesuffix("@")


@contextmanager
def connect(backend: ServerBackend) -> Iterator[Server]:
    """The server a ``--database`` URL names, with an engine that holds no idle connection."""
    engine = _admin_engine(backend.url, backend.admin_connect_args())
    try:
        yield Server(backend.url, backend, engine)
    finally:
        engine.dispose()


class Deferred:
    """A server's shadow database, made when it is first needed rather than before the app loads.

    A warm run makes it as a copy of the cached template (``make(template)``) instead of making an
    empty database before the app loads and dropping it for the copy: on PostgreSQL each
    ``CREATE DATABASE`` copies a whole database (0.2 s), and most apps never connect while loading.
    The guard makes it before any connection reaches it (``ShadowDatabase.make``); the session drops
    it at the end only if it may exist."""

    def __init__(self, server: Server, name: str):
        self.server = server
        self.name = name
        self.may_exist = False  # made, or its making began and was cut short
        self._lock = threading.Lock()  # verification builds the models in a thread of its own

    def make(self, template: str | None = None) -> bool:
        """Make the database, empty or as a copy of ``template``, unless it may exist already; whether
        this call made it. One the server refused leaves nothing to drop."""
        doing = f"restoring {self.name} from {template}" if template else "creating the shadow database"
        return self.make_by(doing, self.server.backend.create_database, template)

    def make_by(
        self, doing: str, statement: Callable[[Connection, str, str | None], None], given: str | None
    ) -> bool:
        """Make the database by ``statement(connection, its name, given)`` unless it may exist already;
        whether this call made it. A statement the server refused must leave nothing to drop."""
        with self._lock:
            if self.may_exist:
                return False
            self.may_exist = True
            try:
                self.server.run(doing, statement, self.name, given)
            except MakemigrationsError:
                self.may_exist = False
                raise
            return True

    def drop(self) -> None:
        """End the sessions on it and drop it, if it may exist; the next use makes it again."""
        with self._lock:
            if self.may_exist:
                self.server.drop(self.name)
                self.may_exist = False


@contextmanager
def server_database(backend: ServerBackend, leaked: list[Advice] | None = None) -> Iterator[Deferred]:
    """A fresh, uniquely named database on the server, made when first needed (``Deferred``); dropped
    on exit if it was made.

    ``leaked``, if given, receives the advice naming the shadow databases killed runs of this machine
    left on the server (what prune drops); a run asks once, and so learns at once that the server
    answers."""
    with connect(backend) as server:
        deferred = Deferred(server, str(ShadowName.new()))
        try:
            if leaked is not None:
                leaked.extend(_leaked_by_killed_runs(server))
            yield deferred
        except MakemigrationsError as exc:
            exc.args = (server.scrub(exc.args[0]), *exc.args[1:])
            _drop_after_failure(deferred, exc)
            raise
        except BaseException as exc:
            _drop_after_failure(deferred, exc)
            raise
        with uninterrupted():
            deferred.drop()


def _drop_after_failure(deferred: Deferred, leaving: BaseException) -> None:
    """Drop while another error is on its way out: a failed drop rides on that error as advice,
    never hides it."""
    try:
        with uninterrupted():
            deferred.drop()
    except ShadowDatabaseError as exc:
        shown = deferred.server.shown
        text = f"the shadow database {deferred.name} on {shown} was left behind ({exc}); {{command}} drops it"
        attach_advice(leaving, Advice(text, NextStep.PRUNE))


def _leaked_by_killed_runs(server: Server) -> list[Advice]:
    """Name the shadow databases that killed runs of this machine left on the server: what prune drops."""
    leaked, owners = _leaked_and_their_owners(server)
    advice = []
    droppable = [name for name in leaked if name not in owners]
    if droppable:
        text = (
            f"runs on this machine that were killed left shadow databases on {server.shown}: "
            f"{', '.join(droppable)}; {{command}} drops them"
        )
        advice.append(Advice(text, NextStep.PRUNE))
    if owners:  # prune, as this user, would fail on them: say who can drop them
        owned = ", ".join(f"{name} (owned by {owner})" for name, owner in owners.items())
        advice.append(
            Advice(
                f"runs on this machine that were killed left shadow databases on {server.shown} that "
                f"{server.user} may not drop: {owned}; drop them as their owner (prune with its URL)"
            )
        )
    return advice


def _leaked_and_their_owners(server: Server) -> tuple[list[str], dict[str, str]]:
    """The shadow databases killed runs of this machine left, and of those, the ones another role owns
    (with that role): the user cannot drop those, whatever its privileges."""
    listed = server.run("listing the databases", server.backend.list_databases)
    leaked = [name for name in listed if is_leaked(name)]
    if not leaked:
        return [], {}
    others = server.run("reading who owns the databases", server.backend.owned_by_others)
    return leaked, {name: others[name] for name in leaked if name in others}


@dataclass
class PruneResult:
    dropped: list[str] = field(default_factory=list)  # names of the leaked databases dropped
    failures: list[str] = field(default_factory=list)  # one line per database that could not be dropped


def prune(backend: ServerBackend) -> PruneResult:
    """Drop the shadow databases this machine leaked (their process is gone), and nothing else."""
    result = PruneResult()
    with connect(backend) as server:
        leaked, owners = _leaked_and_their_owners(server)
        for name in leaked:
            if name in owners:  # no privilege lets this user drop it: not a missing CREATEDB
                result.failures.append(
                    f"the shadow database {name} on {server.shown} belongs to role {owners[name]}, and "
                    f"{server.user} may drop only the databases it owns: drop it as {owners[name]} "
                    "(prune with its URL)"
                )
                continue
            try:
                server.drop(name)
            except ShadowDatabaseError as exc:
                result.failures.append(str(exc))
            else:
                result.dropped.append(name)
    return result


def _admin_engine(url: URL, connect_args: dict[str, Any]) -> Engine:
    """AUTOCOMMIT (CREATE/DROP DATABASE refuse transactions) and no pool: nothing stays connected."""
    try:
        dialect_class = url.get_dialect()
    except NoSuchModuleError:
        raise UsageError(
            f"--database: SQLAlchemy has no driver {url.drivername!r} "
            f"({url.render_as_string(hide_password=True)})"
        ) from None
    if getattr(dialect_class, "is_async", False):
        raise UsageError(f"--database: {url.drivername} is an asyncio driver; use a synchronous one")
    try:
        return create_engine(
            url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT", connect_args=connect_args
        )
    except ImportError as exc:
        driver = dialect_class.driver
        package = DRIVER_PACKAGES.get(driver, getattr(exc, "name", None) or driver)
        raise ShadowDatabaseError(
            f"the {url.drivername} driver is not installed ({exc}): pip install '{package}'"
        ) from None


def quoted(connection: Connection, name: str) -> str:
    """A database name as this server's SQL spells it."""
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text.strip()
