"""The library internals and version differences the tool relies on, in one place to review when
Alembic or SQLAlchemy change. Each says why the public API does not serve and since when it holds;
the rest of the package uses the libraries' public API only.
"""

import functools
import os
import re
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import alembic
import flask
import sqlalchemy
from alembic import util as alembic_util
from alembic.autogenerate import render as alembic_render
from alembic.autogenerate import render_python_code, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations import ops
from alembic.runtime.migration import RevisionStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import TypeEngine

from .run.requirements import release

# -- version differences ----------------------------------------------------------------------------

#: Alembic 1.11 added the quiet messaging option (``Config.messaging_opts`` reads ``cmd_opts.quiet``);
#: older versions print "Generating <path> ... done" straight to stdout whatever the options say.
ALEMBIC_HAS_QUIET = hasattr(Config, "messaging_opts")


#: Alembic renders ``alter_column``'s ``new_column_name`` since 1.10 or so (autogenerate never finds a
#: rename, so nothing said when); 1.9 leaves it out, writing an alter_column that does nothing. Asked of
#: Alembic's own public renderer rather than of its version.
ALEMBIC_RENDERS_COLUMN_RENAME = "new_column_name" in render_python_code(
    ops.UpgradeOps([ops.AlterColumnOp("t", "a", modify_name="b")])
)


#: Alembic 1.19 renders ``create_check_constraint`` (it added CHECK constraints to autogenerate); before,
#: its renderer for ``CreateCheckConstraintOp`` raises NotImplementedError.
ALEMBIC_RENDERS_CHECK_CREATION = tuple(int(part) for part in alembic.__version__.split(".")[:2]) >= (1, 19)


#: SQLAlchemy 1.4's PostgreSQL dialect reflects an enum type's values in the order of their oids, not
#: the type's (``enumsortorder``): wrong after ``ADD VALUE ... BEFORE``. 2.0 reads them in order.
SQLALCHEMY_ENUM_VALUES_BY_OID = int(sqlalchemy.__version__.split(".")[0]) < 2


#: Alembic 1.16 marks the names of the constraints and indexes it reflects as final (``conv``, rendered
#: through ``op.f()``); before, they render as plain strings. With SQLAlchemy 1.4 it misses the tables
#: another table's reflection pulled in through a foreign key.
ALEMBIC_MARKS_REFLECTED_NAMES = tuple(int(part) for part in alembic.__version__.split(".")[:2]) >= (1, 16)


def alembic_option(config: Config, name: str) -> str | None:
    """One of Alembic's own options (``revision_environment``, ...): since 1.16 read with
    ``get_alembic_option``, which also looks in ``pyproject.toml``; before, a main option."""
    read = getattr(config, "get_alembic_option", config.get_main_option)
    return read(name)


# -- Alembic internals -------------------------------------------------------------------------------


def rendered_check_creation(autogen_context: AutogenContext, op: ops.CreateCheckConstraintOp) -> str:
    """``op`` as Alembic 1.19 renders it, for the versions before, which cannot (see
    ``ALEMBIC_RENDERS_CHECK_CREATION``): the name through ``op.f()`` when a naming convention made it,
    the table and schema unless in batch mode (``AutogenContext._has_batch``), the SQL as a string.
    The helpers are the ones Alembic's other renderers use, as 1.9 spells them."""
    in_batch = autogen_context._has_batch
    arguments = [repr(alembic_render._render_gen_name(autogen_context, op.constraint_name))]
    if not in_batch:
        arguments.append(repr(alembic_render._ident(op.table_name)))
    sqltext = op.to_constraint().sqltext  # as SQL, the way Alembic renders it: a string
    arguments.append(repr(autogen_context.migration_context.impl.render_ddl_sql_expr(sqltext)))
    if not in_batch and op.schema:
        arguments.append(f"schema={alembic_render._ident(op.schema)!r}")
    prefix = alembic_render._alembic_autogenerate_prefix(autogen_context)
    return f"{prefix}create_check_constraint({', '.join(arguments)})"


