"""PostgreSQL's snapshots for the cache: template databases on the server.

After a cold build, the shadow database at head is copied (``CREATE DATABASE ... TEMPLATE``) into
``fmm_cache_<project>_<key>`` (``_<bind's hash>`` after it for a bind's), which nothing may connect
to (``ALLOW_CONNECTIONS false``), so it can always be copied. A warm run makes its shadow database
(made when first needed: ``shadow/server.py``) as a copy of the deepest one, and checks it is at the
revision its key says; meanwhile it makes the template's spare copy (``<name>_spare``), which the
next warm run renames into its shadow database instead of copying (``TemplateSnapshots.restore``).
The database's comment is when it was last used: the bound keeps the most recent few of each
project, and ``invoke cache`` shows them. Only the bound, a template that fails that check, and
``invoke cache --clear --database URL`` remove them and their spares; ``prune`` never does (their
names are not a shadow database's). Only the URL's role's own are listed: another role's could be
neither copied nor dropped.
"""

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..errors import MakemigrationsError
from ..shadow.backend import ShadowDatabase
from ..shadow.server import Deferred, ServerBackend, connect, quoted
from .snapshots import Snapshots, bind_hash

_T = TypeVar("_T")

PREFIX = "fmm_cache_"
_PROJECT, _KEY, _BIND = 12, 24, 8  # hex digits of each part: at most 62 characters in all
#: After a template's name, its spare copy's (``TemplateSnapshots.restore``).
SPARE = "_spare"
#: A template's name: the project's and the key's hex digits, and a bind's (none: the main database);
#: then, for its spare copy, ``SPARE``.
NAME = re.compile(
    rf"^{PREFIX}(?P<project>[0-9a-f]{{{_PROJECT}}})_(?P<key>[0-9a-f]{{{_KEY}}})"
    rf"(_(?P<bind>[0-9a-f]{{{_BIND}}}))?(?P<spare>{SPARE})?$"
)


def template_name(project: str, key: str, bind: str | None) -> str:
    suffix = "" if bind is None else "_" + bind_hash(bind, _BIND)
    return f"{PREFIX}{project[:_PROJECT]}_{key[:_KEY]}{suffix}"


@dataclass(frozen=True)
class Template:
    """A cached template database, as ``invoke cache`` lists it."""

    name: str
    used: float | None  # when a run last made or copied it (seconds since the epoch)
    spare: bool = False  # a template's spare copy, for the next warm run to take
    sealed: bool = True  # nothing may connect to it: a spare that may be is being made, or was cut short


class TemplateSnapshots(Snapshots):
    """One project's template databases on the server a ``--database`` URL names (those of the URL's
    role: another role's could be neither copied nor dropped)."""

    def __init__(self, backend: ServerBackend, project: str):
        self.backend = backend
        self.project = project[:_PROJECT]
        self._found: dict[str, float] | None = None  # this project's templates -> last use, read once
        self._sparing: list[threading.Thread] = []  # the spare copies being made (``restore``)

    def _templates(self) -> dict[str, float]:
        if self._found is None:
            self._found = {
                t.name: t.used or 0.0
                for t in cached_templates(self.backend, spares=True)
                if _project_of(t.name) == self.project and t.sealed
            }
        return self._found

    def has(self, key: str, bind: str | None) -> bool:
        return template_name(self.project, key, bind) in self._templates()

    def save(self, key: str, bind: str | None, shadow: ShadowDatabase) -> bool:
        name, source = template_name(self.project, key, bind), str(shadow.url.database)
        with connect(self.backend) as server:
            server.run(f"ending the sessions on {source}", self.backend.end_other_sessions, source)
            try:
                server.run(f"caching {source} as {name}", self.backend.create_database, name, source)
            except MakemigrationsError:  # another run's made it meanwhile, or something held the source
                return False
            server.run(f"sealing {name}", _seal, name)
        self._templates()[name] = time.time()
        return True

    def restore(self, key: str, bind: str | None, shadow: ShadowDatabase, revision: str) -> bool:
        """Make the shadow database the template's copy: the spare copy a previous run left, renamed
        (instant), else a copy made now; and, while the run goes on, a spare copy for the next run.

        A copy of a whole database is most of a warm run on PostgreSQL (0.4 s at 200 revisions, 2.3 s
        at 1000): the spare moves it out of the run's way, into a thread while autogenerate and
        verification work. A spare is made by ``CREATE DATABASE ... TEMPLATE`` and sealed as the
        template is (nothing may connect to it), so it is what a copy made now would be; it is
        checked as one. The shadow database is made here if it was not yet (the usual case:
        ``server.Deferred``), else replaced. Whatever fails, it is dropped, to be made empty when next
        needed (only failing to drop it is an error)."""
        name, deferred = template_name(self.project, key, bind), shadow.deferred
        assert deferred is not None, "a server's shadow database is made when first needed"
        try:
            deferred.drop()  # made empty: the app connected while it loaded
            if not (name + SPARE in self._templates() and self._take_spare(deferred, name + SPARE)):
                deferred.make(name)
            if versions_in(shadow) == [revision]:
                self._spare(name)
                return True
        except MakemigrationsError:  # dropped by another run's bound meanwhile, say
            pass
        deferred.drop()
        return False

    def _take_spare(self, deferred: Deferred, spare: str) -> bool:
        """Whether the spare copy became the shadow database (another run may have taken it)."""
        self._templates().pop(spare)
        try:
            return deferred.make_by(f"taking {spare}", self._renamed, spare)
        except MakemigrationsError:
            return False

    def _renamed(self, connection: Connection, name: str, spare: str | None) -> None:
        """The spare copy under the shadow database's name, open to connections: opened first, so that
        a rename that fails leaves no database under that name (an open spare is never taken)."""
        connection.execute(text(f"ALTER DATABASE {quoted(connection, str(spare))} ALLOW_CONNECTIONS true"))
        connection.execute(
            text(f"ALTER DATABASE {quoted(connection, str(spare))} RENAME TO {quoted(connection, name)}")
        )

    def _spare(self, name: str) -> None:
        """Make the template's next spare copy in a thread (``finish`` waits for it)."""
        thread = threading.Thread(target=self._make_spare, args=(name,), daemon=True)
        self._sparing.append(thread)
        thread.start()

    def _make_spare(self, name: str) -> None:
        with contextlib.suppress(MakemigrationsError), connect(self.backend) as server:
            spare = name + SPARE
            server.run(f"dropping {spare}", self.backend.drop_database, spare)  # an open one, left by a kill
            server.run(f"copying {name} as {spare}", self.backend.create_database, spare, name)
            server.run(f"sealing {spare}", _seal, spare)

    def finish(self) -> None:
        while self._sparing:
            self._sparing.pop().join()

    def touch(self, key: str) -> None:
        name = template_name(self.project, key, None)
        with connect(self.backend) as server:
            server.run(f"marking {name} used", _mark_used, name)
        self._templates()[name] = time.time()

    def discard(self, key: str) -> None:
        doomed = [name for name in self._templates() if _key_of(name) == key[:_KEY]]
        with connect(self.backend) as server:
            for name in doomed:
                server.run(f"dropping {name}", self.backend.drop_database, name)
                self._templates().pop(name, None)

    def keys_by_recency(self) -> list[str]:
        """Every set's key, by its main template's last use; a bind's without one (left by a run
        killed in between) is the oldest."""
        used: dict[str, float] = {}
        for name, when in self._templates().items():
            key, bind = _key_of(name), NAME.match(name)["bind"]  # type: ignore[index]
            used[key] = max(used.get(key, 0.0), 0.0 if bind else when)
        return sorted(used, key=lambda key: used[key], reverse=True)


