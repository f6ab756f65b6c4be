"""Reflected schemas, reused by content: the models' schema, and the shapes of the shadow database's
tables. Verification builds a database from the models and reflects it, then reflects the shadow
database three times, and most runs do so for models and tables that did not change.

The schema that ``create_all`` gives is a function of the statements it runs, of the database that
runs them and of the code that reflects and normalizes it. So the key hashes exactly those: every
statement ``create_all`` would issue for the tables autogenerate looks at (recorded by a mock engine
of the same URL; the metadata's DDL events fire there too), the server (its URL without the database,
password aside, and its version), SQLAlchemy's version and the source of the comparison code. A
reflected schema under that key is reused; an ``include_object`` filter in ``env.py`` is code the key
cannot see, so such runs build it every time, as does any doubt (a file that does not load). The files
are JSON, never code.

A table's shape is a function of what reflecting it read, which the backend digests where it can
(``DefaultImpl.table_fingerprints``: SQLite's schema statements), of SQLAlchemy's version and of the same
comparison code; a project keeps the shapes its last verification saw (``TableShapes``).
"""

import contextlib
import hashlib
import inspect
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from ..checks import schema
from ..checks.schema import Filters, Schema, TableShape, TableShapes
from ..dialects import DefaultImpl, impl_for
from .files import keep_salted_entries, project_file, salted_entries, user_cache_dir

#: Changes when what is stored changes shape.
FORMAT = 2
#: Schemas kept: a history's recent models, across a few projects.
KEEP = 50


def tables_file(migrations_dir: Path) -> Path:
    """Where a project's table shapes are kept: in its snapshot folder."""
    return project_file(migrations_dir, "tables.json")


@contextmanager
def kept_table_shapes(migrations_dir: Path, enabled: bool = True) -> Iterator[TableShapes]:
    """The shapes the project's previous verification saw (none if ``enabled`` is False), and the ones
    this one saw kept for the next, when it is done."""
    path = tables_file(migrations_dir)
    salt = hashlib.sha256(
        json.dumps([FORMAT, sa.__version__, _code_digest(_shape_code())]).encode()
    ).hexdigest()
    known: dict[str, TableShape] = {}
    if enabled:
        with contextlib.suppress(Exception):  # a shape that does not decode: reflect every table
            known = {key: _decoded_table(shape) for key, shape in salted_entries(path, salt).items()}
    shapes = TableShapes(known, salt)
    yield shapes
    if enabled and shapes.kept.keys() != known.keys():
        keep_salted_entries(path, salt, {key: _encoded_table(shape) for key, shape in shapes.kept.items()})


def models_folder(root: Path | None = None) -> Path:
    """Where the models' schemas are kept: one file per key, beside the projects' snapshot folders."""
    return (root or user_cache_dir()) / "models"


def known_models_schema(key: str | None) -> Schema | None:
    """The models' schema kept under ``key`` (``models_key``), or None: no key, or any doubt about
    its file (then it is built again). The file is sealed with its key as the salt: one that is not
    exactly what a run wrote (``{}`` by hand, another shape) is a miss, never an answer, as is an
    empty schema (no table to compare), which costs nothing to build."""
    if key is None:
        return None
    with contextlib.suppress(Exception):
        return _decoded(salted_entries(_models_file(key), key)) or None
    return None


def has_models_schema(key: str) -> bool:
    """Whether a models' schema is kept under ``key``: a file, not yet read (``known_models_schema``
    reads it, and may still find it a miss); a cache folder that cannot be looked into has none."""
    try:
        return _models_file(key).is_file()
    except OSError:
        return False


def keep_models_schema(key: str | None, built: Schema) -> None:
    """Keep a schema just built under its key, for the next run with the same models."""
    if key is None:
        return
    path = _models_file(key)
    keep_salted_entries(path, key, _encoded(built))
    with contextlib.suppress(OSError):
        _bound(path.parent)


def _models_file(key: str) -> Path:
    return models_folder() / f"{key}.json"