def rendered_column_rename(autogen_context: AutogenContext, op: ops.AlterColumnOp) -> str:
    """``alter_column`` with ``new_column_name``, for the Alembic versions whose renderer leaves the
    new name out (``ALEMBIC_RENDERS_COLUMN_RENAME``): Alembic's own rendering of the rest (the prefix,
    batch mode, ``existing_*``), with the new name put after the column's."""
    dialect = autogen_context.migration_context.impl.__dialect__
    rendered = str(renderers.dispatch(ops.AlterColumnOp, dialect)(autogen_context, op))
    # The column's name is the last positional argument: what follows it is a line break or the end.
    at = re.search(re.escape(repr(op.column_name)) + r"(?=,\n|\)$)", rendered)
    if at is None:  # a rendering of another shape: nothing to add the name to safely
        raise NotImplementedError(f"cannot render the rename of {op.column_name} with this Alembic")
    return f"{rendered[: at.end()]}, new_column_name={op.modify_name!r}{rendered[at.end() :]}"


def rendered_table_rename(autogen_context: AutogenContext, op: ops.RenameTableOp) -> str:
    """``op.rename_table(old, new)``: Alembic has the operation but no autogenerate renderer for it (it
    never detects a rename). The prefix (``op.``, or what ``env.py`` configures) comes from the helper
    Alembic's other renderers use."""
    prefix = alembic_render._alembic_autogenerate_prefix(autogen_context)
    schema = f", schema={op.schema!r}" if op.schema else ""
    return f"{prefix}rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"


def upgrade_steps(
    script: ScriptDirectory, destination: str, current: tuple[str, ...]
) -> Iterable[RevisionStep]:
    """The steps ``alembic.command.upgrade`` takes, on the revisions already loaded.

    The command itself reads every revision file again, and verification runs several per revision:
    a long history would be read hundreds of times. ``ScriptDirectory._upgrade_revs`` is what the
    command's own ``env.py`` callback calls, unchanged since Alembic 1.0.
    """
    # ignore: Alembic annotates current_rev as one str, but its MigrationContext hands the callback the
    # database's heads, a tuple (get_current_heads()), which iterate_revisions takes.
    return script._upgrade_revs(destination, current)  # type: ignore[arg-type]


def downgrade_steps(
    script: ScriptDirectory, destination: str, current: tuple[str, ...]
) -> Iterable[RevisionStep]:
    """As :func:`upgrade_steps`, for ``alembic.command.downgrade`` (``_downgrade_revs``, since 1.0)."""
    # ignore: as in upgrade_steps, Alembic annotates current_rev as str | None; it receives the heads tuple.
    return script._downgrade_revs(destination, current)  # type: ignore[arg-type]


def revision_command_arguments(
    message: str, autogenerate: bool, rev_id: str | None, version_path: str
) -> dict[str, Any]:
    """The arguments ``alembic.command.revision`` hands ``RevisionContext`` (public, but its
    ``command_args`` are documented only as "the command's arguments"): the command's defaults for
    what ``makemigrations`` does not offer. Unchanged from Alembic 1.0 to 1.20."""
    return dict(
        message=message,
        autogenerate=autogenerate,
        rev_id=rev_id,
        version_path=version_path,
        head="head",  # on the single head
        splice=False,
        branch_label=None,
        depends_on=None,
        sql=False,
    )


