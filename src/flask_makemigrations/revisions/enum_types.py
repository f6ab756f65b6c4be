"""PostgreSQL's enum types, which autogenerate handles only inside ``CREATE TABLE``.

Alembic's ``create_table`` creates a table's enum types (through SQLAlchemy's events), but
``add_column`` does not, no downgrade drops them, and a changed list of values is not seen at all
(alembic#278 and its duplicates). Unless alembic-postgresql-enum is loaded (``env.py`` imports it,
and its own comparators write all of this), the new revision:

- creates, with ``checkfirst``, each enum type that a new column needs and the database lacks, just
  before the operation that needs it;
- drops, at the end of ``downgrade()``, each enum type it created (nothing older uses it);
- adds the values the models add to a type (``ALTER TYPE ... ADD VALUE``), and its downgrade
  rebuilds the type with the values it had; other changes of values (removed, renamed, reordered)
  need the type rebuilt, and verification lists them as differences.
"""

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from ..dialects import impl_for
from ..findings import Finding
from .operations import flatten
from .rewriter import Rewriter

#: Loaded, it writes the enum operations itself.
ENUM_LIBRARY = "alembic_postgresql_enum"


class EnumTypeOp(ops.MigrateOperation):
    """Create (or drop) one enum type if it is missing (or there), as the revision writes it."""

    def __init__(self, enum: sa.Enum, create: bool = True):
        self.enum = enum
        self.create = create

    def reverse(self) -> "EnumTypeOp":
        return EnumTypeOp(self.enum, not self.create)

    def describe(self) -> Finding:
        """Its line among the operations (``operations.describe``)."""
        sign, kind = ("+", "create_enum_type") if self.create else ("-", "drop_enum_type")
        return Finding(f"{sign} enum type {self.enum.name}", kind, type=self.enum.name)


@renderers.dispatch_for(EnumTypeOp)
def _render(autogen_context: AutogenContext, op: EnumTypeOp) -> str:
    prefix = autogen_context.opts.get("sqlalchemy_module_prefix") or ""
    alembic = autogen_context.opts.get("alembic_module_prefix") or ""
    schema = f", schema={op.enum.schema!r}" if op.enum.schema else ""
    enum = f"{prefix}Enum({', '.join(map(repr, op.enum.enums))}, name={op.enum.name!r}{schema})"
    return f"{enum}.{'create' if op.create else 'drop'}({alembic}get_bind(), checkfirst=True)"


def applies(context: MigrationContext) -> bool:
    return impl_for(context.dialect.name).enum_types and ENUM_LIBRARY not in sys.modules


#: The database's enum types, by ``schema.name``, with their values in order (``existing``).
EnumTypes = dict[str, list[str]]


class NewEnumTypes:
    """The enum types an upgrade's new columns need and the database lacks, found operation by
    operation (a rewrite, ``rewriter``): each is created just before the first operation that needs
    it (``create_table`` creates its own), and dropped at the end of the downgrade (``drops``)."""

    def __init__(self, context: MigrationContext, existing: EnumTypes):
        self.context = context
        self.existing = existing
        self.created: dict[str, sa.Enum] = {}  # by ``schema.name``, in the upgrade's order
        self.rewriter = Rewriter()
        self.rewriter.rewrites(ops.CreateTableOp, ops.ModifyTableOps, ops.AddColumnOp, ops.AlterColumnOp)(
            self.created_before
        )

    def created_before(self, op: ops.MigrateOperation) -> list[ops.MigrateOperation]:
        """``op``, after the creation of each enum type it is the first to need."""
        creations: list[ops.MigrateOperation] = []
        for enum, by_table in _new_enums(op):
            key = _key(enum, self.context)
            if key not in self.existing and key not in self.created:
                self.created[key] = enum
                if not by_table:
                    creations.append(EnumTypeOp(enum))
        return [*creations, op]

    def drops(self) -> list[ops.MigrateOperation]:
        """The types the upgrade created, dropped in the reverse order."""
        return [EnumTypeOp(enum, create=False) for enum in reversed(self.created.values())]


class EnumValuesOp(ops.MigrateOperation):
    """Add values to an enum type (``ALTER TYPE ... ADD VALUE``, outside a transaction: PostgreSQL
    before 12 refuses it inside one, and none uses a new value in the transaction that added it);
    reversed, rebuild the type with the values it had (PostgreSQL cannot drop a value), each column
    that uses it converted through text, its default set again."""

    def __init__(self, enum: sa.Enum, database: list[str], columns: list["UsingColumn"], adding: bool = True):
        self.enum = enum
        self.database = database  # the values the migrations give it, in order
        self.columns = columns
        self.adding = adding

    def reverse(self) -> "EnumValuesOp":
        return EnumValuesOp(self.enum, self.database, self.columns, not self.adding)

    def describe(self) -> Finding:
        """Its line among the operations (``operations.describe``)."""
        added = [value for value in self.enum.enums if value not in self.database]
        line = f"~ enum type {self.enum.name} (values added: {', '.join(map(repr, added))})"
        return Finding(line, "alter_enum_type", type=self.enum.name, values=added)

    def statements(self) -> list[str]:
        if self.adding:
            return _additions(self.enum, self.database) or []
        old = _qualified(self.enum, f"{self.enum.name}_old")
        new, values = _qualified(self.enum), ", ".join(map(_literal, self.database))
        rebuilt = [f"ALTER TYPE {new} RENAME TO {_identifier(f'{self.enum.name}_old')}"]
        rebuilt.append(f"CREATE TYPE {new} AS ENUM ({values})")
        for column in self.columns:
            altered = f"ALTER TABLE {column.table} ALTER COLUMN {column.name}"
            rebuilt += [f"{altered} DROP DEFAULT"] if column.default is not None else []
            rebuilt.append(f"{altered} TYPE {new} USING {column.name}::text::{new}")
            rebuilt += [f"{altered} SET DEFAULT {column.default}"] if column.default is not None else []
        return [*rebuilt, f"DROP TYPE {old}"]


