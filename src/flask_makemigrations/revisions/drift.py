"""Operations for the differences verification finds and autogenerate does not write.

Verification compares the migrated schema with one built from the models (``checks/schema.py``, the
one source of differences). Some differences have an Alembic operation: a server default
(``alter_column``), and a CHECK constraint only in the models (``create_check_constraint``) or only
in the migrations (``drop_constraint``). For those, the revision is generated again with the
operations added (``generation.generate``'s ``drift``) and verified again, so a run without drift
pays nothing, and what the operations write is proven like the rest of the revision. What has no
operation stays a difference, listed for a hand edit.

Each operation's downgrade puts back what the migrations had, as the shadow database reflects it.
SQLite alters a table only by copying it, which Alembic does in batch mode: there, without
``render_as_batch``, no operation is written. Alembic renders ``create_check_constraint`` since 1.19;
before, this module registers the rendering (``CheckCreation``).
"""

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import conv

from ..checks.new_revision import MIGRATIONS, MODELS
from ..compat import ALEMBIC_RENDERS_CHECK_CREATION, rendered_check_creation
from ..dialects import impl_for
from ..findings import Finding
from ..run.binds import BindKey
from .completion import Drift, DriftOperation
from .generation import EngineChanges, Generated


class CheckCreation(ops.CreateCheckConstraintOp):
    """``create_check_constraint``, rendered by this package where Alembic cannot (before 1.19)."""


@renderers.dispatch_for(CheckCreation)
def _render_check_creation(autogen_context: AutogenContext, op: CheckCreation) -> str:
    return rendered_check_creation(autogen_context, op)


#: What writes a CHECK constraint's creation: Alembic's own operation wherever Alembic renders it.
_CHECK_CREATION = ops.CreateCheckConstraintOp if ALEMBIC_RENDERS_CHECK_CREATION else CheckCreation


def drift_operations(
    differences: Iterable[str], generated: Generated, engines: dict[BindKey, Engine]
) -> Drift:
    """The operations that write ``differences`` (verification's, on the shadow databases as they
    are now), by bind; empty when none has one."""
    by_bind = {engine.bind: engine for engine in generated.engines if engine.bind in engines}
    found: Drift = {}
    for difference in differences:
        if not isinstance(difference, Finding):
            continue
        changes = by_bind.get(difference.fields.get("bind"))
        if changes is None or not _alters_tables(changes):
            continue
        operation = _operation(difference, _metadatas(changes), engines[changes.bind])
        if operation is not None:
            found.setdefault(changes.bind, []).append(operation)
    return found


def _alters_tables(changes: EngineChanges) -> bool:
    """SQLite changes a column or a constraint only in batch mode (a copy of the table)."""
    return impl_for(changes.dialect.name).alters_in_place or bool(changes.context_opts.get("render_as_batch"))


def _metadatas(changes: EngineChanges) -> list[sa.MetaData]:
    metadata = changes.context_opts.get("target_metadata")
    if isinstance(metadata, (list, tuple)):
        return list(metadata)
    return [metadata] if metadata is not None else []


def _operation(difference: Finding, metadatas: list[sa.MetaData], engine: Engine) -> DriftOperation | None:
    fields = difference.fields
    if difference.kind == "column" and fields.get("aspect") == "server default":
        return _server_default(fields["table"], fields["column"], metadatas, engine)
    objects = fields.get("objects") or []
    if difference.kind == "check_constraint" and len(objects) == 2:
        table, name = objects
        if fields.get("only_in") == MODELS:
            return _create_check(table, name, metadatas)
        if fields.get("only_in") == MIGRATIONS:
            return _drop_check(table, name, engine)
    return None


def _server_default(
    table: str, column: str, metadatas: list[sa.MetaData], engine: Engine
) -> DriftOperation | None:
    """``alter_column`` to the models' server default; its downgrade, back to the migrations'."""
    model = _model_column(metadatas, table, column)
    if model is None:
        return None
    wanted = model.server_default
    if wanted is not None and (type(wanted) is not sa.DefaultClause or wanted.for_update):
        return None  # a computed column, an identity, a value the database fills: no alter_column
    reflected = _reflected_columns(engine, table)
    if column not in reflected:
        return None
    text = reflected[column].get("default")
    # As SQL, the way the migrations' database has it ('active'::character varying).
    existing = None if text is None else sa.DefaultClause(sa.text(str(text)))

    def altered(to: Any, from_: Any) -> ops.ModifyTableOps:
        change = ops.AlterColumnOp(
            table,
            column,
            modify_server_default=to,
            existing_server_default=from_,
            existing_type=model.type,
            existing_nullable=model.nullable,
        )
        return ops.ModifyTableOps(table, [change])

    return altered(wanted, existing), altered(existing, wanted)


def _reflected_columns(engine: Engine, table: str) -> dict[str, Any]:
    """The table's columns on the shadow database, as the migrations made them, by name."""
    with engine.connect() as connection:
        return {column["name"]: column for column in sa.inspect(connection).get_columns(table)}


def _create_check(table: str, name: str, metadatas: list[sa.MetaData]) -> DriftOperation | None:
    constraint = next(
        (
            c
            for c in _model_constraints(metadatas, table)
            if isinstance(c, sa.CheckConstraint) and c.name is not None and str(c.name) == name
        ),
        None,
    )
    if constraint is None:
        return None
    created = _CHECK_CREATION.from_constraint(constraint)
    dropped = ops.DropConstraintOp(created.constraint_name, table, type_="check")
    return ops.ModifyTableOps(table, [created]), ops.ModifyTableOps(table, [dropped])


def _drop_check(table: str, name: str, engine: Engine) -> DriftOperation | None:
    with engine.connect() as connection:
        checks = sa.inspect(connection).get_check_constraints(table)
    sqltext = next((str(c["sqltext"]) for c in checks if c.get("name") == name), None)
    if sqltext is None:
        return None
    sqltext = impl_for(engine.dialect.name).reflected_check(sqltext)
    named = conv(name)  # the database's name: no naming convention applies to it again
    dropped = ops.DropConstraintOp(named, table, type_="check")
    created = _CHECK_CREATION(named, table, sa.text(sqltext))
    return ops.ModifyTableOps(table, [dropped]), ops.ModifyTableOps(table, [created])


def _model_tables(metadatas: list[sa.MetaData], table: str) -> Iterator[sa.Table]:
    return (metadata.tables[table] for metadata in metadatas if table in metadata.tables)


def _model_column(metadatas: list[sa.MetaData], table: str, column: str) -> sa.Column[Any] | None:
    return next((t.c[column] for t in _model_tables(metadatas, table) if column in t.c), None)


def _model_constraints(metadatas: list[sa.MetaData], table: str) -> Iterator[sa.Constraint]:
    for found in _model_tables(metadatas, table):
        yield from found.constraints