def raised_by_post_write_hook(exc: BaseException) -> bool:
    """Whether a post-write hook raised ``exc``: Alembic runs the hooks right after writing the file
    and raises their failure as a plain ``CommandError``; only the frames of its ``write_hooks``
    module tell it apart (``alembic/script/write_hooks.py``, since 1.2)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return any(Path(frame.filename).stem == "write_hooks" for frame in frames)


def every_revision(script: ScriptDirectory) -> list[Script]:
    """Every revision of the history, whatever its id.

    ``walk_revisions`` resolves ids through Alembic's revision syntax, so a revision whose id is a
    symbol (``base``, ``heads``) makes it fail with a bare ``AssertionError`` before anything could
    name the file to fix. ``RevisionMap._revision_map`` (id or branch label -> revision, ``None`` for
    base) is what the public methods read; it has had that shape in every release since 1.0.
    """
    found = {r.revision: r for r in script.revision_map._revision_map.values() if isinstance(r, Script)}
    return list(found.values())


#: Loads one revision file: given its path and Alembic's own import of it, returns its module.
RevisionLoader = Callable[[Path, Callable[[], ModuleType]], ModuleType]


@contextmanager
def revision_files_loaded_by(load: RevisionLoader) -> Iterator[None]:
    """While Alembic builds a revision map inside this block, it loads each revision file through
    ``load``, which may answer with a module of its own instead of importing the file.

    ``ScriptDirectory`` imports every file to read the five names its graph needs, and offers no way
    to do it otherwise. The file it has chosen (by its rules: version locations, source or compiled
    files, duplicates) goes to ``alembic.util.load_python_file(dir, filename)``, called through the
    ``alembic.util`` module by ``Script._from_filename`` (until 1.15) and ``Script._from_path``
    (since 1.16) alike. The substitute is the process's while the block runs: the tool builds the map
    in its one thread, and a run is one command.
    """
    original = alembic_util.load_python_file

    def substitute(dir_: str | os.PathLike[str], filename: str | os.PathLike[str]) -> ModuleType:
        return load(Path(dir_) / filename, lambda: original(dir_, filename))

    alembic_util.load_python_file = substitute
    try:
        yield
    finally:
        alembic_util.load_python_file = original


def revision_id_of(path: Path, load: RevisionLoader | None = None) -> object:
    """The ``revision`` a revision file declares, its module loaded as Alembic loads it (through
    ``load``, which may answer from the file's known header, as above).

    ``ScriptDirectory`` reads ids only by building the graph of a whole folder, which fails when the
    files' parents are elsewhere: ``--against`` places in the graph only the target branch's files
    that differ from the working tree's, and needs their ids first (this branch's file wins for an
    id both have). ``alembic.util.load_python_file(dir, filename)`` is the loader ``Script`` uses,
    with that signature in every release since 1.0.
    """

    def imported() -> ModuleType:
        return alembic_util.load_python_file(str(path.parent), path.name)

    return getattr(load(path, imported) if load else imported(), "revision", None)


# -- SQLAlchemy internals ----------------------------------------------------------------------------


def variant_types(type_: TypeEngine[Any]) -> list[TypeEngine[Any]]:
    """The types ``with_variant`` gave a type, which Alembic renders beside it: SQLAlchemy 2.0 keeps
    them in ``_variant_mapping`` (no public accessor), 1.4's ``Variant`` in ``mapping``."""
    found = getattr(type_, "_variant_mapping", None) or getattr(type_, "mapping", None) or {}
    return [variant for variant in found.values() if isinstance(variant, TypeEngine)]


def type_affinity(type_: TypeEngine[Any]) -> type | None:
    """The generic type a column type belongs to (``String`` for ``VARCHAR(80)``, ``Integer`` for
    ``BIGINT``): ``TypeEngine._type_affinity``, what SQLAlchemy's own ``compare_type`` uses; it has
    no public equivalent (1.4 to 2.1)."""
    return type_._type_affinity


