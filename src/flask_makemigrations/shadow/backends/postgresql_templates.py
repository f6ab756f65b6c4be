"""PostgreSQL's snapshots for the cache: template databases on the server.

After a cold build, the shadow database at head is copied (``CREATE DATABASE ... TEMPLATE``) into
``fmm_cache_<project>_<key>`` (``_<bind's hash>`` after it for a bind's), which nothing may connect to
(``ALLOW_CONNECTIONS false``), so it can always be copied. A warm run replaces its new, empty shadow
database by a copy of the deepest one, under the same name, and checks it is at the revision its key
says. The database's comment is when it was last used: the bound keeps the most recent few of each
project, and ``invoke cache`` shows them. Only the bound and ``invoke cache --clear --database URL``
remove them; ``prune`` never does (their names are not a shadow database's).
"""

import hashlib
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ...errors import ShadowDatabaseError
from ..backend import ShadowDatabase
from ..server import ServerBackend, connect
from ..snapshots import Snapshots

PREFIX = "fmm_cache_"
_PROJECT, _KEY, _BIND = 12, 24, 8  # hex digits of each part: at most 56 characters in all


def template_name(project: str, key: str, bind: str | None) -> str:
    suffix = "" if bind is None else "_" + hashlib.sha256(bind.encode()).hexdigest()[:_BIND]
    return f"{PREFIX}{project[:_PROJECT]}_{key[:_KEY]}{suffix}"


@dataclass(frozen=True)
class Template:
    """A cached template database, as ``invoke cache`` lists it."""

    name: str
    used: float | None  # when a run last made or copied it (seconds since the epoch)


class TemplateSnapshots(Snapshots):
    """One project's template databases on the server a ``--database`` URL names."""

    def __init__(self, backend: ServerBackend, project: str):
        self.backend = backend
        self.project = project[:_PROJECT]
        self._found: dict[str, float] | None = None  # this project's templates -> last use, read once

    def _templates(self) -> dict[str, float]:
        if self._found is None:
            own = f"{PREFIX}{self.project}_"
            self._found = {
                t.name: t.used or 0.0 for t in cached_templates(self.backend) if t.name.startswith(own)
            }
        return self._found

    def has(self, key: str, bind: str | None) -> bool:
        return template_name(self.project, key, bind) in self._templates()

    def save(self, key: str, bind: str | None, shadow: ShadowDatabase) -> bool:
        name, source = template_name(self.project, key, bind), str(shadow.url.database)
        with connect(self.backend) as server:
            server.run(f"ending the sessions on {source}", self.backend.end_other_sessions, source)
            try:
                server.run(f"caching {source} as {name}", _copy, source, name)
            except (
                ShadowDatabaseError
            ):  # another run's made it meanwhile, or something connected to the source
                return False
            server.run(f"sealing {name}", _seal, name)
        self._templates()[name] = time.time()
        return True

    def restore(self, key: str, bind: str | None, shadow: ShadowDatabase, revision: str) -> bool:
        name, target = template_name(self.project, key, bind), str(shadow.url.database)
        with connect(self.backend) as server:
            server.drop(target)  # new and empty, made by this run
            try:
                server.run(f"restoring {target} from {name}", _copy, name, target)
            except ShadowDatabaseError:  # dropped by another run's bound meanwhile
                server.run("creating the shadow database", self.backend.create_database, target)
                return False
            if _versions(shadow) == [revision]:
                return True
            server.drop(target)
            server.run("creating the shadow database", self.backend.create_database, target)
        return False

    def touch(self, key: str) -> None:
        name = template_name(self.project, key, None)
        with connect(self.backend) as server:
            server.run(f"marking {name} used", _mark_used, name)

    def discard(self, key: str) -> None:
        main = template_name(self.project, key, None)
        doomed = [name for name in self._templates() if name == main or name.startswith(f"{main}_")]
        with connect(self.backend) as server:
            for name in doomed:
                server.run(f"dropping {name}", self.backend.drop_database, name)
                self._templates().pop(name, None)

    def keys_by_recency(self) -> list[str]:
        width = len(template_name(self.project, "", None)) + _KEY  # a main database's name
        mains = [(used, name) for name, used in self._templates().items() if len(name) == width]
        return [name[-_KEY:] for used, name in sorted(mains, reverse=True)]


def cached_templates(backend: ServerBackend) -> list[Template]:
    """Every template database a run cached on the server, of any project."""
    with connect(backend) as server:
        return server.run("listing the cached templates", _listing)


def clear_templates(backend: ServerBackend) -> int:
    """Drop every template database a run cached on the server, of any project; return how many."""
    templates = cached_templates(backend)
    with connect(backend) as server:
        for template in templates:
            server.run(f"dropping {template.name}", backend.drop_database, template.name)
    return len(templates)


def _listing(connection: Connection) -> list[Template]:
    rows = connection.execute(
        text(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE starts_with(datname, :prefix) ORDER BY datname"
        ),
        {"prefix": PREFIX},
    )
    return [Template(name, float(used) if used and used.isdigit() else None) for name, used in rows]


def _copy(connection: Connection, source: str, target: str) -> None:
    quote = connection.dialect.identifier_preparer.quote_identifier
    connection.execute(text(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(source)}"))


def _seal(connection: Connection, name: str) -> None:
    """Nothing may connect to a template (a copy would fail while anything is), and it says when it
    was made."""
    quote = connection.dialect.identifier_preparer.quote_identifier
    connection.execute(text(f"ALTER DATABASE {quote(name)} ALLOW_CONNECTIONS false"))
    _mark_used(connection, name)


def _mark_used(connection: Connection, name: str) -> None:
    quote = connection.dialect.identifier_preparer.quote_identifier
    connection.execute(text(f"COMMENT ON DATABASE {quote(name)} IS '{int(time.time())}'"))


def _versions(shadow: ShadowDatabase) -> list[str] | None:
    """The revisions the restored database's version table holds (found by its shape, one
    ``version_num`` column, as a project may name it), or None without one."""
    engine = sa.create_engine(shadow.url_string, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            for table in inspector.get_table_names():
                if [column["name"] for column in inspector.get_columns(table)] == ["version_num"]:
                    quoted = connection.dialect.identifier_preparer.quote_identifier(table)
                    rows = connection.execute(text(f"SELECT version_num FROM {quoted}"))
                    return [str(row[0]) for row in rows]
    finally:
        engine.dispose()
    return None
