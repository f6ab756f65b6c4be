"""The models' schema, reused by content: verification builds a database from the models and reflects
it, and most runs do so for models that did not change.

The schema that ``create_all`` gives is a function of the statements it runs, of the database that
runs them and of the code that reflects and normalizes it. So the key hashes exactly those: every
statement ``create_all`` would issue for the tables autogenerate looks at (recorded by a mock engine
of the same URL; the metadata's DDL events fire there too), the server (its URL without the database,
password aside, and its version), SQLAlchemy's version and the source of the comparison code. A
reflected schema under that key is reused; an ``include_object`` filter in ``env.py`` is code the key
cannot see, so such runs build it every time, as does any doubt (a file that does not load). The files
are JSON, never code.
"""

import contextlib
import hashlib
import inspect
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from ..shadow.backend import Backend
from ..shadow.backends import for_dialect
from ..shadow.snapshots import user_cache_dir
from .schema import Filters, Schema, TableShape

#: Changes when what is stored changes shape.
FORMAT = 1
#: Schemas kept: a history's recent models, across a few projects.
KEEP = 50


def models_folder(root: Path | None = None) -> Path:
    """Where the models' schemas are kept: one file per key, beside the projects' snapshot folders."""
    return (root or user_cache_dir()) / "models"


def clear_models_schemas(root: Path | None = None) -> None:
    """Remove every kept schema (``cache --clear``)."""
    for path in models_folder(root).glob("*.json"):
        path.unlink(missing_ok=True)


def cached_models_schema(
    filters: Filters, engine: Engine, build: Callable[[], Schema], enabled: bool = True
) -> Schema:
    """The models' schema on ``engine``'s kind of database: from the cache when the key is known,
    else ``build()`` (then kept)."""
    key = models_key(filters, engine) if enabled else None
    if key is None:
        return build()
    path = models_folder() / f"{key}.json"
    with contextlib.suppress(Exception):  # any doubt about the file: build it
        return _decoded(json.loads(path.read_text()))
    built = build()
    with contextlib.suppress(OSError):
        _write(path, json.dumps(_encoded(built)))
        _bound(path.parent)
    return built


def models_key(filters: Filters, engine: Engine) -> str | None:
    """The content key of the models' schema, or None where it cannot be known (``include_object``,
    or statements the recording engine cannot compile)."""
    if filters.include_object is not None:
        return None
    try:
        statements = _create_all_statements(filters, engine)
        code = hashlib.sha256(b"".join(path.read_bytes() for path in _comparison_code(engine)))
    except Exception:  # what cannot be recorded or read, the real build will say
        return None
    identity = [
        FORMAT,
        sa.__version__,
        _server(engine.url),
        list(engine.dialect.server_version_info or ()),
        filters.version_table,
        statements,
        code.hexdigest(),
    ]
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()


def _server(url: URL) -> str:
    """The server a URL names, without the database (its shadow database's name, a SQLite file's
    path, change every run) or the password."""
    return URL.create(
        url.drivername, url.username, None, url.host, url.port, None, url.query
    ).render_as_string()


def _comparison_code(engine: Engine) -> list[Path]:
    """The source files whose code shapes a reflected schema: the comparison, the models' build, and
    the backend's normalizations."""
    here = Path(__file__).parent
    backends = [Path(inspect.getfile(cls)) for cls in (Backend, for_dialect(engine.dialect.name))]
    return [here / "schema.py", here / "new_revision.py", *backends]


def _create_all_statements(filters: Filters, engine: Engine) -> list[str]:
    """Every statement ``create_all`` issues for the tables autogenerate looks at, compiled for the
    engine's dialect (on a fresh database: no existence checks)."""
    statements: list[str] = []

    def record(sql: Any, *multiparams: Any, **params: Any) -> None:
        statements.append(str(sql.compile(dialect=engine.dialect)))

    recorder = sa.create_mock_engine(engine.url, record)
    for metadata in filters.metadatas:
        kept = [t for t in metadata.tables.values() if filters.keeps("table", t.name, None, False)]
        metadata.create_all(recorder, tables=kept, checkfirst=False)
    return statements


def _encoded(found: Schema) -> dict[str, Any]:
    """A schema as JSON can hold it (its mappings keyed by tuples become lists of pairs)."""
    return {
        name: {
            "columns": shape.columns,
            "primary_key": shape.primary_key,
            "uniques": list(shape.uniques.items()),
            "indexes": list(shape.indexes.items()),
            "foreign_keys": list(shape.foreign_keys.items()),
            "checks": shape.checks,
        }
        for name, shape in found.items()
    }


def _decoded(stored: dict[str, Any]) -> Schema:
    def tuples(value: Any) -> Any:
        return tuple(tuples(item) for item in value) if isinstance(value, list) else value

    return {
        name: TableShape(
            columns={column: tuples(value) for column, value in table["columns"].items()},
            primary_key=tuples(table["primary_key"]),
            uniques={tuples(columns): index for columns, index in table["uniques"]},
            indexes={tuples(columns): index for columns, index in table["indexes"]},
            foreign_keys={tuples(key): constraint for key, constraint in table["foreign_keys"]},
            checks=dict(table["checks"]),
        )
        for name, table in stored.items()
    }


def _write(path: Path, text: str) -> None:
    """Written aside, then renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _bound(folder: Path) -> None:
    files = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in files[KEEP:]:
        stale.unlink(missing_ok=True)
