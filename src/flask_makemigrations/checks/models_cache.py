"""The models' schema, reused by content: verification builds a database from the models and reflects
it, and most runs do so for models that did not change.

The schema that ``create_all`` gives is a function of the statements it runs, of the database that
runs them (its kind, driver and server version) and of the code that reflects and normalizes it. So
the key hashes exactly those: every statement ``create_all`` would issue for the tables
autogenerate looks at (events included: they run through the same recording engine), the dialect,
SQLAlchemy's version and the source of ``schema.py`` and the backend's module. A reflected schema
under that key is reused; an ``include_object`` filter in ``env.py`` is code the key cannot see, so
such runs build it every time, as does any doubt (a file that does not load).
"""

import contextlib
import hashlib
import inspect
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ..shadow.backends import for_dialect
from ..shadow.snapshots import user_cache_dir
from . import schema
from .schema import Filters, Schema

#: Changes when what is stored changes shape.
FORMAT = 1


def cached_models_schema(
    filters: Filters, dialect: Dialect, build: Callable[[], Schema], enabled: bool = True
) -> Schema:
    """The models' schema for ``dialect``: from the cache when the key is known, else ``build()``
    (then kept)."""
    key = models_key(filters, dialect) if enabled else None
    if key is None:
        return build()
    path = models_folder() / f"{key}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        found = pickle.loads(path.read_bytes())
        if isinstance(found, dict):
            return found
    built = build()
    with contextlib.suppress(OSError):
        _write(path, pickle.dumps(built))
    return built


def models_folder(root: Path | None = None) -> Path:
    """Where the models' schemas are kept: one file per key, beside the projects' snapshot folders."""
    return (root or user_cache_dir()) / "models"


def models_key(filters: Filters, dialect: Dialect) -> str | None:
    """The content key of the models' schema, or None where it cannot be known (``include_object``)."""
    if filters.include_object is not None:
        return None
    try:
        statements = _create_all_statements(filters, dialect)
    except Exception:  # what the recording engine cannot compile, the real build will say
        return None
    code = [
        Path(inspect.getfile(module)).read_bytes().hex() for module in (schema, for_dialect(dialect.name))
    ]
    identity = [
        FORMAT,
        sa.__version__,
        dialect.name,
        dialect.driver,
        list(dialect.server_version_info or ()),
        filters.version_table,
        statements,
        hashlib.sha256("".join(code).encode()).hexdigest(),
    ]
    return hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()


def _create_all_statements(filters: Filters, dialect: Dialect) -> list[str]:
    """Every statement ``create_all`` issues for the tables autogenerate looks at, compiled for
    ``dialect`` (on a fresh database: no existence checks)."""
    statements: list[str] = []

    def record(sql: Any, *multiparams: Any, **params: Any) -> None:
        statements.append(str(sql.compile(dialect=dialect)))

    recorder = sa.create_mock_engine(sa.engine.URL.create(dialect.name), record)
    for metadata in filters.metadatas:
        kept = [t for t in metadata.tables.values() if filters.keeps("table", t.name, None, False)]
        metadata.create_all(recorder, tables=kept, checkfirst=False)
    return statements


def _write(path: Path, data: bytes) -> None:
    """Written aside, then renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
