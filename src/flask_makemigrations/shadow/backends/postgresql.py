"""PostgreSQL: a new database on the server for each run (the cache keeps its snapshots as template
databases there: ``cache/postgresql_templates.py``)."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ..server import CONNECT_TIMEOUT, Failure, ServerBackend

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


class PostgreSQL(ServerBackend):
    name = "postgresql"
    title = "PostgreSQL"
    maintenance_database = "postgres"

    def admin_connect_args(self) -> dict[str, Any]:
        # Cleanup ignores Ctrl-C, so a server that stopped answering must not hang it for minutes.
        if self.url.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in self.url.query:
            return {"connect_timeout": CONNECT_TIMEOUT}
        return {}

    def how_to_allow(self, user: str) -> str:
        return f"grant the role CREATEDB (ALTER ROLE {user} CREATEDB) or use a role that has it"

    def end_other_sessions(self, connection: Connection, name: str) -> None:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )

    def list_databases(self, connection: Connection) -> list[str]:
        rows = connection.execute(text("SELECT datname FROM pg_database WHERE NOT datistemplate"))
        return sorted(row[0] for row in rows)

    def owned_by_others(self, connection: Connection) -> dict[str, str]:
        # DROP DATABASE needs the owner's privileges: a member of its role that inherits them, or a
        # superuser (pg_has_role says yes to both).
        rows = connection.execute(
            text(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database "
                "WHERE NOT pg_has_role(datdba, 'USAGE')"
            )
        )
        return {row[0]: row[1] for row in rows}

    def failure(self, exc: DBAPIError) -> Failure | None:
        # Through some drivers libpq reports connection failures without an SQLSTATE; the message
        # is what every driver has.
        orig = getattr(exc, "orig", None) or exc
        message = str(orig)
        state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
        if state in ("28P01", "28000") or "authentication failed" in message:
            return Failure.AUTHENTICATION
        if "must be owner of database" in message:  # 42501 too, but no privilege would help
            return Failure.NOT_OWNER
        if state == "42501" or "permission denied to create database" in message:
            return Failure.PERMISSION
        if state == "3D000" or ("database" in message and "does not exist" in message):
            return Failure.NO_DATABASE
        if any(marker in message for marker in _UNREACHABLE_MARKERS):
            return Failure.UNREACHABLE
        return None
