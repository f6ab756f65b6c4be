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

Most runs after an edit change a table or two of many. A table's reflected shape is a function of the
statements that make it (its ``CREATE TABLE``, with its foreign keys' references by name; its
indexes; the constraints and comments added after it; the DDL its events run against it) and of the
named types and sequences it uses; the tables its foreign keys refer to must exist for it to be made,
but reflecting it reads nothing of theirs. So each table has a key of those too
(``ModelsKeys.tables``), and the shapes of the tables built are kept by it (``model_tables.json``).
Where a statement belongs to no table (DDL against the metadata, a type no table's column names) or a
table is in another schema, there are no table keys, and the whole schema is built as before.

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
from dataclasses import dataclass, field
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
#: Tables' shapes kept by their own key: a few projects' models and their recent edits (about 800
#: bytes each, so the file every verifying run reads stays under 2 MB).
KEEP_TABLES = 2000


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
    """The models' schema kept under ``key`` (``ModelsKeys.whole``), or None: no key, or any doubt about
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


def known_model_tables(keys: dict[str, str]) -> Schema:
    """The shapes kept for the tables whose key (``ModelsKeys.tables``) is known, by table name."""
    with contextlib.suppress(Exception):  # a shape that does not decode: build every table
        entries = salted_entries(_tables_file(), _TABLES_SALT)
        return {name: _decoded_table(entries[key]) for name, key in keys.items() if key in entries}
    return {}


def keep_model_tables(shapes: dict[str, TableShape]) -> None:
    """Keep the shapes a run built by their table key, the newest first (``KEEP_TABLES`` of them)."""
    path = _tables_file()
    earlier = salted_entries(path, _TABLES_SALT)
    if all(key in earlier for key in shapes):
        return
    kept = {key: _encoded_table(shape) for key, shape in shapes.items()}
    entries = {**kept, **{key: shape for key, shape in earlier.items() if key not in kept}}
    keep_salted_entries(path, _TABLES_SALT, dict(itertools.islice(entries.items(), KEEP_TABLES)))


def _tables_file() -> Path:
    return models_folder() / "model_tables.json"


#: What the shapes kept by table key depend on beyond their keys, which hash everything else.
_TABLES_SALT = f"{FORMAT}|tables"


@dataclass(frozen=True)
class ModelsKeys:
    """The content key of a database's models' schema, and of each of its tables where each statement
    belongs to one (the module's docstring), with the tables each one's foreign keys refer to."""

    whole: str | None  # None: it cannot be known, and nothing is kept
    tables: dict[str, str] | None = None  # by table name; None: the whole schema is built
    references: dict[str, frozenset[str]] = field(default_factory=dict)


def models_keys(filters: Filters, engine: Engine) -> ModelsKeys:
    """The models' keys: the schema's, None where it cannot be known (``include_object``, or
    statements the recording engine cannot compile), and, where they can be known, its tables'."""
    if filters.include_object is not None:
        return ModelsKeys(None)
    try:
        recorded = _recorded(filters, engine)
        code = _code_digest(_comparison_code(engine))
    except Exception:  # what cannot be recorded or read, the real build will say
        return ModelsKeys(None)
    server = [FORMAT, sa.__version__, _server(engine.url), list(engine.dialect.server_version_info or ())]
    statements = _in_stable_order([statement for statement, _ in recorded])
    whole = _digest([*server, filters.version_table, statements, code])
    try:
        return ModelsKeys(whole, *_table_keys([*server, code], filters, recorded))
    except Exception:  # _NoTableKeys, or any doubt: the whole schema is built
        return ModelsKeys(whole)


def _table_keys(
    identity: list[Any], filters: Filters, recorded: list[tuple[str, Any]]
) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Each table's key, and the tables each one's foreign keys refer to."""
    tables = _kept_tables(filters)
    owned = _statements_by_owner(recorded)
    named = [owner for owner in owned if owner[0] == "type"]
    uses = {
        table.name: _named_objects(table) | _named_in(owned.get(("table", table.name), []), named)
        for table in tables
    }
    references = {table.name: _referred_tables(table) for table in tables}
    claimed = {("table", name) for name in uses} | {used for objects in uses.values() for used in objects}
    if set(owned) - claimed or any(not referred <= uses.keys() for referred in references.values()):
        raise _NoTableKeys  # a statement no table owns, or a foreign key to a table not built
    keys = {
        name: _digest(
            [*identity, name, owned.get(("table", name), []), [owned.get(o, []) for o in sorted(uses[name])]]
        )
        for name in sorted(uses)
    }
    return keys, references


class _NoTableKeys(Exception):
    """A table whose statements cannot be told apart from the others'."""


def _digest(identity: list[Any]) -> str:
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()


def _kept_tables(filters: Filters) -> list[sa.Table]:
    """The tables autogenerate looks at, which ``create_all`` makes: each in the default schema (the
    one a models' database is reflected in), each name once."""
    tables = [table for metadata in filters.metadatas for table in _kept(metadata, filters)]
    if any(table.schema is not None for table in tables) or len({t.name for t in tables}) < len(tables):
        raise _NoTableKeys
    return tables


def _kept(metadata: sa.MetaData, filters: Filters) -> list[sa.Table]:
    return [t for t in metadata.tables.values() if filters.keeps("table", t.name, None, False)]


def _statements_by_owner(recorded: list[tuple[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """Each object's statements, sorted: a table's (``("table", name)``), a named type's or
    sequence's (``("type", name)``)."""
    owned: dict[tuple[str, str], list[str]] = {}
    for statement, element in recorded:
        owned.setdefault(_owner(element), []).append(statement)
    return {owner: sorted(statements) for owner, statements in owned.items()}


def _owner(ddl: Any) -> tuple[str, str]:
    """What a statement ``create_all`` issued makes: a table's own (its creation, an index, a
    constraint added after it, a comment, a DDL event's statement against it), or a named type or
    sequence."""
    element = getattr(ddl, "element", None)
    if isinstance(element, sa.Column | sa.Index | sa.Constraint):
        element = element.table  # a constraint on no table raises: nobody's
    target = getattr(ddl, "target", None)  # a DDL(...) event's statement: what it runs against
    for table in (element, target):
        if isinstance(table, sa.Table) and table.schema is None:
            return ("table", table.name)
    if isinstance(element, sa.Sequence | sa.types.SchemaType) and getattr(element, "name", None):
        return ("type", str(element.name))
    raise _NoTableKeys


def _named_objects(table: sa.Table) -> set[tuple[str, str]]:
    """The named types (an enum's, a domain's; in arrays, decorated types and variants too) and the
    sequences a table's columns hold: their statements make the table's shape too (``_named_in``
    finds the ones only its statements show)."""
    found = set()
    for column in table.columns:
        types = [column.type]
        while types:
            type_ = types.pop()
            name = getattr(type_, "name", None)
            if isinstance(type_, sa.types.SchemaType) and name:
                found.add(("type", str(name)))
            for attribute in ("item_type", "impl", "impl_instance"):
                inner = getattr(type_, attribute, None)
                if isinstance(inner, sa.types.TypeEngine) and inner is not type_:
                    types.append(inner)
            for attribute in ("_variant_mapping", "mapping"):  # SQLAlchemy 2's variants, 1.4's
                variants = getattr(type_, attribute, None)
                if isinstance(variants, dict):
                    types += [inner for inner in variants.values() if isinstance(inner, sa.types.TypeEngine)]
        if isinstance(column.default, sa.Sequence):
            found.add(("type", str(column.default.name)))
    return found


def _named_in(statements: list[str], named: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The named types and sequences a table's statements name, however its columns hold them (a
    type decorator that picks one per dialect, say): what the database reads of a table names them."""
    text = "\n".join(statements)
    words = set(re.findall(r"[\w$]+", text))
    return {
        owner for owner in named if owner[1] in words or (not owner[1].isidentifier() and owner[1] in text)
    }


def _referred_tables(table: sa.Table) -> frozenset[str]:
    """The tables a table's foreign keys refer to, which must be made for it to be made."""
    try:
        return frozenset(key.column.table.name for key in table.foreign_keys) - {table.name}
    except Exception:  # a reference that does not resolve: the build will say
        raise _NoTableKeys from None


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


def _recorded(filters: Filters, engine: Engine) -> list[tuple[str, Any]]:
    """Every statement ``create_all`` issues for the tables autogenerate looks at, compiled for the
    engine's dialect (on a fresh database: no existence checks), with the DDL element it came from."""
    recorded: list[tuple[str, Any]] = []

    def record(sql: Any, *multiparams: Any, **params: Any) -> None:
        recorded.append((str(sql.compile(dialect=engine.dialect)), sql))

    recorder = sa.create_mock_engine(engine.url, record)
    for metadata in filters.metadatas:
        metadata.create_all(recorder, tables=_kept(metadata, filters), checkfirst=False)
    return recorded


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
    """The newest ``KEEP`` schemas kept (the tables' shapes have their own bound)."""
    schemas = [path for path in folder.glob("*.json") if path != _tables_file()]
    files = sorted(schemas, key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in files[KEEP:]:
        stale.unlink(missing_ok=True)