def models_key(filters: Filters, engine: Engine) -> str | None:
    """The content key of the models' schema, or None where it cannot be known (``include_object``,
    or statements the recording engine cannot compile)."""
    if filters.include_object is not None:
        return None
    try:
        statements = _create_all_statements(filters, engine)
        code = _code_digest(_comparison_code(engine))
    except Exception:  # what cannot be recorded or read, the real build will say
        return None
    identity = [
        FORMAT,
        sa.__version__,
        _server(engine.url),
        list(engine.dialect.server_version_info or ()),
        filters.version_table,
        statements,
        code,
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
    the dialect's normalizations."""
    checks = Path(inspect.getfile(schema)).parent
    dialects = [Path(inspect.getfile(cls)) for cls in (DefaultImpl, impl_for(engine.dialect.name))]
    return [checks / "schema.py", checks / "new_revision.py", *dialects]


def _shape_code() -> list[Path]:
    """The source files whose code shapes a reflected table, whichever the dialect."""
    dialects = Path(inspect.getfile(DefaultImpl)).parent
    return [Path(inspect.getfile(schema)), *sorted(dialects.glob("*.py"))]


def _code_digest(paths: list[Path]) -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()


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
    return _in_stable_order(statements)


#: Statements ``create_all`` issues by iterating a set (a table's indexes, the foreign keys it adds
#: after the tables of a cycle, constraints' comments), whose order changes from one process to the
#: next (string hashes are salted per process), by kind. Consecutive statements of one kind commute:
#: each adds an object of its own, and the database ends the same whichever comes first. Not so with
#: ``IF NOT EXISTS``, where the first of two indexes of one name wins: those keep their place.
_COMMUTING = {
    "index": re.compile(r"CREATE (UNIQUE )?INDEX (?!IF NOT EXISTS )"),
    "foreign key": re.compile(r"ALTER TABLE .* ADD (CONSTRAINT .* )?FOREIGN KEY", re.DOTALL),
    "comment": re.compile(r"COMMENT ON CONSTRAINT "),
}


def _in_stable_order(statements: list[str]) -> list[str]:
    """The statements with each run of consecutive commuting ones of one kind sorted, so that the
    same models have the same key in every process."""
    ordered: list[str] = []
    for kind, grouped in itertools.groupby(statements, key=_commuting_kind):
        run = list(grouped)
        ordered += sorted(run) if kind is not None else run
    return ordered


def _commuting_kind(statement: str) -> str | None:
    return next((kind for kind, pattern in _COMMUTING.items() if pattern.match(statement.lstrip())), None)


def _encoded(found: Schema) -> dict[str, Any]:
    return {name: _encoded_table(shape) for name, shape in found.items()}


def _encoded_table(shape: TableShape) -> dict[str, Any]:
    """A table as JSON can hold it (its mappings keyed by tuples become lists of pairs)."""
    return {
        "columns": shape.columns,
        "primary_key": shape.primary_key,
        "uniques": list(shape.uniques.items()),
        "indexes": list(shape.indexes.items()),
        "foreign_keys": list(shape.foreign_keys.items()),
        "checks": shape.checks,
    }


def _decoded(stored: dict[str, Any]) -> Schema:
    return {name: _decoded_table(table) for name, table in stored.items()}


def _decoded_table(table: dict[str, Any]) -> TableShape:
    def tuples(value: Any) -> Any:
        return tuple(tuples(item) for item in value) if isinstance(value, list) else value

    return TableShape(
        columns={column: tuples(value) for column, value in table["columns"].items()},
        primary_key=tuples(table["primary_key"]),
        uniques={tuples(columns): index for columns, index in table["uniques"]},
        indexes={tuples(columns): index for columns, index in table["indexes"]},
        foreign_keys={tuples(key): constraint for key, constraint in table["foreign_keys"]},
        checks=dict(table["checks"]),
    )


def _bound(folder: Path) -> None:
    files = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in files[KEEP:]:
        stale.unlink(missing_ok=True)