#: Answers one of a dialect's per-table reflection methods: given the method's name, the dialect's own
#: method (to ask the database), and the arguments it was called with.
TableReflection = Callable[[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]


@contextmanager
def table_reflection_answered_by(
    dialects: Iterable[Dialect], methods: Iterable[str], answer: TableReflection
) -> Iterator[None]:
    """While the block runs, each dialect's per-table reflection ``methods`` (``get_columns`` and the
    like) go through ``answer``, which may answer without asking the database.

    The Inspector offers no hook for this. It calls these methods on its dialect object: as
    ``self.dialect.get_columns(...)`` in SQLAlchemy 1.4, and in 2.0 and 2.1 through the bulk methods,
    whose default (all SQLite has) looks them up on the dialect instance. So an attribute of the
    instance overrides the class's method for that dialect alone, and is removed when the block ends.
    The dialects are the app's engines', which this run alone uses; nothing else reflects while
    autogenerate runs (the thread that builds the models' database runs during verification only).
    """
    patched: list[tuple[Dialect, str]] = []
    try:
        for dialect in dialects:
            for method in methods:
                asked = getattr(dialect, method, None)
                if asked is None or method in vars(dialect):
                    continue  # not in this version (get_table_options: 2.0), or answered by an outer block
                setattr(dialect, method, functools.partial(_answered, answer, method, asked))
                patched.append((dialect, method))
        yield
    finally:
        for dialect, method in patched:
            delattr(dialect, method)


def _answered(answer: TableReflection, method: str, asked: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    return answer(method, asked, args, kw)


def sqlite_type(dialect: Dialect, declared: str) -> TypeEngine[Any]:
    """The type SQLite's reflection gives a column declared as ``declared``:
    ``SQLiteDialect._resolve_type_affinity``, which ``get_columns`` applies to each column's declared
    type (1.4 to 2.1); no public API turns a type's name back into the type."""
    resolved: TypeEngine[Any] = dialect._resolve_type_affinity(declared)  # type: ignore[attr-defined]
    return resolved


def column_copy(column: "sqlalchemy.Column[Any]") -> "sqlalchemy.Column[Any]":
    """A copy of a column, to change (a one-off server default) without changing the models' own:
    ``Column.copy()`` is deprecated since SQLAlchemy 1.4, which left ``_copy()``, the one Alembic
    itself uses."""
    copied: sqlalchemy.Column[Any] = column._copy()
    return copied


# -- Flask-SQLAlchemy versions ----------------------------------------------------------------------

#: Flask-SQLAlchemy 2.x joins every SQLite database name but ``:memory:`` to the app's folder
#: (``apply_driver_hacks``), the ``file:`` name of a URI (``?uri=true``) too, which then names a file
#: there; 3.0 leaves a URI's name as it is. The in-memory shadow database is such a URI.
FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS = release(metadata.version("flask-sqlalchemy")) >= (3,)


def flask_sqlalchemy_engines(db: Any) -> dict[str | None, Engine]:
    """Every engine of the app in the current app context, by bind key (None: the main database).

    Flask-SQLAlchemy 3.0 makes them all in ``init_app`` and lists them in ``db.engines``; 2.x has no
    such list: ``get_engine(app, bind)`` makes each on first use (``_EngineConnector``), from the
    URL the app's configuration holds at that moment, for the main database and each key of
    ``SQLALCHEMY_BINDS``.
    """
    if hasattr(db, "engines"):
        return dict(db.engines)
    binds = flask.current_app.config.get("SQLALCHEMY_BINDS") or {}
    return {bind: db.get_engine(bind=bind) for bind in [None, *binds]}


def flask_sqlalchemy_engines_made(state: Any) -> list[Engine]:
    """The engines the app made so far, from what ``app.extensions["sqlalchemy"]`` holds, in the
    current app context: 3.0 keeps the ``SQLAlchemy`` object there (``engines``); 2.x a state whose
    ``connectors`` hold each engine made on first use (``_EngineConnector._engine``), which asking
    ``get_engine`` would make just to close."""
    if hasattr(state, "engines"):
        return list(state.engines.values())
    connectors = getattr(state, "connectors", {}).values()
    return [engine for engine in (getattr(c, "_engine", None) for c in connectors) if engine is not None]


def flask_sqlalchemy_metadatas(db: Any) -> dict[str | None, MetaData]:
    """The models' metadata of each bind key.

    Flask-SQLAlchemy 3.0 keeps one MetaData per bind (``db.metadatas``); 2.x keeps every table in one
    (``db.metadata``), each bind's marked by ``info["bind_key"]``. There, an app without binds is
    that MetaData itself, and one with binds is given a copy per bind, as Flask-Migrate's own
    multi-database ``env.py`` builds them for 2.x (``get_metadata(bind)``), with the naming convention.
    """
    if hasattr(db, "metadatas"):
        return dict(db.metadatas)
    metadata: MetaData = db.metadata
    keys = {None, *(table.info.get("bind_key") for table in metadata.tables.values())}
    if keys == {None}:
        return {None: metadata}
    copies = {key: MetaData(naming_convention=metadata.naming_convention) for key in keys}
    for table in metadata.tables.values():
        table.to_metadata(copies[table.info.get("bind_key")])
    return copies


def ignore_flask_sqlalchemy_deprecations() -> None:
    """Let the run's filters hide Flask-SQLAlchemy 2.x's deprecation warnings, as they hide the other
    libraries' (inside the run's ``warnings.catch_warnings()``, before the app loads).

    Flask-SQLAlchemy 2.x, when imported, puts ``simplefilter("always", FSADeprecationWarning)`` first
    among the process's filters, so its warnings pass every filter after it: the run's and the
    interpreter's. Every app of that era gets one from ``init_app`` (``SQLALCHEMY_TRACK_MODIFICATIONS``
    not set), on stderr at each run. Imported first here, an ``ignore`` goes in front of that filter.
    3.0 has neither the category nor the filter.
    """
    import flask_sqlalchemy

    category = getattr(flask_sqlalchemy, "FSADeprecationWarning", None)
    if category is not None:
        warnings.filterwarnings("ignore", category=category)


# -- Flask internals ---------------------------------------------------------------------------------


def loaded_flask_app(info: object) -> object | None:
    """The app Flask's ``ScriptInfo`` already imported for this ``flask`` command line, if any.

    ``flask makemigrations`` must not reuse an app that was imported with the developer's own URL.
    ``ScriptInfo.load_app()`` would import it, so only its cache says whether that happened:
    ``ScriptInfo._loaded_app``, set by ``load_app`` in every Flask the matrix runs (2.0 on).
    """
    return getattr(info, "_loaded_app", None)
