"""A guard on every SQLAlchemy connection: only the shadow database may be reached.

Looking at the app's engines after loading is not enough: a factory may connect at import time and an
``env.py`` may build its own engine. ``do_connect`` runs before the driver opens anything, so a
foreign database is never read, written, or even created (SQLite creates missing files on connect).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from .errors import ForeignDatabaseError
from .shadow import ShadowDatabase

# The connect arguments that say *which* database a connection reaches (as opposed to how).
_IDENTIFYING_PARAMS = ("host", "port", "dbname", "database", "unix_socket")


def _identity(dialect_name, cargs, cparams) -> tuple:
    identifying = tuple((k, str(cparams[k])) for k in _IDENTIFYING_PARAMS if k in cparams)
    return dialect_name, tuple(str(a) for a in cargs), identifying


def describe_target(dialect_name: str, cargs, cparams) -> str:
    """A URL for an error message, built from the driver's arguments, never with a password."""
    if dialect_name == "sqlite":
        return f"sqlite:///{cargs[0] if cargs else cparams.get('database', '')}"
    return URL.create(
        dialect_name,
        username=cparams.get("user"),
        host=cparams.get("host"),
        port=cparams.get("port"),
        database=cparams.get("dbname") or cparams.get("database"),
    ).render_as_string(hide_password=True)


class ConnectionGuard:
    """Refuses every connection whose target differs from the shadow database's."""

    def __init__(self, shadow: ShadowDatabase, hint: str):
        self.shadow = shadow
        self.hint = hint
        self.refused: list[str] = []
        self.others: list[ShadowDatabase] = []  # further throwaway databases the tool made itself

    def is_shadow(self, dialect, cargs, cparams, shadow: ShadowDatabase | None = None) -> bool:
        shadow = shadow or self.shadow
        if dialect.name != shadow.url.get_backend_name():
            return False
        shadow_cargs, shadow_cparams = dialect.create_connect_args(shadow.url)
        return _identity(dialect.name, cargs, cparams) == _identity(
            dialect.name, shadow_cargs, shadow_cparams
        )

    @contextmanager
    def allowing(self, other: ShadowDatabase) -> Iterator[None]:
        """Let the tool reach a second throwaway database it created (the one built from the models)."""
        self.others.append(other)
        try:
            yield
        finally:
            self.others.remove(other)

    def do_connect(self, dialect, connection_record, cargs, cparams):
        target = next(
            (s for s in [self.shadow, *self.others] if self.is_shadow(dialect, cargs, cparams, s)), None
        )
        if target is None:
            shown = describe_target(dialect.name, cargs, cparams)
            self.refused.append(shown)
            raise ForeignDatabaseError(
                f"refused a connection to {shown}: only the shadow database may be used; {self.hint}"
            )
        connection = dialect.connect(*cargs, **cparams)
        target.prepare_connection(connection)
        return connection


@contextmanager
def only_shadow_connections(shadow: ShadowDatabase, hint: str) -> Iterator[ConnectionGuard]:
    """Install the guard on every engine, existing or future, for the duration of the block."""
    guard = ConnectionGuard(shadow, hint)
    event.listen(Engine, "do_connect", guard.do_connect)
    try:
        yield guard
    finally:
        event.remove(Engine, "do_connect", guard.do_connect)
