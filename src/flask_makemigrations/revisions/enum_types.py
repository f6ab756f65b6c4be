"""PostgreSQL's enum types, which autogenerate handles only inside ``CREATE TABLE``.

Alembic's ``create_table`` creates a table's enum types (through SQLAlchemy's events), but
``add_column`` does not, no downgrade drops them, and a changed list of values is not seen at all
(alembic#278 and its duplicates). Unless alembic-postgresql-enum is loaded (``env.py`` imports it,
and its own comparators write all of this), the new revision:

- creates, with ``checkfirst``, each enum type that a new column needs and the database lacks, just
  before the operation that needs it;
- drops, at the end of ``downgrade()``, each enum type it created (nothing older uses it);
- and each type whose values differ between the models and the database is reported, with the
  ``ALTER TYPE`` statements to write where there are such statements.
"""

import re
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from ..described import Described
from .operations import flatten

#: Loaded, it writes the enum operations itself.
ENUM_LIBRARY = "alembic_postgresql_enum"


class EnumTypeOp(ops.MigrateOperation):
    """Create (or drop) one enum type if it is missing (or there), as the revision writes it."""

    def __init__(self, enum: sa.Enum, create: bool = True):
        self.enum = enum
        self.create = create

    def reverse(self) -> "EnumTypeOp":
        return EnumTypeOp(self.enum, not self.create)

    def describe(self) -> Described:
        """Its line among the operations (``operations.describe``)."""
        sign, kind = ("+", "create_enum_type") if self.create else ("-", "drop_enum_type")
        return Described(f"{sign} enum type {self.enum.name}", kind, type=self.enum.name)


@renderers.dispatch_for(EnumTypeOp)
def _render(autogen_context: AutogenContext, op: EnumTypeOp) -> str:
    prefix = autogen_context.opts.get("sqlalchemy_module_prefix") or ""
    alembic = autogen_context.opts.get("alembic_module_prefix") or ""
    schema = f", schema={op.enum.schema!r}" if op.enum.schema else ""
    enum = f"{prefix}Enum({', '.join(map(repr, op.enum.enums))}, name={op.enum.name!r}{schema})"
    return f"{enum}.{'create' if op.create else 'drop'}({alembic}get_bind(), checkfirst=True)"


def applies(context: MigrationContext) -> bool:
    return context.dialect.name == "postgresql" and ENUM_LIBRARY not in sys.modules


#: The database's enum types, by ``schema.name``, with their values in order (``existing``).
EnumTypes = dict[str, list[str]]


def add_enum_types(
    context: MigrationContext, existing: EnumTypes, upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps
) -> None:
    """Create the enum types the upgrade's new columns need before them, and drop the types it
    creates (``create_table`` too) at the end of the downgrade."""
    created: dict[str, sa.Enum] = {}
    kept: list[ops.MigrateOperation] = []
    for top in upgrade.ops:
        for enum, by_table in _new_enums(top):
            key = _key(enum, context)
            if key not in existing and key not in created:
                created[key] = enum
                if not by_table:
                    kept.append(EnumTypeOp(enum))
        kept.append(top)
    upgrade.ops[:] = kept
    downgrade.ops.extend(EnumTypeOp(enum, create=False) for enum in reversed(created.values()))


def changed_values(context: MigrationContext, existing: EnumTypes, metadata: Any) -> list[Described]:
    """A warning for each enum type of the models whose values differ from the database's."""
    warnings, seen = [], set()
    for enum in _model_enums(metadata):
        key = _key(enum, context)
        if key in seen or key not in existing or list(enum.enums) == existing[key]:
            continue
        seen.add(key)
        warnings.append(_changed(enum, existing[key]))
    return warnings


def _changed(enum: sa.Enum, database: list[str]) -> Described:
    wanted = list(enum.enums)
    shown = f"enum type {enum.name}: the models have ({', '.join(map(repr, wanted))}), the database " + (
        f"({', '.join(map(repr, database))}), and autogenerate does not change an enum type's values"
    )
    statements = _additions(enum, database)
    if statements is not None:
        write = "; ".join(f"op.execute({statement!r})" for statement in statements)
        text = f"{shown}: add {write} to upgrade()"
    else:
        text = (
            f"{shown}: removing, renaming or reordering values needs the type rebuilt (ALTER TYPE ... RENAME "
            "VALUE for a rename); alembic-postgresql-enum, imported in env.py, writes these"
        )
        write = None
    return Described(text, "enum_values_changed", type=enum.name, write=write)


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


def _qualified(enum: sa.Enum) -> str:
    names = [enum.schema, enum.name] if enum.schema else [enum.name]
    return ".".join(_identifier(str(name)) for name in names)


def _identifier(name: str) -> str:
    """As PostgreSQL reads it: quoted unless it is a plain lower-case name (it folds the others)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def existing(context: MigrationContext) -> EnumTypes:
    """The database's enum types, by ``schema.name``, with their values in order: listed once per
    engine, for both uses."""
    inspector: Any = sa.inspect(context.connection)  # PostgreSQL's, which has get_enums()
    return {f"{found['schema']}.{found['name']}": list(found["labels"]) for found in inspector.get_enums("*")}


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
