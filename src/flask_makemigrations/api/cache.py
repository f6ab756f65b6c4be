"""``cache``: where the snapshots are, and ``--clear``."""

from dataclasses import dataclass, field
from pathlib import Path

from ..cache.files import project_id, user_cache_dir
from ..cache.postgresql_dumps import clear_dumps, dump_sets
from ..cache.postgresql_templates import Template, cached_templates, clear_templates
from ..cache.shadows import clear_cache
from ..cache.sqlite_files import FileSnapshots
from ..errors import UsageError, shown_path
from ..shadow.backends import parse_database
from ..shadow.backends.postgresql import PostgreSQL
from ..shadow.backends.sqlite import SQLiteFile


@dataclass
class CacheState:
    """Where the snapshots are, for ``cache``: this project's files, and a server's templates."""

    folder: Path  # the user's cache folder
    project_folder: Path  # this project's snapshot files, in it
    snapshot_sets: int
    dump_sets: int  # this project's portable PostgreSQL snapshots, in the same folder
    server: str | None = None  # the --database server (password hidden), if one was given
    templates: list[Template] = field(default_factory=list)  # the templates cached there, of any project


def cache_state(directory: str | None = None, database: str | None = None) -> CacheState:
    """What the cache holds for the project whose migrations are in ``directory`` (./migrations)."""
    migrations_dir = Path(directory or "migrations")
    if not migrations_dir.is_dir():
        shown = shown_path(migrations_dir)
        raise UsageError(f"{shown} does not exist: pass the migrations directory with --directory")
    files = FileSnapshots.of_project(project_id(migrations_dir.absolute()), SQLiteFile())
    state = CacheState(user_cache_dir(), files.folder, len(files.keys_by_recency()), dump_sets(files.folder))
    if database is not None:
        backend = _template_server(database)
        state.server = backend.url.render_as_string(hide_password=True)
        state.templates = cached_templates(backend)
    return state


def clear_snapshots(database: str | None = None) -> list[tuple[int, str]]:
    """Remove every snapshot of every project: the files, or with ``database`` the server's templates
    and the portable PostgreSQL snapshots in the cache folder (which would restore them); return how
    many sets there were, and where."""
    if database is None:
        return [(clear_cache(), str(user_cache_dir()))]
    backend = _template_server(database)
    templates = clear_templates(backend), backend.url.render_as_string(hide_password=True)
    return [templates, (clear_dumps(), str(user_cache_dir()))]


def _template_server(database: str) -> PostgreSQL:
    backend = parse_database(database)
    if not isinstance(backend, PostgreSQL):
        raise UsageError("cache --database: only a PostgreSQL server keeps snapshots (postgresql://...)")
    return backend