def _project_of(name: str) -> str | None:
    found = NAME.match(name)
    return found["project"] if found else None


def _key_of(name: str) -> str:
    found = NAME.match(name)
    return found["key"] if found else ""


def cached_templates(backend: ServerBackend, spares: bool = False) -> list[Template]:
    """Every template database a run cached on the server, of any project, that the URL's role owns
    (with ``spares``, their spare copies too)."""
    with connect(backend) as server:
        listed = server.run("listing the cached templates", _listing)
    return [template for template in listed if spares or not template.spare]


def clear_templates(backend: ServerBackend) -> int:
    """Drop every template database a run cached on the server (of any project, the role's own), and
    their spare copies; return how many templates."""
    templates = cached_templates(backend, spares=True)
    with connect(backend) as server:
        for template in templates:
            server.run(f"dropping {template.name}", backend.drop_database, template.name)
    return sum(not template.spare for template in templates)


def _listing(connection: Connection) -> list[Template]:
    rows = connection.execute(
        text(
            "SELECT datname, shobj_description(oid, 'pg_database'), datallowconn FROM pg_database "
            "WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY datname"
        )
    )
    return [
        Template(name, float(used) if used and used.isdigit() else None, bool(found["spare"]), not allowed)
        for name, used, allowed in rows
        if (found := NAME.match(name))
    ]


def _seal(connection: Connection, name: str) -> None:
    """Nothing may connect to a template (a copy would fail while anything is), and it says when it
    was made."""
    connection.execute(text(f"ALTER DATABASE {quoted(connection, name)} ALLOW_CONNECTIONS false"))
    _mark_used(connection, name)


def _mark_used(connection: Connection, name: str) -> None:
    connection.execute(text(f"COMMENT ON DATABASE {quoted(connection, name)} IS '{int(time.time())}'"))


def read_shadow(shadow: ShadowDatabase, read: Callable[[Connection], _T]) -> _T | None:
    """What ``read`` finds in the shadow database, on a connection of its own; None if it fails."""
    engine = sa.create_engine(shadow.url_string, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return read(connection)
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def versions_in(shadow: ShadowDatabase) -> list[str] | None:
    """The revisions the restored database's version table holds (found by its shape, one
    ``version_num`` column, in any schema: a project may name it and place it), or None without one."""
    return read_shadow(shadow, _versions)


def _versions(connection: Connection) -> list[str] | None:
    tables = connection.execute(
        text(
            "SELECT table_schema, table_name FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "GROUP BY table_schema, table_name "
            "HAVING array_agg(column_name::text) = ARRAY['version_num']"
        )
    ).fetchall()
    if len(tables) != 1:
        return None
    schema, table = tables[0]
    rows = connection.execute(
        text(f"SELECT version_num FROM {quoted(connection, schema)}.{quoted(connection, table)}")
    )
    return [str(row[0]) for row in rows]
