"""A shadow database on a database server: create it, hand out its URL, always drop it; and ``prune``.

The database named in the ``--database`` URL is only ever connected to, to issue CREATE DATABASE and
DROP DATABASE (outside any transaction); nothing is created, altered or dropped inside it. Server
failures become one-line errors that say what to do, and no message ever carries the password.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from ..errors import Advice, MakemigrationsError, NextStep, ShadowDatabaseError, UsageError, attach_advice
from ..run.signals import uninterrupted
from . import dialects
from .naming import ShadowName, is_leaked


@dataclass
class Server:
    """An administrative connection to a server, through the database the user named."""

    url: URL
    dialect: dialects.ServerDialect
    engine: Engine

    @property
    def shown(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def run(self, doing: str, statement: Callable, *args):
        """Run one dialect statement in its own AUTOCOMMIT connection; errors become one line."""
        try:
            with self.engine.connect() as connection:
                return statement(connection, *args)
        except DBAPIError as exc:
            raise ShadowDatabaseError(self._explain(doing, exc)) from None

    def drop(self, name: str) -> None:
        """End other sessions on ``name`` (ours were closed, an env.py's may not be), then drop it."""
        self.run(f"ending the sessions on {name}", self.dialect.terminate_others, name)
        self.run(f"dropping the shadow database {name}", self.dialect.drop, name)

    def scrub(self, message: str) -> str:
        """``message`` without the password, however a driver or library quoted it."""
        password = self.url.password
        if password:
            for form in {str(password), quote(str(password), safe=""), quote_plus(str(password))}:
                message = message.replace(form, "***")
        return message

    def _explain(self, doing: str, exc: DBAPIError) -> str:
        kind = self.dialect.failure_kind(exc)
        reason = self.scrub(_first_line(str(exc.orig or exc)))
        title = self.dialect.title
        if kind == dialects.UNREACHABLE:
            return f"cannot reach the {title} server at {self.shown}: {reason}"
        if kind == dialects.AUTHENTICATION:
            return f"authentication failed for {self.shown}: check the user name and password ({reason})"
        if kind == dialects.PERMISSION:
            user = self.url.username or "the user"
            return (
                f"role {user} may not create databases on {self.shown}: grant it CREATEDB "
                f"(ALTER ROLE {user} CREATEDB) or use a role that has it"
            )
        if kind == dialects.NO_DATABASE:
            example = self.dialect.maintenance_database
            return (
                f"{self.shown}: the database {self.url.database} does not exist; the URL must name an "
                f"existing database to connect to (it is not changed), e.g. {example}"
            )
        return f"{doing} on {self.shown} failed: {reason}"


@contextmanager
def connect(url: URL) -> Iterator[Server]:
    """The server a ``--database`` URL names, with an engine that holds no idle connection."""
    dialect = dialects.server_dialect(url)
    engine = _admin_engine(url, dialect.admin_connect_args(url))
    try:
        yield Server(url, dialect, engine)
    finally:
        engine.dispose()


@contextmanager
def server_database(url: URL, leaked: list | None = None) -> Iterator[URL]:
    """Create a fresh, uniquely named database on the server; yield its URL; drop it on exit.

    ``leaked``, if given, receives the advice naming the shadow databases killed runs of this machine
    left on the server (what prune drops); a run asks once."""
    with connect(url) as server:
        name = str(ShadowName.new())
        try:
            server.run("creating the shadow database", server.dialect.create, name)
        except MakemigrationsError:
            raise  # refused by the server: nothing was created
        except BaseException as exc:
            _drop_after_failure(server, name, exc)  # interrupted mid-statement: it may exist
            raise
        try:
            if leaked is not None:
                leaked.extend(_leaked_by_killed_runs(server))
            yield server.url.set(database=name)
        except MakemigrationsError as exc:
            exc.args = (server.scrub(exc.args[0]), *exc.args[1:])
            _drop_after_failure(server, name, exc)
            raise
        except BaseException as exc:
            _drop_after_failure(server, name, exc)
            raise
        with uninterrupted():
            server.drop(name)


def _drop_after_failure(server: Server, name: str, leaving: BaseException) -> None:
    """Drop while another error is on its way out: a failed drop rides on that error as advice,
    never hides it."""
    try:
        with uninterrupted():
            server.drop(name)
    except ShadowDatabaseError as exc:
        text = f"the shadow database {name} on {server.shown} was left behind ({exc}); {{command}} drops it"
        attach_advice(leaving, Advice(text, NextStep.PRUNE))


def _leaked_by_killed_runs(server: Server) -> list[Advice]:
    """Name the shadow databases that killed runs of this machine left on the server: what prune drops."""
    listed = server.run("listing the databases", server.dialect.list_databases)
    leaked = [name for name in listed if is_leaked(name)]
    if not leaked:
        return []
    text = (
        f"runs on this machine that were killed left shadow databases on {server.shown}: "
        f"{', '.join(leaked)}; {{command}} drops them"
    )
    return [Advice(text, NextStep.PRUNE)]


@dataclass
class PruneResult:
    dropped: list = field(default_factory=list)  # names of the leaked databases dropped
    failures: list = field(default_factory=list)  # one line per database that could not be dropped


def prune(url: URL) -> PruneResult:
    """Drop the shadow databases this machine leaked (their process is gone), and nothing else."""
    result = PruneResult()
    with connect(url) as server:
        names = server.run("listing the databases", server.dialect.list_databases)
        for name in names:
            if not is_leaked(name):
                continue
            try:
                server.drop(name)
            except ShadowDatabaseError as exc:
                result.failures.append(str(exc))
            else:
                result.dropped.append(name)
    return result


def _admin_engine(url: URL, connect_args: dict) -> Engine:
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
        package = dialects.DRIVER_PACKAGES.get(driver, getattr(exc, "name", None) or driver)
        raise ShadowDatabaseError(
            f"the {url.drivername} driver is not installed ({exc}): pip install '{package}'"
        ) from None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text.strip()
