"""MySQL and MariaDB: a new database on the server for each run, through any of their drivers
(PyMySQL, mysqlclient, the MariaDB connector).

A ``mariadb://`` URL is SQLAlchemy's MariaDB dialect, a ``mysql://`` one its MySQL dialect (which
also speaks to MariaDB); both are this backend, under their own names, since the connection guard
compares dialect names.
"""

import contextlib
from typing import Any

from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ...errors import AppLoadError, UsageError
from ..naming import PREFIX
from ..server import CONNECT_TIMEOUT, Failure, ServerBackend

#: The server's and the client library's error numbers, as every driver reports them.
_FAILURES = {
    1045: Failure.AUTHENTICATION,  # access denied for user (using password: ...)
    1044: Failure.PERMISSION,  # access denied for user to database (see failure() for the URL's)
    1227: Failure.PERMISSION,  # access denied; you need (at least one of) the ... privilege(s)
    1049: Failure.NO_DATABASE,  # unknown database
    2002: Failure.UNREACHABLE,  # can't connect through socket
    2003: Failure.UNREACHABLE,  # can't connect to server (refused, timed out)
    2005: Failure.UNREACHABLE,  # unknown server host
    2006: Failure.UNREACHABLE,  # server has gone away
    2013: Failure.UNREACHABLE,  # lost connection during query (a port that never answers)
}


class MySQL(ServerBackend):
    name = "mysql"
    title = "MySQL"
    #: Every user may open it, even one granted nothing but the shadow databases' names.
    maintenance_database = "information_schema"

    def admin_connect_args(self) -> dict[str, Any]:
        # Cleanup ignores Ctrl-C, so a server that stopped answering must not hang it. PyMySQL's
        # connect_timeout bounds the TCP connect only, not the wait for the server's greeting (a port
        # that accepts and never speaks): its read_timeout bounds that, and each statement here.
        given = self.url.query.get("connect_timeout")
        try:
            seconds = int(given if isinstance(given, str) else CONNECT_TIMEOUT)
        except ValueError:
            raise UsageError(
                f"--database: connect_timeout={given} is not a whole number of seconds"
            ) from None
        arguments: dict[str, Any] = {} if given is not None else {"connect_timeout": seconds}
        if self.url.get_driver_name() == "pymysql":
            arguments["read_timeout"] = seconds
        return arguments

    def check_isolated(self, metadata: MetaData) -> None:
        """On MySQL a schema is a database: a model in one would be built in one of the server's
        other databases (yours), outside what the connection guard can tell apart."""
        outside = sorted(f"{t.schema}.{t.name}" for t in metadata.tables.values() if t.schema)
        if outside:
            raise AppLoadError(
                f"model table(s) {', '.join(outside)} live in another database of the {self.title} "
                "server (a schema there is a database), which a shadow run cannot keep apart from "
                "yours: use a SQLite or PostgreSQL shadow database for these models"
            )

    def how_to_allow(self, user: str) -> str:
        pattern = PREFIX.replace("_", "\\_") + "%"
        return (
            f"grant it the shadow databases' names only, e.g. GRANT ALL PRIVILEGES ON `{pattern}`.* TO "
            f"'{user}'@'%' (no global privilege is needed)"
        )

    def end_other_sessions(self, connection: Connection, name: str) -> None:
        rows = connection.execute(
            text("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :name AND ID <> CONNECTION_ID()"),
            {"name": name},
        )
        for (session,) in rows.fetchall():
            with contextlib.suppress(DBAPIError):  # it ended by itself in the meantime
                connection.execute(text(f"KILL {int(session)}"))

    def list_databases(self, connection: Connection) -> list[str]:
        return sorted(row[0] for row in connection.execute(text("SHOW DATABASES")))

    def failure(self, exc: DBAPIError) -> Failure | None:
        orig = getattr(exc, "orig", None) or exc
        code = getattr(orig, "errno", None)  # the MariaDB connector
        if code is None and getattr(orig, "args", None):
            code = orig.args[0]  # PyMySQL and mysqlclient: (number, message)
        if code == 1044 and f"to database '{self.url.database}'" in str(orig):
            # Connecting to the URL's database: a user without privileges on a name is told the same
            # whether it exists or not. Not a missing right to create databases.
            return Failure.DATABASE_DENIED
        return _FAILURES.get(code) if isinstance(code, int) else None


class MariaDB(MySQL):
    """``mariadb://`` URLs: SQLAlchemy's MariaDB dialect, on the same server software."""

    name = "mariadb"
    title = "MariaDB"
