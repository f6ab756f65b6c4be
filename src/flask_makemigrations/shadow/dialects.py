"""What differs between database servers: the SQL to create, list and drop databases, and how a
driver's error reads.

One small strategy per backend, so MySQL/MariaDB can follow by adding a class here, without
touching the shadow database's lifecycle (``shadow.server``) or its callers.
"""

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from ..errors import UsageError

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

CONNECT_TIMEOUT = 10  # seconds

# What went wrong while reaching the server, as far as a user can act on it.
UNREACHABLE = "unreachable"
AUTHENTICATION = "authentication"
PERMISSION = "permission"
NO_DATABASE = "no database"


class ServerDialect:
    """The statements and error vocabulary of one kind of server."""

    title = "server"
    #: A database that exists on every such server, to suggest when the URL names a missing one.
    maintenance_database = ""

    def admin_connect_args(self, url: URL) -> dict:
        """Driver arguments for the administrative connection (a bounded connect, for one)."""
        return {}

    def create(self, connection: Connection, name: str) -> None:
        raise NotImplementedError

    def terminate_others(self, connection: Connection, name: str) -> None:
        """End every other session on database ``name``, so it can be dropped."""
        raise NotImplementedError

    def drop(self, connection: Connection, name: str) -> None:
        raise NotImplementedError

    def list_databases(self, connection: Connection) -> list[str]:
        raise NotImplementedError

    def failure_kind(self, exc: BaseException) -> str | None:
        """One of the constants above, or ``None`` when the error is none of them."""
        raise NotImplementedError


class PostgreSQL(ServerDialect):
    title = "PostgreSQL"
    maintenance_database = "postgres"

    def admin_connect_args(self, url: URL) -> dict:
        # Cleanup ignores Ctrl-C, so a server that stopped answering must not hang it for minutes.
        if url.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in url.query:
            return {"connect_timeout": CONNECT_TIMEOUT}
        return {}

    def create(self, connection: Connection, name: str) -> None:
        connection.execute(text(f"CREATE DATABASE {self._quoted(connection, name)}"))

    def terminate_others(self, connection: Connection, name: str) -> None:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )

    def drop(self, connection: Connection, name: str) -> None:
        # DROP DATABASE waits a few seconds for terminated sessions to end before giving up.
        connection.execute(text(f"DROP DATABASE IF EXISTS {self._quoted(connection, name)}"))

    def list_databases(self, connection: Connection) -> list[str]:
        rows = connection.execute(text("SELECT datname FROM pg_database WHERE NOT datistemplate"))
        return sorted(row[0] for row in rows)

    def failure_kind(self, exc: BaseException) -> str | None:
        # Through some drivers libpq reports connection failures without an SQLSTATE; the message
        # is what every driver has.
        orig = getattr(exc, "orig", None) or exc
        message = str(orig)
        state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
        if state in ("28P01", "28000") or "authentication failed" in message:
            return AUTHENTICATION
        if state == "42501" or "permission denied to create database" in message:
            return PERMISSION
        if state == "3D000" or ("database" in message and "does not exist" in message):
            return NO_DATABASE
        if any(marker in message for marker in _UNREACHABLE_MARKERS):
            return UNREACHABLE
        return None

    @staticmethod
    def _quoted(connection: Connection, name: str) -> str:
        return connection.dialect.identifier_preparer.quote_identifier(name)


_UNREACHABLE_MARKERS = (
    "Connection refused",
    "could not connect",
    "could not translate host name",
    "Name or service not known",
    "No route to host",
    "timeout expired",
    "Network is unreachable",
    "server closed the connection unexpectedly",
)

_DIALECTS = {"postgresql": PostgreSQL}


def server_dialect(url: URL) -> ServerDialect:
    """The strategy for ``url``'s backend, or a one-line error naming the supported ones."""
    backend = url.get_backend_name()  # a SQLite URL was refused as --database was parsed (spec.py)
    if backend not in _DIALECTS:
        raise UsageError(
            f"--database: {backend} servers are not supported yet (supported: {', '.join(_DIALECTS)})"
        )
    return _DIALECTS[backend]()