@dataclass(frozen=True)
class UsingColumn:
    """A column of an enum type, as SQL names it: its table (qualified), its name, its default."""

    table: str
    name: str
    default: str | None


@renderers.dispatch_for(EnumValuesOp)
def _render_values(autogen_context: AutogenContext, op: EnumValuesOp) -> list[str]:
    alembic = autogen_context.opts.get("alembic_module_prefix") or ""
    executed = [f"{alembic}execute({statement!r})" for statement in op.statements()]
    if not op.adding:
        return executed
    return [f"with {alembic}get_context().autocommit_block():", *executed, ""]


def add_values(
    context: MigrationContext, existing: EnumTypes, upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps
) -> None:
    """Add the values each enum type of the models adds to the database's, first in the upgrade (what
    follows may use them), where only adding them makes it the same (other changes are differences
    verification lists: the type must be rebuilt); the downgrade rebuilds the type, last."""
    found: dict[str, EnumValuesOp] = {}
    for enum in _model_enums(context.opts.get("target_metadata")):
        key = _key(enum, context)
        if key in found or key not in existing or list(enum.enums) == existing[key]:
            continue
        if _additions(enum, existing[key]) is not None:
            found[key] = EnumValuesOp(enum, existing[key], _using(context, key))
    upgrade.ops[:0] = found.values()
    downgrade.ops.extend(op.reverse() for op in reversed(found.values()))


def _using(context: MigrationContext, key: str) -> list[UsingColumn]:
    """The columns of the type ``key`` (``schema.name``) in the database, with their defaults."""
    schema, name = key.split(".", 1)
    rows = context.connection.execute(  # type: ignore[union-attr]  # autogenerate has a connection
        sa.text(
            "SELECT n.nspname, c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE tn.nspname = :schema AND t.typname = :name AND c.relkind = 'r' "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2, 3"
        ),
        {"schema": schema, "name": name},
    )
    return [
        UsingColumn(f"{_identifier(table_schema)}.{_identifier(table)}", _identifier(column), default)
        for table_schema, table, column, default in rows
    ]


def _additions(enum: sa.Enum, database: list[str]) -> list[str] | None:
    """``ALTER TYPE ... ADD VALUE`` for each new value, if the database's values keep their order in
    the models' (else None: values were removed, renamed or reordered)."""
    wanted = list(enum.enums)
    if [value for value in wanted if value in database] != database:
        return None
    statements = []
    for index, value in enumerate(wanted):
        if value in database:
            continue
        following = next((later for later in wanted[index + 1 :] if later in database), None)
        where = f" BEFORE {_literal(following)}" if following is not None else ""
        statements.append(f"ALTER TYPE {_qualified(enum)} ADD VALUE {_literal(value)}{where}")
    return statements


def _qualified(enum: sa.Enum, name: str | None = None) -> str:
    names = [enum.schema, name or enum.name] if enum.schema else [name or enum.name]
    return ".".join(_identifier(str(name)) for name in names)


def _identifier(name: str) -> str:
    """As PostgreSQL reads it: quoted unless it is a plain lower-case name (it folds the others)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def existing(context: MigrationContext) -> EnumTypes:
    """The database's enum types, by ``schema.name``, with their values in order: listed once per
    engine, for both uses. Read in the type's order (SQLAlchemy 1.4's ``get_enums`` lists them by oid,
    wrong after ``ADD VALUE ... BEFORE``)."""
    return impl_for(context.dialect.name).enum_labels(context.connection)  # type: ignore[arg-type]  # autogenerate has a connection


def _key(enum: sa.Enum, context: MigrationContext) -> str:
    return f"{enum.schema or context.dialect.default_schema_name}.{enum.name}"


def _native(type_: Any) -> sa.Enum | None:
    """A type that is a PostgreSQL enum type which SQLAlchemy would create (not ``create_type=False``)."""
    if (
        isinstance(type_, sa.Enum)
        and type_.native_enum
        and type_.name
        and getattr(type_, "create_type", True)
    ):
        return type_
    return None


def _new_enums(op: ops.MigrateOperation) -> Iterator[tuple[sa.Enum, bool]]:
    """The enum types an operation's new columns need, each with whether ``create_table`` creates it."""
    for leaf in flatten([op]):
        if isinstance(leaf, ops.CreateTableOp):
            for column in leaf.columns:
                found = _native(getattr(column, "type", None))
                if found is not None:
                    yield found, True
            continue
        if isinstance(leaf, ops.AddColumnOp):
            found = _native(leaf.column.type)
        elif isinstance(leaf, ops.AlterColumnOp):
            found = _native(leaf.modify_type)
        else:
            continue
        if found is not None:
            yield found, False


def _model_enums(metadata: Any) -> Iterator[sa.Enum]:
    metadatas = (
        metadata if isinstance(metadata, (list, tuple)) else [metadata] if metadata is not None else []
    )
    for each in metadatas:
        for table in each.tables.values():
            for column in table.columns:
                found = _native(column.type)
                if found is not None:
                    yield found
